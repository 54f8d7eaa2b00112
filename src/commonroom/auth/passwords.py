"""Password hashing (argon2id via argon2-cffi) and the sign-up password policy.

Hashing and checking cost tens of milliseconds of CPU by design, so they run in a worker thread to keep the
event loop free. The policy rejects short passwords and those zxcvbn scores as guessable in seconds (common passwords, names,
keyboard walks, the user name itself), and says which rule failed so a person can pick a better one.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

_hasher = PasswordHasher()

# A real hash of a random password, verified against when the account doesn't exist so that a sign-in
# for a missing account takes as long as one for an existing account.
_DUMMY_HASH = _hasher.hash("commonroom-dummy-password-for-timing")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    return await asyncio.to_thread(_verify, password_hash, password)


async def policy_problem(password: str, username: str, min_length: int) -> str | None:
    """Why `password` is not acceptable, or None when it is."""
    return await asyncio.to_thread(_policy_problem, password, username, min_length)


def _policy_problem(password: str, username: str, min_length: int) -> str | None:
    if len(password) < min_length:
        return f"Choose a password of at least {min_length} characters."
    if len(password) > 1024:
        return "Choose a password of at most 1024 characters."
    if username and username.lower() in password.lower():
        return "Choose a password that does not contain your user name."
    verdict = zxcvbn(password[:100], user_inputs=[username, "commonroom", "jupyter"])
    if verdict["score"] < 2:
        warning = verdict["feedback"].get("warning") or "It is too easy to guess."
        return f"Choose a less common password: {warning.rstrip('.')}."
    return None
