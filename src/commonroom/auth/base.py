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


def load_authenticator_class(name: str) -> type[Authenticator]:
    return load_plugin("commonroom.authenticators", name, Authenticator, "auth.authenticator")
