"""Random secrets and how we store them.

Tokens we hand out carry 128+ bits of randomness, so one SHA-256 is a sufficient one-way hash and lets the
database find a token by an indexed equality lookup (no per-row constant-time scan as in the incumbent).
Passwords are low-entropy and use argon2 instead (see passwords.py).
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
