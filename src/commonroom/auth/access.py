"""Who may sign in and who is an administrator, the same for every authenticator.

Pure: the rules read only the identity and the configuration, so each refusal has one reason to give.
"""

from __future__ import annotations

from collections.abc import Iterable

from commonroom.auth.base import AuthenticationError, Identity
from commonroom.auth.names import normalize
from commonroom.config.models import AuthConfig

NOT_ALLOWED = "Your account is not on this hub's list of people who may sign in. Ask its administrators for access."
BLOCKED = "Your account is blocked from this hub. Ask its administrators if you think this is a mistake."


def _names(values: Iterable[str]) -> set[str]:
    return {normalize(v) for v in values}


def check_allowed(identity: Identity, config: AuthConfig) -> None:
    """Raise AuthenticationError (with a reason for the person) unless the identity may sign in."""
    if identity.name in _names(config.blocked_users):
        raise AuthenticationError(BLOCKED)
    if not config.allowed_users and not config.allowed_groups:
        return
    if identity.name in _names(config.allowed_users) or identity.name in _names(config.admin_users):
        return
    if set(identity.groups) & (set(config.allowed_groups) | set(config.admin_groups)):
        return
    raise AuthenticationError(NOT_ALLOWED)


def admin_flag(identity: Identity, config: AuthConfig) -> bool | None:
    """True/False to set the admin flag, None to keep what the database has."""
    if identity.name in _names(config.admin_users):
        return True
    if config.admin_groups and config.authenticator != "native":
        return bool(set(identity.groups) & set(config.admin_groups))
    return identity.admin
