"""The three pages of browser sign-in: start a login, come back from the hub with a code, and sign out.

They are public (allow_unauthenticated) because they are how a person without a cookie gets one; each
does the least it can and leaves the decisions to the HubIdentityProvider.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import JupyterHandler
from tornado import web

from commonroom.singleuser.hubapi import HubError

if TYPE_CHECKING:
    from commonroom.singleuser.identity import HubIdentityProvider


class _SignInHandler(JupyterHandler):
    @property
    def provider(self) -> HubIdentityProvider:
        """The launcher refuses to start with any other identity provider."""
        return cast("HubIdentityProvider", self.identity_provider)


class LoginHandler(_SignInHandler):
    """{prefix}login?next=...: where handlers outside jupyter_server's own send people to sign in."""

    @allow_unauthenticated
    def get(self) -> None:
        self.redirect(self.provider.start_login(self, self.get_argument("next", "")))


class OAuthCallbackHandler(_SignInHandler):
    """{prefix}oauth_callback: trade the hub's code for a token and keep it in our cookie."""

    @allow_unauthenticated
    async def get(self) -> None:
        error = self.get_argument("error", "")
        if error:
            reason = self.get_argument("error_description", "") or error
            raise web.HTTPError(403, f"The hub did not sign you in: {reason}")
        login = self.provider.finish_login(self, self.get_argument("state", ""))
        env = self.provider.env
        try:
            token = await self.provider.hub.exchange_code(
                client_id=env.client_id,
                code=self.get_argument("code", ""),
                redirect_uri=env.callback_url,
                verifier=login.verifier,
            )
        except HubError as exc:
            self.log.error("Sign-in failed: %s", exc)
            raise web.HTTPError(403, f"{exc}. Open {env.prefix} to sign in again.") from None
        self.provider.set_login_token(self, token)
        self.redirect(login.next_url)


class LogoutHandler(_SignInHandler):
    """{prefix}logout: forget this server's cookie, then sign out of the hub too."""

    @allow_unauthenticated
    def get(self) -> None:
        credential = self.provider.credential(self)
        if credential is not None:
            self.provider.identities.forget(credential.token)
        self.provider.clear_login_cookie(self)
        env = self.provider.env
        self.redirect(f"{env.hub_host}{env.hub_prefix}logout")
