"""Auth state handed to servers (with a refresh first), recovery codes, and the MFA stage, on an in-memory database."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyotp
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from commonroom.auth import mfa, signin
from commonroom.auth.base import AuthenticationError, Identity, RedirectAuthenticator
from commonroom.auth.encryption import decrypt_json, decrypt_text
from commonroom.config.models import AuthConfig, MFAConfig
from commonroom.db.models import User
from commonroom.servers.environment import auth_state_env

KEY = "k"


def test_auth_state_env_maps_keys_and_claims() -> None:
    state = {"access_token": "at", "claims": {"email": "a@x.org", "groups": ["g"]}}
    mapping = {"TOKEN": "access_token", "EMAIL": "email", "GROUPS": "groups", "NONE": "missing"}
    assert auth_state_env(mapping, state) == {"TOKEN": "at", "EMAIL": "a@x.org", "GROUPS": '["g"]'}


class Refreshing(RedirectAuthenticator):
    def __init__(self, config: AuthConfig, fail: bool = False) -> None:
        super().__init__(config)
        self.fail = fail

    async def login_url(self, redirect_uri: str, saved: dict[str, str]) -> str:
        return "https://op.example.org"

    async def callback(self, db: AsyncSession, params: Mapping[str, str], saved: Mapping[str, str]) -> Identity:
        raise AuthenticationError("unused")

    async def refresh(self, auth_state: Mapping[str, Any]) -> Mapping[str, Any] | None:
        if self.fail:
            raise AuthenticationError("provider down")
        return {**auth_state, "access_token": "fresh"}


async def test_spawn_env_refreshes_and_stores_the_new_tokens(db: AsyncSession) -> None:
    config = AuthConfig(authenticator="github", auth_state_env={"OIDC_ACCESS_TOKEN": "access_token"})
    user = await signin.accept(db, Identity("ann", auth_state={"access_token": "old"}), config, KEY)
    assert await signin.spawn_env(db, user, Refreshing(config), config, KEY) == {"OIDC_ACCESS_TOKEN": "fresh"}
    assert decrypt_json(KEY, user.auth_state)["access_token"] == "fresh"
    assert await signin.spawn_env(db, user, Refreshing(config, fail=True), config, KEY) == {"OIDC_ACCESS_TOKEN": "fresh"}
    assert await signin.spawn_env(db, user, Refreshing(config), config, "another-key") == {}


async def test_switching_authenticators_keeps_users_matched_by_name(db: AsyncSession) -> None:
    native = AuthConfig()
    user = User(name="ann", admin=True, approved=True, user_info={})
    db.add(user)
    await db.flush()
    same = await signin.accept(db, Identity("ann", groups=("lab",)), AuthConfig(authenticator="github"), KEY)
    assert same.id == user.id and same.admin is True, "no admin_groups: the database's flag stays"
    assert (await signin.accept(db, Identity("ann"), native, KEY)).id == user.id


async def test_recovery_codes_work_once_and_are_stored_hashed(db: AsyncSession) -> None:
    user = User(name="ann", admin=False, approved=True, user_info={})
    db.add(user)
    await db.flush()
    secret = mfa.new_secret()
    codes = await mfa.enable(db, user, secret, KEY)
    assert len(codes) == 10 and decrypt_text(KEY, user.totp_secret or "") == secret
    code = pyotp.TOTP(secret).now()
    assert await mfa.second_factor_ok(db, user, code, KEY)
    assert not await mfa.second_factor_ok(db, user, code, KEY), "a code works once, even within its window"
    assert await mfa.second_factor_ok(db, user, codes[3].upper(), KEY), "case and spaces do not matter"
    assert not await mfa.second_factor_ok(db, user, codes[3], KEY), "a recovery code works once"
    assert not await mfa.second_factor_ok(db, user, "000000", KEY)
    assert await mfa.recovery_codes_left(db, user) == 9
    await mfa.reset(db, user)
    assert user.totp_secret is None and await mfa.recovery_codes_left(db, user) == 0


def test_mfa_stage() -> None:
    user = User(name="ann", totp_secret=None)
    assert mfa.stage(user, AuthConfig()) is None
    assert mfa.stage(user, AuthConfig(mfa=MFAConfig(required=True))) == "enrol"
    assert mfa.stage(user, AuthConfig(authenticator="github", mfa=MFAConfig(required=True))) is None
    user.totp_secret = "x"
    assert mfa.stage(user, AuthConfig()) == "verify"


def test_qr_is_inline_svg() -> None:
    svg = mfa.qr_svg(mfa.provisioning_uri(mfa.new_secret(), "ann", "Commonroom"))
    assert svg.startswith("<svg") and "<script" not in svg


