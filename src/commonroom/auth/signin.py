"""What happens once an authenticator said who someone is: the allow/block/admin rules, the user row (made on
first sign-in for directory and provider accounts, matched by name), groups, and the encrypted auth state.

Every refusal is decided before anything is written, so a refused sign-in changes nothing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commonroom.auth.access import admin_flag, check_allowed
from commonroom.auth.base import AuthenticationError, Identity
from commonroom.auth.encryption import encrypt_json
from commonroom.auth.names import name_problem
from commonroom.config.models import AuthConfig
from commonroom.db.models import User

AWAITING = "Your account is waiting for an administrator's approval. You can sign in once it is approved."


async def accept(db: AsyncSession, identity: Identity, config: AuthConfig, key: str) -> User:
    """The user row for a successful sign-in, created if new; raise AuthenticationError if refused."""
    check_allowed(identity, config)
    user = (await db.execute(select(User).where(User.name == identity.name))).scalar_one_or_none()
    if user is None:
        problem = name_problem(identity.name)
        if problem:
            raise AuthenticationError(f"Your name from the sign-in service, '{identity.name}', cannot be used: {problem}")
        user = User(name=identity.name, admin=False, approved=True, user_info={})
        db.add(user)
    elif not user.approved:
        raise AuthenticationError(AWAITING)
    admin = admin_flag(identity, config)
    if admin is not None:
        user.admin = admin
    if identity.groups:
        user.user_info = {**(user.user_info or {}), "groups": list(identity.groups)}
    if identity.auth_state:
        user.auth_state = encrypt_json(key, identity.auth_state)
    await db.flush()
    return user
