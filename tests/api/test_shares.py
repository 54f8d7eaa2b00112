"""Shares and share codes over HTTP: granting needs the scopes and the recipient's name, the recipient's scopes
follow grants and revokes at once, codes are accepted on a CSRF-protected page and listed on the home page."""

from __future__ import annotations

import pytest

from tests.support.browserless import Person
from tests.support.hubprocess import HubProcess

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def people(hub: HubProcess, admin: str) -> dict[str, str]:
    tokens = {name: hub.add_user(name) for name in ("sasha", "sid", "sol")}
    with hub.api(admin) as api:
        # As in JupyterHub, people share only when a role lets them (shares!user), and share with named people
        # only when they may see names (read:users:name); share codes need no names.
        sharers = ["shares!user", "read:users:name", "read:groups:name"]
        assert api.put("/roles/sharers", json={"scopes": sharers}).status_code == 201
        assert api.put("/roles/code-sharers", json={"scopes": ["shares!user"]}).status_code == 201
        assert api.post("/roles/sharers/holders", json={"users": ["sasha"]}).status_code == 200
        assert api.post("/roles/code-sharers/holders", json={"users": ["sol"]}).status_code == 200
        assert api.post("/groups", json={"groups": ["sasha-team"], "users": ["sol"]}).status_code == 201
    return tokens


def scopes_of(hub: HubProcess, token: str) -> list[str]:
    with hub.api(token) as api:
        return api.get("/user").json()["scopes"]


def test_share_with_a_user_then_revoke(hub: HubProcess, people: dict[str, str]) -> None:
    access = "access:servers!server=sasha/"
    with hub.api(people["sasha"]) as api:
        made = api.post("/shares/sasha/", json={"user": "sid"})
        assert made.status_code == 200, made.text
        model = made.json()
        assert model["kind"] == "user" and model["user"] == {"name": "sid"} and model["group"] is None
        assert model["scopes"] == [access] and model["server"]["user"] == {"name": "sasha"} and model["server"]["name"] == ""
        listed = api.get("/shares/sasha").json()
        assert listed["_pagination"]["total"] == 1 and listed["items"][0]["user"] == {"name": "sid"}
    assert access in scopes_of(hub, people["sid"])
    with hub.api(people["sid"]) as api:
        assert api.get("/users/sid/shared").json()["items"][0]["server"]["user"] == {"name": "sasha"}
        assert api.get("/users/sid/shared/sasha/").json()["scopes"] == [access]
        assert api.post("/shares/sasha/", json={"user": "sol"}).status_code == 403, "sid may not share at all"
    with hub.api(people["sasha"]) as api:
        assert api.patch("/shares/sasha/", json={"user": "sid"}).json() == {}
    assert access not in scopes_of(hub, people["sid"]), "a revoke ends access on the next request"


def test_share_with_a_group_reaches_its_members(hub: HubProcess, people: dict[str, str]) -> None:
    with hub.api(people["sasha"]) as api:
        made = api.post("/shares/sasha/", json={"group": "sasha-team"})
        assert made.status_code == 200 and made.json()["kind"] == "group"
    assert "access:servers!server=sasha/" in scopes_of(hub, people["sol"])
    assert "access:servers!server=sasha/" not in scopes_of(hub, people["sid"])
    with hub.api(people["sasha"]) as api:
        assert api.delete("/shares/sasha/").status_code == 204
        assert api.get("/shares/sasha").json()["items"] == []
    assert "access:servers!server=sasha/" not in scopes_of(hub, people["sol"])


def test_recipient_can_give_a_share_back(hub: HubProcess, people: dict[str, str]) -> None:
    with hub.api(people["sasha"]) as api:
        assert api.post("/shares/sasha/", json={"user": "sid"}).status_code == 200
    with hub.api(people["sid"]) as api:
        assert api.delete("/users/sid/shared/sasha/").status_code == 204
        assert api.get("/users/sid/shared").json()["items"] == []


def test_what_cannot_be_shared(hub: HubProcess, people: dict[str, str]) -> None:
    with hub.api(people["sasha"]) as api:
        for body, status in [({"user": "sid", "scopes": ["admin:users"]}, 400),
                             ({"user": "sid", "scopes": ["access:servers!server=sid/"]}, 400),
                             ({"user": "sid", "group": "sasha-team"}, 400), ({}, 400),
                             ({"user": "sasha"}, 400), ({"user": "nobody-here"}, 404)]:  # fmt: skip
            reply = api.post("/shares/sasha/", json=body)
            assert reply.status_code == status, (body, reply.text)
            assert set(reply.json()) == {"status", "message"}
        assert api.post("/shares/sasha/never-made", json={"user": "sid"}).status_code == 404
        assert api.get("/shares/sasha").json()["items"] == []
    with hub.api(people["sol"]) as api:
        refused = api.post("/shares/sol/", json={"user": "sid"})
        assert refused.status_code == 404, "sol may not see sid's name: as if sid did not exist"
        assert api.get("/shares/sol").json()["items"] == []


def test_share_code_accepted_on_the_page(hub: HubProcess, people: dict[str, str]) -> None:
    with hub.api(people["sol"]) as api:
        for expires_in in (59, 31_536_001, "soon"):
            assert api.post("/share-codes/sol/", json={"expires_in": expires_in}).status_code == 400
        made = api.post("/share-codes/sol/", json={"expires_in": 3600}).json()
        assert made["accept_url"].startswith("/hub/accept-share?code=") and made["exchange_count"] == 0
        assert made["id"].startswith("sc_")
    hub.cli("user", "add", "sam", "--password-stdin", stdin=PASSWORD + "\n")
    person = Person(hub.origin)
    try:
        assert person.sign_in("sam", PASSWORD).status_code == 302
        page = person.client.get(made["accept_url"])
        assert page.status_code == 200 and "sol/" in page.text
        assert person.client.post("/hub/accept-share", data={"code": made["code"]}).status_code == 403, "XSRF checked"
        accepted = person.post_form("/hub/accept-share", {"code": made["code"]}, form_page=made["accept_url"])
        assert accepted.status_code == 302 and accepted.headers["location"] == "/hub/home"
        home = person.client.get("/hub/home").text
        assert 'id="shared-with-me"' in home and 'href="/user/sol/"' in home
        again = person.post_form("/hub/accept-share", {"code": made["code"]}, form_page=made["accept_url"])
        assert again.status_code == 302
        assert person.client.get("/hub/accept-share?code=wrong").status_code == 404
    finally:
        person.close()
    with hub.api(people["sol"]) as api:
        codes = api.get("/share-codes/sol").json()["items"]
        assert codes[0]["exchange_count"] == 2 and codes[0]["last_exchanged_at"]
        shares = api.get("/shares/sol/").json()["items"]
        assert [s["user"] for s in shares] == [{"name": "sam"}], "accepting twice makes one share"
        assert api.delete("/share-codes/sol/", params={"id": made["id"]}).status_code == 204
        assert api.get("/share-codes/sol").json()["items"] == []
        assert api.delete("/share-codes/sol/", params={"id": made["id"]}).status_code == 404
