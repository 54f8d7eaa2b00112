"""The authenticator plugin interface: turn what a person submitted into who they are.

Small on purpose: one required method. The hub owns sessions, throttling, approval and the database;
an authenticator only answers "who is this?" (and, for native accounts, manages passwords).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from commonroom.config.models import AuthConfig
from commonroom.plugins import load_plugin


@dataclass(frozen=True)
class Identity:
    """A successful sign-in."""

    name: str
    admin: bool | None = None
    """True/False to set the admin flag; None to leave it as the database has it."""
    groups: tuple[str, ...] = ()
    auth_state: Mapping[str, Any] = field(default_factory=dict)


class AuthenticationError(Exception):
    """Sign-in refused; the message is shown to the person and says why in plain words."""


class Authenticator(ABC):
    def __init__(self, config: AuthConfig) -> None:
        self.config = config

    @abstractmethod
    async def authenticate(self, db: AsyncSession, form: Mapping[str, str]) -> Identity:
        """Check the submitted sign-in form (at least `username` and `password`).

        Return the Identity, or raise AuthenticationError with a message for the person.
        """


class RedirectAuthenticator(Authenticator):
    """An authenticator that signs people in at an identity provider (OpenID Connect, OAuth2).

    The hub calls login_url when the person presses "Sign in with ...", keeps `saved` in a short-lived signed
    cookie, and calls callback with the query parameters the provider sent back to {hub}oauth_callback.
    authenticate (the form) is refused: there is no password form.
    """

    display_name = "your organisation"

    async def authenticate(self, db: AsyncSession, form: Mapping[str, str]) -> Identity:
        raise AuthenticationError(f"This hub signs people in through {self.display_name}; use the button.")

    @abstractmethod
    async def login_url(self, redirect_uri: str, saved: dict[str, str]) -> str:
        """The provider's authorization URL. Put what callback must check (state, nonce, PKCE verifier) in
        `saved`; the hub gives it back to callback unchanged or not at all."""

    @abstractmethod
    async def callback(self, db: AsyncSession, params: Mapping[str, str], saved: Mapping[str, str]) -> Identity:
        """Finish the sign-in from the provider's redirect. Raise AuthenticationError, with a reason for the
        person, on a mismatched state, a refused or invalid token, or a provider error."""

    async def refresh(self, auth_state: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """New auth state when the stored tokens are expired and can be refreshed; None to keep them."""
        return None


def load_authenticator_class(name: str) -> type[Authenticator]:
    return load_plugin("commonroom.authenticators", name, Authenticator, "auth.authenticator")
