"""Random secrets and how we store them.

Tokens we hand out carry 128+ bits of randomness, so one SHA-256 is a sufficient one-way hash and lets the
database find a token by an indexed equality lookup (no per-row constant-time scan as in the incumbent).
Passwords are low-entropy and use argon2 instead (see passwords.py). Tokens a person chose (a service's
api_token in the config) may be guessable too, so they are stored with a salted, slow hash (hash_chosen) and
found by their first characters, as JupyterHub does with 16384 rounds.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    """A fresh API token: 32 hex characters, the same shape JupyterHub issues."""
    return secrets.token_hex(16)


def new_url_secret() -> str:
    """A secret safe to put in a URL or cookie (43 characters, 256 bits)."""
    return secrets.token_urlsafe(32)


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


CHOSEN_SCHEME = "pbkdf2_sha256"
CHOSEN_ROUNDS = 16384


def hash_chosen(value: str) -> str:
    """A salted PBKDF2 hash for a secret of unknown entropy: "pbkdf2_sha256:<rounds>:<salt>:<hex digest>"."""
    salt = secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", value.encode(), salt.encode(), CHOSEN_ROUNDS).hex()
    return f"{CHOSEN_SCHEME}:{CHOSEN_ROUNDS}:{salt}:{digest}"


def matches(hashed: str, value: str) -> bool:
    """Whether value is the secret behind hashed, whichever of the two ways it was stored."""
    if not hashed.startswith(CHOSEN_SCHEME + ":"):
        return same(hashed, hash_secret(value))
    _, rounds, salt, digest = hashed.split(":", 3)
    return same(hashlib.pbkdf2_hmac("sha256", value.encode(), salt.encode(), int(rounds)).hex(), digest)
