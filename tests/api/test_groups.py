"""Groups over HTTP: CRUD, members, properties, pagination, the user model's groups, and !group= scopes."""

from __future__ import annotations

import httpx
import pytest

from tests.support.browserless import Person
from tests.support.hubprocess import HubProcess

PAGED = {"Accept": "application/jupyterhub-pagination+json"}


@pytest.fixture(scope="module")
def people(hub: HubProcess) -> dict[str, str]:
    return {name: hub.add_user(name) for name in ("gina", "gus", "gwen")}


def test_group_life_cycle(hub: HubProcess, admin: str, people: dict[str, str]) -> None:
    with hub.api(admin) as api:
        made = api.post("/groups", json={"groups": ["class-a", "class-b"], "users": ["gina"]})
        assert made.status_code == 201, made.text
        assert [g["name"] for g in made.json()] == ["class-a", "class-b"]
        assert made.json()[0] == {"kind": "group", "name": "class-a", "users": ["gina"], "properties": {}, "roles": []}
        assert api.post("/groups", json={"groups": ["class-a", "class-c"]}).status_code == 409
        assert api.get("/groups/class-c").status_code == 404, "a refused create made nothing"

        added = api.post("/groups/class-a/users", json={"users": ["gus", "gina"]})
        assert added.status_code == 200 and added.json()["users"] == ["gina", "gus"]
        assert api.get("/users/gus").json()["groups"] == ["class-a"]
        removed = api.request("DELETE", "/groups/class-a/users", json={"users": ["gina"]})
        assert removed.json()["users"] == ["gus"]

        props = api.put("/groups/class-a/properties", json={"course": "Physics 101"})
        assert props.status_code == 200 and props.json()["properties"] == {"course": "Physics 101"}

        single = api.post("/groups/class-d", json={"users": ["gwen"]})
        assert single.status_code == 201 and single.json()["users"] == ["gwen"]
        assert api.post("/groups/class-d").status_code == 409

        patched = api.patch("/users/gwen", json={"groups": ["class-a", "class-b"]})
        assert patched.status_code == 200 and patched.json()["groups"] == ["class-a", "class-b"]
        assert api.get("/groups/class-d").json()["users"] == []

        assert api.delete("/groups/class-d").status_code == 204
        assert api.get("/groups/class-d").status_code == 404
        assert api.get("/users/gwen").json()["groups"] == ["class-a", "class-b"]


def test_groups_are_paginated_like_users(hub: HubProcess, admin: str) -> None:
    with hub.api(admin) as api:
        assert api.post("/groups", json={"groups": [f"page-{i:02}" for i in range(7)]}).status_code == 201
        first = api.get("/groups", params={"limit": 3}, headers=PAGED).json()
        assert len(first["items"]) == 3 and first["_pagination"]["total"] >= 7
        following = httpx.get(first["_pagination"]["next"]["url"], headers={**PAGED, "Authorization": f"token {admin}"})
        assert following.json()["_pagination"]["offset"] == 3
        bare = api.get("/groups").json()
        assert isinstance(bare, list) and {f"page-{i:02}" for i in range(7)} <= {g["name"] for g in bare}


def test_group_filtered_scopes_reach_members_only(hub: HubProcess, admin: str, people: dict[str, str]) -> None:
    """A teacher with read:users!group=tutees sees the tutees, not others; list:groups!group= lists that group."""
    teacher = hub.add_user("teacher-tia")
    with hub.api(admin) as api:
        assert api.post("/groups", json={"groups": ["tutees"], "users": ["gina"]}).status_code == 201
        role = api.put("/roles/tutor", json={"scopes": ["read:users!group=tutees", "list:groups!group=tutees",
                                                          "read:groups!group=tutees"]})  # fmt: skip
        assert role.status_code == 201, role.text
        assert api.post("/roles/tutor/holders", json={"users": ["teacher-tia"]}).status_code == 200
    with hub.api(teacher) as api:
        assert api.get("/users/gina").json()["name"] == "gina"
        assert api.get("/users/gus").status_code == 404, "not in the group: looks like it does not exist"
        assert [g["name"] for g in api.get("/groups").json()] == ["tutees"]
        assert api.get("/groups/tutees").json()["users"] == ["gina"]
        assert api.get("/groups/class-a").status_code == 404
        assert api.post("/groups/tutees/users", json={"users": ["gus"]}).status_code == 403
        assert api.get("/users").status_code == 403


def test_a_member_gets_the_groups_roles(hub: HubProcess, admin: str, people: dict[str, str]) -> None:
    with hub.api(admin) as api:
        assert api.put("/roles/hub-readers", json={"scopes": ["read:hub"]}).status_code == 201
        assert api.post("/groups", json={"groups": ["readers"], "roles": ["hub-readers"]}).status_code == 201
    with hub.api(people["gus"]) as api:
        assert api.get("/info").status_code == 403
    with hub.api(admin) as api:
        assert api.post("/groups/readers/users", json={"users": ["gus"]}).status_code == 200
    with hub.api(people["gus"]) as api:
        assert api.get("/info").status_code == 200, "the group's role reaches its member at once"
        assert "read:hub" in api.get("/user").json()["scopes"]


def test_admin_page_shows_each_persons_groups(hub: HubProcess, admin: str, people: dict[str, str]) -> None:
    password = "group-admin-password"
    assert hub.cli("user", "add", "page-boss", "--admin", "--password-stdin", stdin=password + "\n").returncode == 0
    with hub.api(admin) as api:
        assert api.patch("/users/gus", json={"groups": ["class-b", "class-a"]}).status_code == 200
    person = Person(hub.origin)
    try:
        assert person.sign_in("page-boss", password).status_code == 302
        page = person.client.get("/hub/admin").text
        assert '<td class="groups">class-a, class-b</td>' in page
    finally:
        person.close()
