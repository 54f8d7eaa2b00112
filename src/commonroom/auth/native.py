"""Native accounts: people sign up with a user name and password kept (argon2-hashed) in the hub database.

Sign-ups wait for an administrator's approval unless auth.open_signup is set.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commonroom.auth.base import AuthenticationError, Authenticator, Identity
from commonroom.auth.names import name_problem, normalize
from commonroom.auth.passwords import hash_password, policy_problem, verify_password
from commonroom.db.models import User

WRONG = "Wrong user name or password. Check both and try again."


class SignupError(ValueError):
    """A sign-up that cannot be accepted; the message says what to change."""


class NativeAuthenticator(Authenticator):
    async def authenticate(self, db: AsyncSession, form: Mapping[str, str]) -> Identity:
        name = normalize(form.get("username", ""))
        user = (await db.execute(select(User).where(User.name == name))).scalar_one_or_none()
        if not await verify_password(user.password_hash if user else None, form.get("password", "")) or user is None:
            raise AuthenticationError(WRONG)
        if not user.approved:
            raise AuthenticationError(
                "Your account is waiting for an administrator's approval. You can sign in once it is approved."
            )
        return Identity(name=user.name)

    async def sign_up(self, db: AsyncSession, username: str, password: str, *, admin: bool = False) -> User:
        """Create an account, approved when sign-up is open or the account is an administrator's."""
        name = normalize(username)
        problem = name_problem(name) or await policy_problem(password, name, self.config.min_password_length)
        if problem:
            raise SignupError(problem)
        password_hash = await hash_password(password)  # before the first write, so no writer waits on the hash
        user = await add_user(db, name, admin=admin, approved=admin or self.config.open_signup)
        user.password_hash = password_hash
        return user


async def add_user(db: AsyncSession, username: str, *, admin: bool = False, approved: bool = True) -> User:
    """Create a user row after checking the name is valid and free."""
    name = normalize(username)
    problem = name_problem(name)
    if problem:
        raise SignupError(problem)
    if (await db.execute(select(User.id).where(User.name == name))).first():
        raise SignupError(f"The user name '{name}' is taken; choose another.")
    user = User(name=name, admin=admin, approved=approved, servers=[], groups=[], roles=[])
    db.add(user)
    await db.flush()
    return user
