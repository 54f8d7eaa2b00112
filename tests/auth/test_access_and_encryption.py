"""Allow, block and admin rules (the same for every authenticator), and encryption at rest."""

from __future__ import annotations

from typing import Any

import pytest

from commonroom.auth.access import BLOCKED, NOT_ALLOWED, admin_flag, check_allowed
from commonroom.auth.base import AuthenticationError, Identity
from commonroom.auth.encryption import DecryptionError, decrypt_json, decrypt_text, encrypt_json, encrypt_text
from commonroom.config.models import AuthConfig


def allowed(identity: Identity, **config: Any) -> bool:
    try:
        check_allowed(identity, AuthConfig(**config))
    except AuthenticationError:
        return False
    return True


def test_everyone_accepted_without_lists() -> None:
    assert allowed(Identity("ann"))


def test_allowed_users_and_groups() -> None:
    assert allowed(Identity("ann"), allowed_users=["Ann"])
    assert not allowed(Identity("bob"), allowed_users=["ann"])
    assert allowed(Identity("bob", groups=("lab",)), allowed_users=["ann"], allowed_groups=["lab"])
    assert allowed(Identity("cid", groups=("admins",)), allowed_groups=["lab"], admin_groups=["admins"])
    assert allowed(Identity("dee"), allowed_groups=["lab"], admin_users=["dee"])


def test_block_list_wins_and_messages_say_why() -> None:
    with pytest.raises(AuthenticationError) as refused:
        check_allowed(Identity("ann", groups=("lab",)), AuthConfig(allowed_users=["ann"], blocked_users=["ann"]))
    assert str(refused.value) == BLOCKED
    with pytest.raises(AuthenticationError) as refused:
        check_allowed(Identity("bob"), AuthConfig(allowed_users=["ann"]))
    assert str(refused.value) == NOT_ALLOWED


def test_admin_flag() -> None:
    assert admin_flag(Identity("ann"), AuthConfig(admin_users=["ann"])) is True
    assert admin_flag(Identity("ann"), AuthConfig()) is None, "native: keep the database's flag"
    groups = AuthConfig(authenticator="github", admin_groups=["admins"])
    assert admin_flag(Identity("ann", groups=("admins",)), groups) is True
    assert admin_flag(Identity("ann", groups=()), groups) is False, "left the admin group: no longer admin"


def test_encryption_round_trip_and_wrong_key() -> None:
    secret = encrypt_json("key-1", {"access_token": "abc", "n": 1})
    assert "abc" not in secret
    assert decrypt_json("key-1", secret) == {"access_token": "abc", "n": 1}
    assert decrypt_json("key-1", None) == {}
    assert encrypt_text("k", "same") != encrypt_text("k", "same"), "each encryption is randomised"
    with pytest.raises(DecryptionError):
        decrypt_text("key-2", secret)
