"""Encryption at rest for what identity providers return and for TOTP secrets.

Fernet (AES-128-CBC with HMAC-SHA256) keyed from the hub's encryption_key file: the file holds a random secret,
and the Fernet key is its SHA-256, so any secret string the administrator supplies works as a key.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken


class DecryptionError(Exception):
    """The stored value cannot be read with this key (the key file changed, or the value was altered)."""


def _fernet(key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))


def encrypt_text(key: str, value: str) -> str:
    return _fernet(key).encrypt(value.encode()).decode()


def decrypt_text(key: str, value: str) -> str:
    try:
        return _fernet(key).decrypt(value.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("stored value cannot be decrypted with the hub's encryption key") from exc


def encrypt_json(key: str, value: Mapping[str, Any]) -> str:
    return encrypt_text(key, json.dumps(dict(value), sort_keys=True))


def decrypt_json(key: str, value: str | None) -> dict[str, Any]:
    if not value:
        return {}
    data = json.loads(decrypt_text(key, value))
    return data if isinstance(data, dict) else {}
