"""What happens once an authenticator said who someone is: the allow/block/admin rules, the user row (made on
first sign-in for directory and provider accounts, matched by name), groups, and the encrypted auth state.

Every refusal is decided before anything is written, so a refused sign-in changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commonroom.auth import throttle
from commonroom.auth.access import admin_flag, check_allowed
from commonroom.auth.base import AuthenticationError, Authenticator, Identity, RedirectAuthenticator
from commonroom.auth.encryption import DecryptionError, decrypt_json, encrypt_json
from commonroom.auth.names import name_problem, normalize
from commonroom.config.models import AuthConfig
from commonroom.db.models import Group, User
from commonroom.servers.environment import auth_state_env
from commonroom.timeutil import utcnow
from commonroom.users import groups

log = logging.getLogger(__name__)

class SignInRefused(Exception):
    """A form sign-in that did not work; `status` is 429 while throttled, else 403."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


AWAITING = "Your account is waiting for an administrator's approval. You can sign in once it is approved."


async def accept(db: AsyncSession, identity: Identity, config: AuthConfig, key: str) -> User:
    """The user row for a successful sign-in, created if new; raise AuthenticationError if refused."""
    check_allowed(identity, config)
    user = (await db.execute(select(User).where(User.name == identity.name))).scalar_one_or_none()
    if user is None:
        problem = name_problem(identity.name)
        if problem:
            raise AuthenticationError(f"Your name from the sign-in service, '{identity.name}', cannot be used: {problem}")
        user = User(name=identity.name, admin=False, approved=True, user_info={}, servers=[], groups=[], roles=[])
        db.add(user)
    elif not user.approved:
        raise AuthenticationError(AWAITING)
    admin = admin_flag(identity, config)
    if admin is not None:
        user.admin = admin
    if identity.groups:
        user.user_info = {**(user.user_info or {}), "groups": list(identity.groups)}
    if config.manage_groups:
        user.groups = await groups.rows_named(db, Group, identity.groups, "create")
    if identity.auth_state:
        user.auth_state = encrypt_json(key, identity.auth_state)
    await db.flush()
    return user


async def with_form(
    db: AsyncSession, authenticator: Authenticator, config: AuthConfig, key: str, form: Mapping[str, str], address: str
) -> User:
    """A sign-in with a name and password (the login page, or a token request carrying {"auth": ...}).

    Throttled per account and per address; a failure is counted and committed, and nothing else changes. The
    caller decides about the second step (MFA) and records the success.
    """
    name = normalize(form.get("username", ""))
    until = await throttle.locked_until(db, name, address)
    if until is not None:
        wait = max(1, int((until - utcnow()).total_seconds()))
        raise SignInRefused(429, f"Too many failed sign-ins. Wait {wait} seconds, then try again.")
    try:
        return await accept(db, await authenticator.authenticate(db, form), config, key)
    except AuthenticationError as exc:
        await db.rollback()
        await throttle.record_failure(db, config.throttle, name, address)
        await db.commit()
        raise SignInRefused(403, str(exc)) from None


async def spawn_env(db: AsyncSession, user: User, authenticator: Authenticator, config: AuthConfig, key: str) -> dict[str, str]:
    """Environment for the person's server from their auth state, refreshed first when the authenticator can.

    A failed refresh is logged and the stored tokens are used as they are: the server still starts."""
    try:
        state = decrypt_json(key, user.auth_state)
    except DecryptionError:
        log.error("auth state of %s cannot be decrypted: was data_dir/encryption_key replaced?", user.name)
        return {}
    if state and isinstance(authenticator, RedirectAuthenticator):
        try:
            fresh = await authenticator.refresh(state)
        except AuthenticationError as exc:
            log.warning("refreshing the tokens of %s before a spawn failed: %s", user.name, exc)
            fresh = None
        if fresh is not None:
            state = dict(fresh)
            user.auth_state = encrypt_json(key, state)
    return auth_state_env(config.auth_state_env, state)
