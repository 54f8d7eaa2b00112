"""A stand-in for the hub, only so the single-user extension can be tested alone.

It answers the five calls a single-user server makes to JupyterHub's API (the start-up GET of /hub/api,
OAuth authorize and token, whoami, and activity) the way the JupyterHub 6.1 protocol describes them, and
records what it was asked. It is not the hub: it has no sign-in, database or scopes of its own. The real hub
(commonroom.app) drives the single-user server end to end in the integration tests.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from tornado import web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from commonroom import JUPYTERHUB_COMPAT_VERSION


@dataclass
class ActivityPost:
    at: float
    user: str
    authorization: str
    body: dict[str, Any]


@dataclass
class HubState:
    api_token: str
    client_id: str
    identities: dict[str, dict[str, Any]] = field(default_factory=dict)
    """token -> the /user model the hub answers for it"""
    browser_identity: dict[str, Any] = field(default_factory=dict)
    """who is signed in at the hub when a browser is sent to authorize"""
    codes: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    """code -> (access token, PKCE challenge, redirect_uri)"""
    whoami_calls: int = 0
    activity: list[ActivityPost] = field(default_factory=list)


class _Handler(web.RequestHandler):
    def initialize(self, state: HubState) -> None:
        self.state = state

    def set_default_headers(self) -> None:
        self.set_header("X-JupyterHub-Version", JUPYTERHUB_COMPAT_VERSION)

    def reply(self, status: int, body: dict[str, Any]) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


class _Root(_Handler):
    def get(self) -> None:
        self.reply(200, {"version": JUPYTERHUB_COMPAT_VERSION})


class _Authorize(_Handler):
    def get(self) -> None:
        args = {
            name: self.get_argument(name) for name in ("client_id", "redirect_uri", "state", "code_challenge")
        }
        if (
            args["client_id"] != self.state.client_id
            or self.get_argument("response_type") != "code"
            or self.get_argument("code_challenge_method") != "S256"
        ):
            raise web.HTTPError(400)
        token = secrets.token_hex(16)
        self.state.identities[token] = self.state.browser_identity
        code = secrets.token_hex(8)
        self.state.codes[code] = (token, args["code_challenge"], args["redirect_uri"])
        self.redirect(args["redirect_uri"] + "?" + urlencode({"code": code, "state": args["state"]}))


class _Token(_Handler):
    def post(self) -> None:
        form = {name: self.get_body_argument(name, "") for name in (
            "client_id", "client_secret", "grant_type", "code", "redirect_uri", "code_verifier")}  # fmt: skip
        token, challenge, redirect_uri = self.state.codes.pop(form["code"], ("", "", ""))
        digest = hashlib.sha256(form["code_verifier"].encode()).digest()
        if (
            not token
            or form["client_id"] != self.state.client_id
            or form["client_secret"] != self.state.api_token
            or form["grant_type"] != "authorization_code"
            or form["redirect_uri"] != redirect_uri
            or base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != challenge
        ):
            self.reply(400, {"error": "invalid_grant"})
            return
        self.reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": ""})


class _Whoami(_Handler):
    def get(self) -> None:
        self.state.whoami_calls += 1
        scheme, _, token = self.request.headers.get("Authorization", "").partition(" ")
        identity = self.state.identities.get(token) if scheme.lower() == "token" else None
        if identity is None:
            self.reply(403, {"status": 403, "message": "Missing or invalid credentials."})
        else:
            self.reply(200, identity)


class _Activity(_Handler):
    def post(self, user: str) -> None:
        authorization = self.request.headers.get("Authorization", "")
        self.state.activity.append(
            ActivityPost(time.monotonic(), user, authorization, json.loads(self.request.body))
        )
        self.set_status(204)


class HubStandIn:
    """The stand-in, serving on 127.0.0.1 from a thread of the test process."""

    def __init__(self, api_token: str, client_id: str) -> None:
        self._sockets = bind_sockets(0, "127.0.0.1")
        self.port = int(self._sockets[0].getsockname()[1])
        self.state = HubState(api_token=api_token, client_id=client_id)
        self.api_url = f"http://127.0.0.1:{self.port}/hub/api"
        self._stopped: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)
        self._ready = threading.Event()

    def start(self) -> HubStandIn:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the hub stand-in did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(10)

    def add_token(self, name: str, scopes: list[str], kind: str = "user") -> str:
        token = secrets.token_hex(16)
        self.state.identities[token] = {"kind": kind, "name": name, "scopes": scopes}
        return token

    async def _serve(self) -> None:
        args = {"state": self.state}
        app = web.Application(
            [
                (r"/hub/api", _Root, args),
                (r"/hub/api/oauth2/authorize", _Authorize, args),
                (r"/hub/api/oauth2/token", _Token, args),
                (r"/hub/api/user", _Whoami, args),
                (r"/hub/api/users/([^/]+)/activity", _Activity, args),
            ]
        )
        server = HTTPServer(app)
        server.add_sockets(self._sockets)
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        self._ready.set()
        await self._stopped.wait()
        server.stop()
        await server.close_all_connections()
