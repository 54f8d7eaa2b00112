"""Signing in to a real hub against a real slapd: the form, groups to admin, and refusals that say why."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.browserless import Person
from tests.support.hubprocess import HubProcess, started, wait_for
from tests.support.slapd import SUFFIX, Slapd, available

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not available(), reason="slapd is not installed")]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    slapd = Slapd(tmp_path_factory.mktemp("slapd"))
    slapd.start()
    config = (
        '[auth]\nauthenticator = "ldap"\nallowed_groups = ["researchers"]\nadmin_groups = ["hubadmins"]\n'
        f'[auth.ldap]\nserver_url = "{slapd.url}"\nbind_dn_template = "uid={{username}},ou=people,{SUFFIX}"\n'
        f'group_search_base = "ou=groups,{SUFFIX}"\n'
    )
    try:
        with started(HubProcess(tmp_path_factory.mktemp("ldap-hub"), extra_config=config)) as process:
            yield process
    finally:
        slapd.stop()


@pytest.fixture
def person(hub: HubProcess) -> Iterator[Person]:
    someone = Person(hub.origin)
    yield someone
    someone.close()


def test_directory_people_sign_in_and_groups_decide_admin(hub: HubProcess, person: Person) -> None:
    response = person.sign_in("Alice", "alicepw")
    assert response.status_code == 302 and response.headers["location"] == "/hub/home"
    assert person.client.get("/hub/signup").status_code == 404, "no sign-up with a directory"
    alice = hub.api(hub.token_for("alice")).get("/users/alice").json()
    assert alice["admin"] is True and alice["user_info"]["groups"] == ["hubadmins", "researchers"]
    assert Person(hub.origin).sign_in("bob", "bobpw").status_code == 302
    assert hub.api(hub.token_for("alice")).get("/users/bob").json()["admin"] is False


def test_refusals_say_why(hub: HubProcess, person: Person) -> None:
    wrong = person.sign_in("bob", "not-his")
    assert wrong.status_code == 403 and "Wrong user name or password" in wrong.text
    odd = person.sign_in("*)(uid=*", "x")
    assert odd.status_code == 403 and "User names may contain only" in odd.text
    # The hub's output reaches the test through a reader thread: wait for the line rather than race it.
    wait_for(lambda: "sign-in refused for '*)(uid=*'" in hub.log_text(), 10, "the refusal in the hub's log")
    assert "commonroom-session" not in person.client.cookies
