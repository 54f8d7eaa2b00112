"""OpenID Connect (and plain OAuth2, for providers such as GitHub): authorization code flow with PKCE.

The hub keeps state, nonce and the PKCE verifier in a short-lived signed cookie (see pages/login.py), checks
the state on return, exchanges the code, validates the ID token's signature against the provider's JWKS and its
iss, aud, exp and nonce claims, merges the userinfo claims, and maps the claims to a user name and groups.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from commonroom.auth.base import AuthenticationError, Identity, RedirectAuthenticator
from commonroom.auth.secrets import same
from commonroom.config.models import AuthConfig, OIDCConfig

log = logging.getLogger(__name__)

STALE = "This sign-in attempt has expired or was already used. Start again from the sign-in page."
PROVIDER_DOWN = "The hub cannot reach the sign-in service right now. Try again in a minute."
BAD_TOKEN = "The sign-in service's answer could not be verified, so you were not signed in. Try again."
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
_NOT_NAME = re.compile(r"[^a-z0-9._-]")


@dataclass(frozen=True)
class Endpoints:
    authorization: str
    token: str
    userinfo: str = ""
    jwks_uri: str = ""
    issuer: str = ""


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def validate_id_token(token: str, jwks: Mapping[str, Any], issuer: str, client_id: str, nonce: str) -> dict[str, Any]:
    """The ID token's claims once its signature (a key of the JWKS) and iss, aud, exp and nonce are right.

    Raises AuthenticationError otherwise; the precise reason goes to the log."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        keys = [k for k in jwt.PyJWKSet.from_dict(dict(jwks)).keys if kid is None or k.key_id == kid]
        if not keys:
            raise jwt.InvalidTokenError(f"no key {kid!r} in the provider's JWKS")
        claims: dict[str, Any] = jwt.decode(
            token, keys[0], algorithms=ALGORITHMS, audience=client_id, issuer=issuer, leeway=60,
            options={"require": ["iss", "aud", "exp", "iat", "sub"]},
        )  # fmt: skip
    except (jwt.PyJWTError, ValueError) as exc:
        log.warning("ID token refused: %s", exc)
        raise AuthenticationError(BAD_TOKEN) from exc
    if not same(str(claims.get("nonce", "")), nonce):
        log.warning("ID token refused: nonce does not match this sign-in")
        raise AuthenticationError(BAD_TOKEN)
    return claims


def name_from_claim(value: object) -> str:
    """A hub user name from a provider's claim: lowercase, other characters than [a-z0-9._-] become '-'."""
    return _NOT_NAME.sub("-", str(value).strip().lower())


def groups_from_claim(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return ()


def identity_from_claims(claims: Mapping[str, Any], settings: OIDCConfig, tokens: Mapping[str, Any]) -> Identity:
    """Map the claims to a user name and groups, after the required claims were checked."""
    for claim, wanted in settings.required_claims.items():
        if str(claims.get(claim, "")) != wanted:
            raise AuthenticationError(
                f"Your account at the sign-in service is not one this hub accepts ({claim} must be {wanted!r})."
            )
    raw = claims.get(settings.username_claim)
    if not raw:
        raise AuthenticationError(
            f"The sign-in service did not say who you are (no '{settings.username_claim}' claim). "
            "Ask the hub's administrators to check auth.oidc.username_claim."
        )
    groups = groups_from_claim(claims.get(settings.groups_claim)) if settings.groups_claim else ()
    state = {k: tokens[k] for k in ("access_token", "refresh_token", "id_token", "token_type", "scope") if k in tokens}
    if "expires_in" in tokens:
        state["expires_at"] = int(time.time()) + int(tokens["expires_in"])
    return Identity(name=name_from_claim(raw), groups=groups, auth_state={**state, "claims": dict(claims)})


class OIDCAuthenticator(RedirectAuthenticator):
    display_name = "OpenID Connect"
    preset: Mapping[str, Any] = {}
    """Settings a preset fixes unless the configuration sets them."""
    fixed_endpoints: Endpoints | None = None
    """For OAuth2-only providers: the endpoints, instead of a discovery document."""

    def __init__(self, config: AuthConfig) -> None:
        super().__init__(config)
        given = config.oidc.model_fields_set
        self.settings = config.oidc.model_copy(update={k: v for k, v in self.preset.items() if k not in given})
        self._endpoints: Endpoints | None = None
        self._jwks: dict[str, Any] | None = None

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self.settings.timeout, headers={"Accept": "application/json"})

    async def _get_json(self, url: str, token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            async with self._client() as client:
                response = await client.get(url, headers=headers)
                response.raise_for_status()
                return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("OIDC request to %s failed: %s", url, exc)
            raise AuthenticationError(PROVIDER_DOWN) from exc

    async def endpoints(self) -> Endpoints:
        if self.fixed_endpoints is not None:
            return self.fixed_endpoints
        if self._endpoints is None:
            issuer = self.settings.issuer.rstrip("/")
            doc = await self._get_json(f"{issuer}/.well-known/openid-configuration")
            self._endpoints = Endpoints(doc["authorization_endpoint"], doc["token_endpoint"],
                                        doc.get("userinfo_endpoint", ""), doc.get("jwks_uri", ""), doc["issuer"])  # fmt: skip
        return self._endpoints

    async def login_url(self, redirect_uri: str, saved: dict[str, str]) -> str:
        where = await self.endpoints()
        verifier, challenge = pkce_pair()
        saved.update(state=secrets.token_urlsafe(24), nonce=secrets.token_urlsafe(24), verifier=verifier,
                     redirect_uri=redirect_uri)  # fmt: skip
        params = {
            "response_type": "code", "client_id": self.settings.client_id, "redirect_uri": redirect_uri,
            "scope": " ".join(self.settings.scopes), "state": saved["state"], "nonce": saved["nonce"],
            "code_challenge": challenge, "code_challenge_method": "S256", **self.settings.extra_params,
        }  # fmt: skip
        return f"{where.authorization}?{urlencode(params)}"

    async def callback(self, db: AsyncSession, params: Mapping[str, str], saved: Mapping[str, str]) -> Identity:
        if params.get("error"):
            reason = params.get("error_description") or params["error"]
            raise AuthenticationError(f"The sign-in service did not sign you in: {reason}")
        if not saved.get("state") or not same(params.get("state", ""), saved["state"]) or not params.get("code"):
            raise AuthenticationError(STALE)
        where = await self.endpoints()
        tokens = await self._token_request({"grant_type": "authorization_code", "code": params["code"],
                                            "redirect_uri": saved["redirect_uri"], "code_verifier": saved["verifier"]})  # fmt: skip
        claims: dict[str, Any] = {}
        if where.jwks_uri:
            if "id_token" not in tokens:
                raise AuthenticationError(BAD_TOKEN)
            jwks = await self._signing_keys(tokens["id_token"], where.jwks_uri)
            claims = validate_id_token(tokens["id_token"], jwks, where.issuer, self.settings.client_id, saved["nonce"])
        if where.userinfo and self.settings.userinfo:
            info = await self._get_json(where.userinfo, tokens["access_token"])
            if claims and info.get("sub") not in (None, claims["sub"]):
                raise AuthenticationError(BAD_TOKEN)
            claims.update(info)
        claims = await self.extra_claims(tokens, claims)
        return identity_from_claims(claims, self.settings, tokens)

    async def _signing_keys(self, id_token: str, jwks_uri: str) -> dict[str, Any]:
        """The provider's JWKS, fetched again when the token names a key it did not have (keys rotate)."""
        try:
            kid = jwt.get_unverified_header(id_token).get("kid")
        except jwt.PyJWTError:
            kid = None
        known = {k.get("kid") for k in (self._jwks or {}).get("keys", [])}
        if self._jwks is None or (kid and kid not in known):
            self._jwks = await self._get_json(jwks_uri)
        return self._jwks

    async def extra_claims(self, tokens: Mapping[str, Any], claims: dict[str, Any]) -> dict[str, Any]:
        """Presets add what the provider does not put in claims (GitHub's organisations)."""
        return claims

    async def _token_request(self, data: dict[str, str]) -> dict[str, Any]:
        where = await self.endpoints()
        try:
            async with self._client() as client:
                response = await client.post(where.token, data=data,
                                             auth=(self.settings.client_id, self.settings.client_secret))  # fmt: skip
            tokens = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("OIDC token request failed: %s", exc)
            raise AuthenticationError(PROVIDER_DOWN) from exc
        if response.status_code != 200 or "access_token" not in tokens:
            log.warning("OIDC token request refused (%s): %s", response.status_code, tokens)
            raise AuthenticationError(STALE)
        return dict(tokens)

    async def refresh(self, auth_state: Mapping[str, Any]) -> Mapping[str, Any] | None:
        if not self.settings.refresh_before_spawn or not auth_state.get("refresh_token"):
            return None
        if int(auth_state.get("expires_at", 0)) > time.time() + 60:
            return None
        tokens = await self._token_request({"grant_type": "refresh_token", "refresh_token": auth_state["refresh_token"]})
        fresh = {**auth_state, **{k: v for k, v in tokens.items() if k != "expires_in"}}
        if "expires_in" in tokens:
            fresh["expires_at"] = int(time.time()) + int(tokens["expires_in"])
        return fresh
