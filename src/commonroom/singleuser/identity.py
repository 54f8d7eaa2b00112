"""Who is making a request, as the hub sees it, and whether they may use this server.

jupyter_server asks an IdentityProvider for the user of every request and an Authorizer whether that user
may act. Both answer from the hub: a token from the Authorization header, from the URL (websockets only,
where browsers cannot send headers) or from our signed cookie is resolved through the hub's /user, and a
request is allowed when the identity's scopes grant any of JUPYTERHUB_OAUTH_ACCESS_SCOPES.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, NamedTuple

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.identity import IdentityProvider, User
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from tornado import web
from tornado.httputil import HTTPServerRequest
from traitlets import default

from commonroom.singleuser import environment
from commonroom.singleuser.hubapi import HubAPI, HubError
from commonroom.singleuser.oauth import (
    STATE_LIFETIME,
    PendingLogin,
    PendingLogins,
    authorize_url,
    safe_next_url,
    state_cookie_name,
)
from commonroom.singleuser.signin import LoginHandler, LogoutHandler, OAuthCallbackHandler
from commonroom.singleuser.tokencache import TokenCache

_AUTH_HEADER = re.compile(r"^(?:token|bearer)\s+(\S+)\s*$", re.IGNORECASE)


@dataclass
class HubUser(User):
    """A jupyter_server user that remembers what the hub says it may do."""

    kind: str = "user"
    scopes: tuple[str, ...] = ()


class Credential(NamedTuple):
    token: str
    source: Literal["header", "url", "cookie"]


def granted(required: Iterable[str], held: Iterable[str]) -> set[str]:
    """The required scopes that held scopes satisfy.

    A scope is satisfied by itself, or by the same scope without a filter: an admin's plain access:servers
    grants access:servers!server=alice/.
    """
    have = set(held)
    return {scope for scope in required if scope in have or scope.partition("!")[0] in have}


def hub_user(model: dict[str, Any]) -> HubUser:
    """A HubUser from the hub's /user answer."""
    name = model["name"]
    display_name = model.get("display_name") or name
    return HubUser(
        username=name,
        name=name,
        display_name=display_name,
        kind=str(model.get("kind", "user")),
        scopes=tuple(sorted(str(s) for s in model["scopes"])),
    )


def is_websocket(request: HTTPServerRequest) -> bool:
    headers = request.headers
    return "websocket" in (headers.get("Sec-Fetch-Mode", "").lower(), headers.get("Upgrade", "").lower())


class HubIdentityProvider(IdentityProvider):
    """Signs people in through the hub's OAuth and checks their access scopes on every request."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.env = environment.current()
        self.hub = HubAPI(self.env.api_url, self.env.api_token)
        # Only the owner's identity is kept: people the server is shared with are checked on every request.
        self.identities: TokenCache[HubUser] = TokenCache(self._ask_hub, keep=lambda user: user.name == self.env.user)
        self.logins = PendingLogins()

    @default("token")
    def _no_token(self) -> str:
        """jupyter_server's own token stays empty: every credential comes from the hub."""
        return ""

    def get_cookie_name(self, handler: web.RequestHandler) -> str:
        """Our login cookie, for extensions that still ask jupyter_server which cookie signs people in."""
        return self.env.client_id

    def credential(self, handler: web.RequestHandler) -> Credential | None:
        """The token a request carries, and where it came from; the header wins over the URL over the cookie."""
        explicit = self._explicit_token(handler)
        if explicit is not None:
            return explicit
        cookie = handler.get_signed_cookie(self.env.client_id)
        return Credential(cookie.decode("utf-8", "replace"), "cookie") if cookie else None

    async def get_user(self, handler: web.RequestHandler) -> User | None:
        """The hub's user for this request, or None; what happens without a user is decided in _login_url."""
        refusal: web.HTTPError | None = None
        try:
            user = await self._user_for(handler, self.credential(handler))
        except web.HTTPError as exc:
            user, refusal = None, exc
        if user is None:
            # tornado asks get_login_url where to send a request without a user; ours knows why there is none.
            handler.get_login_url = partial(self._login_url, handler, refusal)  # type: ignore[method-assign]
        return user

    def may_access(self, user: HubUser) -> bool:
        return bool(granted(self.env.access_scopes, user.scopes))

    def is_token_authenticated(self, handler: web.RequestHandler) -> bool:
        """Requests with an explicit token skip the XSRF and origin checks that protect cookie sessions."""
        return self._explicit_token(handler) is not None and handler.current_user is not None

    def start_login(self, handler: web.RequestHandler, next_url: str) -> str:
        """Remember a new login (in memory and in a state cookie) and return the hub URL that begins it."""
        cookie_name = state_cookie_name(self.env.client_id, handler.request.cookies)
        login = self.logins.start(safe_next_url(next_url, self.env), cookie_name)
        lifetime = {"expires_days": None, "max_age": int(STATE_LIFETIME)}
        handler.set_signed_cookie(cookie_name, login.state, **{**self._cookie_args(handler), **lifetime})
        return authorize_url(self.env, login)

    def finish_login(self, handler: web.RequestHandler, state: str) -> PendingLogin:
        """The login a callback completes; 403 unless this browser started it in the last ten minutes.

        A state is used up only when the cookie matches, so a forged callback cannot spoil a real login.
        """
        login = self.logins.find(state)
        if login is None:
            raise web.HTTPError(
                403, f"This sign-in expired or was already used. Open {self.env.prefix} to sign in again."
            )
        cookie = handler.get_signed_cookie(login.cookie_name, max_age_days=1)
        if cookie is None or cookie.decode("utf-8", "replace") != state:
            raise web.HTTPError(
                403, "This sign-in was started in another browser. Sign in again from this one."
            )
        self.logins.finish(state)
        handler.clear_cookie(login.cookie_name, **self._cookie_args(handler))
        return login

    def set_login_token(self, handler: web.RequestHandler, token: str) -> None:
        handler.set_signed_cookie(self.env.client_id, token, **self._cookie_args(handler))

    def clear_login_cookie(self, handler: web.RequestHandler) -> None:
        handler.clear_cookie(self.env.client_id, **self._cookie_args(handler))

    def get_handlers(self) -> list[tuple[str, object]]:
        return [
            ("/login", LoginHandler),
            ("/logout", LogoutHandler),
            ("/oauth_callback", OAuthCallbackHandler),
        ]

    def validate_security(self, app: Any, ssl_options: dict[str, Any] | None = None) -> None:
        """Nothing to warn about: every request is checked with the hub."""

    def _explicit_token(self, handler: web.RequestHandler) -> Credential | None:
        match = _AUTH_HEADER.match(handler.request.headers.get("Authorization", ""))
        if match:
            return Credential(match.group(1), "header")
        if self.env.allow_token_in_url or is_websocket(handler.request):
            url_token = handler.get_query_argument("token", "")
            if url_token:
                return Credential(url_token, "url")
        return None

    async def _user_for(self, handler: web.RequestHandler, credential: Credential | None) -> HubUser | None:
        """The user a credential belongs to; None when there is none or the hub rejects it.

        Raises HTTPError when there is a user we must turn away, or the hub cannot be asked; get_user keeps
        that for the moment tornado decides the request needs a user, so public pages still load.
        """
        if credential is None:
            return None
        try:
            user = await self.identities.get(credential.token)
        except HubError as exc:
            self.log.error("Could not ask the hub who is signed in: %s", exc)
            raise web.HTTPError(503, "The hub did not answer who you are. Try again in a moment.") from None
        if user is None:
            if credential.source == "cookie":
                self.clear_login_cookie(handler)
            return None
        if not self.may_access(user):
            self.log.warning("%s %s lacks the scopes to use this server", user.kind, user.username)
            raise web.HTTPError(403, self._not_yours(user))
        return user

    async def _ask_hub(self, token: str) -> HubUser | None:
        model = await self.hub.whoami(token)
        return None if model is None else hub_user(model)

    def _login_url(self, handler: web.RequestHandler, refusal: web.HTTPError | None) -> str:
        if refusal is not None:
            raise refusal
        if isinstance(handler, APIHandler) or not isinstance(handler, JupyterHandler):
            raise web.HTTPError(
                403, "Not signed in: send 'Authorization: token <token>' or sign in through the hub."
            )
        return self.start_login(handler, handler.request.uri or self.env.prefix)

    def _cookie_args(self, handler: web.RequestHandler) -> dict[str, Any]:
        args: dict[str, Any] = {"path": self.env.prefix, "httponly": True}
        if handler.request.protocol == "https":
            args["secure"] = True
        args.update(self.env.cookie_options)
        return args

    def _not_yours(self, user: HubUser) -> str:
        server = f"{self.env.user}'s server" + (f" {self.env.server_name!r}" if self.env.server_name else "")
        return (
            f"This is {server}. You are signed in as {user.username}, who may not use it. "
            f"Your own server is at {self.env.hub_host}{self.env.hub_prefix}home; to switch accounts, "
            f"sign out at {self.env.hub_host}{self.env.prefix}logout."
        )


class HubAuthorizer(Authorizer):
    """Allows an action when the user holds the access scopes; the IdentityProvider already refuses others,
    and this second check keeps handlers that consult only the Authorizer just as safe."""

    def is_authorized(self, handler: JupyterHandler, user: User, action: str, resource: str) -> bool:
        provider = self.identity_provider
        return (
            isinstance(user, HubUser)
            and isinstance(provider, HubIdentityProvider)
            and provider.may_access(user)
        )
