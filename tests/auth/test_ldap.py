"""The LDAP authenticator against a real slapd: direct bind, search-then-bind, groups, refusals, escaping."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commonroom.auth import ldap as ldap_auth
from commonroom.auth import signin
from commonroom.auth.base import AuthenticationError
from commonroom.auth.encryption import decrypt_json
from commonroom.auth.ldap import LDAPAuthenticator, fill_filter, user_dn
from commonroom.config.models import AuthConfig, LDAPConfig
from commonroom.db.models import User
from tests.support.slapd import ADMIN_DN, ADMIN_PW, SUFFIX, Slapd, available

pytestmark = pytest.mark.skipif(not available(), reason="slapd is not installed (scripts/setup --test installs it)")
KEY = "test-encryption-key"


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    server = Slapd(tmp_path_factory.mktemp("slapd"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def direct(slapd: Slapd, **auth: Any) -> LDAPAuthenticator:
    ldap = LDAPConfig(server_url=slapd.url, bind_dn_template=f"uid={{username}},ou=people,{SUFFIX}",
                      group_search_base=f"ou=groups,{SUFFIX}")  # fmt: skip
    return LDAPAuthenticator(AuthConfig(authenticator="ldap", ldap=ldap, **auth))


def searching(slapd: Slapd, **auth: Any) -> LDAPAuthenticator:
    ldap = LDAPConfig(server_url=slapd.url, search_base=f"ou=people,{SUFFIX}", service_dn=ADMIN_DN,
                      service_password=ADMIN_PW, group_search_base=f"ou=groups,{SUFFIX}")  # fmt: skip
    return LDAPAuthenticator(AuthConfig(authenticator="ldap", ldap=ldap, **auth))


async def test_direct_bind_signs_in_with_groups(slapd: Slapd, db: AsyncSession) -> None:
    identity = await direct(slapd).authenticate(db, {"username": "Alice", "password": "alicepw"})
    assert identity.name == "alice"
    assert identity.groups == ("hubadmins", "researchers")


async def test_search_then_bind_signs_in(slapd: Slapd, db: AsyncSession) -> None:
    identity = await searching(slapd).authenticate(db, {"username": "bob", "password": "bobpw"})
    assert identity.name == "bob" and identity.groups == ("researchers",)
    assert identity.auth_state["dn"] == f"uid=bob,ou=people,{SUFFIX}"


@pytest.mark.parametrize("make", [direct, searching])
async def test_wrong_password_and_unknown_user_are_refused(slapd: Slapd, db: AsyncSession, make: Any) -> None:
    authenticator = make(slapd)
    for form in ({"username": "bob", "password": "nope"}, {"username": "carol", "password": "x"},
                 {"username": "bob", "password": ""}):  # fmt: skip
        with pytest.raises(AuthenticationError, match="password"):
            await authenticator.authenticate(db, form)


async def test_group_mapping_to_admin_and_allowed(slapd: Slapd, db: AsyncSession) -> None:
    config = {"allowed_groups": ["researchers"], "admin_groups": ["hubadmins"]}
    authenticator = direct(slapd, **config)
    for name, admin in (("alice", True), ("bob", False)):
        identity = await authenticator.authenticate(db, {"username": name, "password": f"{name}pw"})
        user = await signin.accept(db, identity, authenticator.config, KEY)
        assert user.admin is admin
        assert user.user_info["groups"] == list(identity.groups)
        assert decrypt_json(KEY, user.auth_state)["dn"].startswith(f"uid={name},")


async def test_user_outside_allowed_groups_is_refused_and_nothing_is_written(slapd: Slapd, db: AsyncSession) -> None:
    authenticator = direct(slapd, allowed_groups=["hubadmins"])
    identity = await authenticator.authenticate(db, {"username": "bob", "password": "bobpw"})
    with pytest.raises(AuthenticationError, match="not on this hub's list"):
        await signin.accept(db, identity, authenticator.config, KEY)
    assert (await db.execute(select(User))).first() is None


@pytest.mark.parametrize("make", [direct, searching])
async def test_filter_metacharacters_never_reach_the_directory(
    slapd: Slapd, db: AsyncSession, make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(ldap_auth.ldap3, "Connection", lambda *a, **k: calls.append(a) or pytest.fail("reached LDAP"))
    for name in ("*)(uid=*", "*", "alice)(|(uid=*", "bob\\2a"):
        with pytest.raises(AuthenticationError, match="User names may contain only"):
            await make(slapd).authenticate(db, {"username": name, "password": "anything"})
    assert calls == []


def test_user_input_is_escaped_in_filters_and_dns() -> None:
    assert fill_filter("(uid={username})", username="*)(uid=*") == "(uid=\\2a\\29\\28uid=\\2a)"
    assert user_dn("uid={username},dc=x", "a,b=c+d") == "uid=a\\,b\\=c\\+d,dc=x"


async def test_unreachable_directory_says_so(db: AsyncSession) -> None:
    from tests.support.ports import free_port

    ldap = LDAPConfig(server_url=f"ldap://127.0.0.1:{free_port()}", bind_dn_template="uid={username},dc=x", timeout=2)
    with pytest.raises(AuthenticationError, match="cannot reach the directory"):
        await LDAPAuthenticator(AuthConfig(ldap=ldap)).authenticate(db, {"username": "bob", "password": "bobpw"})




@pytest.fixture(scope="module")
def tls_slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    server = Slapd(tmp_path_factory.mktemp("slapd-tls"), tls=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def tls_authenticator(url: str, **ldap: Any) -> LDAPAuthenticator:
    config = LDAPConfig(server_url=url, bind_dn_template=f"uid={{username}},ou=people,{SUFFIX}", timeout=5, **ldap)
    return LDAPAuthenticator(AuthConfig(authenticator="ldap", ldap=config))


async def test_ldaps_and_start_tls_with_the_directory_certificate(tls_slapd: Slapd, db: AsyncSession) -> None:
    ca = str(tls_slapd.ca_file)
    for authenticator in (tls_authenticator(tls_slapd.ldaps_url, tls_ca_file=ca),
                          tls_authenticator(tls_slapd.url, start_tls=True, tls_ca_file=ca)):  # fmt: skip
        assert (await authenticator.authenticate(db, {"username": "bob", "password": "bobpw"})).name == "bob"


async def test_an_untrusted_directory_certificate_is_refused(tls_slapd: Slapd, db: AsyncSession) -> None:
    for authenticator in (tls_authenticator(tls_slapd.ldaps_url), tls_authenticator(tls_slapd.url, start_tls=True)):
        with pytest.raises(AuthenticationError, match="cannot reach the directory"):
            await authenticator.authenticate(db, {"username": "bob", "password": "bobpw"})
