"""The three calls a running single-user server makes to its hub: whoami, code-for-token and activity.

tornado's client is used because jupyter_server has already loaded it and runs on its loop; the hub is on
the local network, so a connection per call costs about a millisecond, and identities are cached anyway.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest, HTTPResponse

REQUEST_TIMEOUT = 20.0


class HubError(Exception):
    """The hub could not be reached or gave an answer we cannot use; the message says which."""


class HubAPI:
    """A client for the hub's REST API, authenticated as this server."""

    def __init__(self, api_url: str, api_token: str) -> None:
        self.api_url = api_url
        self._api_token = api_token

    async def whoami(self, token: str) -> dict[str, Any] | None:
        """The identity a token belongs to, with its `scopes`; None when the hub does not accept the token."""
        try:
            response = await self._fetch(self.api_url + "/user", token=token, rejected=(401, 403, 404))
        except _Rejected:
            return None
        model = _json(response)
        if not isinstance(model.get("name"), str) or not isinstance(model.get("scopes"), list):
            raise HubError(f"The hub's /user answer lacks a name or scopes: {sorted(model)}")
        return model

    async def exchange_code(self, *, client_id: str, code: str, redirect_uri: str, verifier: str) -> str:
        """Trade an authorization code for an access token (RFC 6749 4.1.3 with the PKCE verifier)."""
        form = {
            "client_id": client_id,
            "client_secret": self._api_token,
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        try:
            response = await self._fetch(
                self.api_url + "/oauth2/token",
                method="POST",
                body=urlencode(form),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                rejected=(400, 401, 403),
            )
        except _Rejected as exc:
            raise HubError(f"The hub refused the sign-in code: {exc}") from None
        token = _json(response).get("access_token")
        if not isinstance(token, str) or not token:
            raise HubError("The hub's token answer has no access_token")
        return token

    async def post_activity(self, url: str, body: Mapping[str, Any]) -> None:
        """Tell the hub when this server was last used."""
        await self._fetch(
            url,
            method="POST",
            body=json.dumps(body),
            headers={"Content-Type": "application/json"},
            token=self._api_token,
        )

    async def cull_status(self, url: str, keep_running: bool) -> dict[str, Any]:
        """When the hub's culler will stop this server (POST: keep it running, which counts as activity)."""
        method = "POST" if keep_running else "GET"
        return _json(await self._fetch(url, method=method, body="" if keep_running else None, token=self._api_token))

    async def _fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        body: str | None = None,
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
        rejected: tuple[int, ...] = (),
    ) -> HTTPResponse:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"token {token}"
        request = HTTPRequest(
            url, method=method, body=body, headers=all_headers, request_timeout=REQUEST_TIMEOUT
        )
        try:
            return await AsyncHTTPClient().fetch(request)
        except HTTPClientError as exc:
            detail = _error_text(exc.response)
            if exc.code in rejected:
                raise _Rejected(detail) from None
            raise HubError(f"{method} {url} answered HTTP {exc.code}: {detail}") from None
        except OSError as exc:
            raise HubError(f"{method} {url} failed: {exc}") from None


class _Rejected(Exception):
    """The hub understood the request and said no."""


def _json(response: HTTPResponse) -> dict[str, Any]:
    try:
        value = json.loads(response.body)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise HubError(f"{response.effective_url} did not answer with a JSON object")
    return value


def _error_text(response: HTTPResponse | None) -> str:
    if response is None or not response.body:
        return "no details"
    try:
        message = json.loads(response.body).get("message")
    except (ValueError, AttributeError):
        message = None
    return str(message) if message else response.body[:200].decode("utf-8", "replace")
