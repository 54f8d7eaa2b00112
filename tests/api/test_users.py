"""GET/POST/PATCH/DELETE /users against a real hub, with JupyterHub's pagination and filters."""

from __future__ import annotations

import httpx
import pytest

from tests.support.hubprocess import HubProcess

PAGED = {"Accept": "application/jupyterhub-pagination+json"}


@pytest.fixture(scope="module")
def api(hub: HubProcess, admin: str) -> httpx.Client:
    client = hub.api(admin)
    created = client.post("/users", json={"usernames": ["ula", "uma", "Ulf", "vic"]})
    assert created.status_code == 201, created.text
    assert sorted(u["name"] for u in created.json()) == ["ula", "ulf", "uma", "vic"]
    return client


def names(reply: httpx.Response) -> list[str]:
    assert reply.status_code == 200, reply.text
    body = reply.json()
    return [u["name"] for u in (body["items"] if isinstance(body, dict) else body)]


def test_bare_list_and_paginated_shape(api: httpx.Client) -> None:
    bare = api.get("/users")
    assert isinstance(bare.json(), list) and len(bare.json()) >= 5
    page = api.get("/users", params={"limit": 2}, headers=PAGED).json()
    assert len(page["items"]) == 2
    info = page["_pagination"]
    assert info["offset"] == 0 and info["limit"] == 2 and info["total"] >= 5
    following = httpx.get(info["next"]["url"], headers={**PAGED, "Authorization": api.headers["Authorization"]})
    assert following.json()["_pagination"]["offset"] == 2
    last = api.get("/users", params={"offset": info["total"] - 1}, headers=PAGED).json()
    assert last["_pagination"]["next"] is None and len(last["items"]) == 1


def test_limit_is_clamped_and_non_integers_refused(api: httpx.Client) -> None:
    assert api.get("/users", params={"limit": 5000}, headers=PAGED).json()["_pagination"]["limit"] == 200
    assert api.get("/users", params={"limit": 0}, headers=PAGED).json()["_pagination"]["limit"] == 1
    for bad in ({"limit": "ten"}, {"offset": "1.5"}, {"offset": -1}):
        reply = api.get("/users", params=bad)
        assert reply.status_code == 400 and reply.json()["status"] == 400, bad


def test_name_filter_sort_and_state(api: httpx.Client) -> None:
    assert names(api.get("/users", params={"name_filter": "UL"})) == ["ula", "ulf"]
    assert names(api.get("/users", params={"name_filter": "u", "sort": "-name"}))[:3] == ["uma", "ulf", "ula"]
    by_activity = names(api.get("/users", params={"sort": "last_activity"}))
    assert by_activity[-1] == "root-admin"  # the only one with activity; NULLs come first ascending
    assert names(api.get("/users", params={"sort": "-last_activity"}))[0] == "root-admin"
    assert "vic" in names(api.get("/users", params={"state": "inactive"}))
    assert "vic" not in names(api.get("/users", params={"state": "ready"}))
    assert api.get("/users", params={"state": "sleeping"}).status_code == 400
    assert api.get("/users", params={"sort": "age"}).status_code == 400


def test_create_one_conflicts_and_bad_names(api: httpx.Client) -> None:
    assert api.post("/users/wes").status_code == 201
    assert api.post("/users/wes").status_code == 409
    assert api.post("/users", json={"usernames": ["wes", "vic"]}).status_code == 409
    for bad in ("x" * 40, "no spaces", "admin", "-dash"):
        reply = api.post("/users", json={"usernames": [bad]})
        assert reply.status_code == 400 and "user name" in reply.json()["message"].lower(), (bad, reply.text)
    assert api.post("/users", json={"usernames": ["ok-one"], "color": "red"}).status_code == 400


def test_only_admins_make_admins(hub: HubProcess, api: httpx.Client) -> None:
    helper = hub.add_user("helper")
    with hub.api(helper) as as_helper:
        assert as_helper.post("/users", json={"usernames": ["zed"], "admin": True}).status_code == 403


def test_patch_rename_and_admin(api: httpx.Client) -> None:
    api.post("/users/xan")
    renamed = api.patch("/users/xan", json={"name": "xavier", "admin": True})
    assert renamed.status_code == 200 and renamed.json()["name"] == "xavier" and renamed.json()["admin"] is True
    assert api.get("/users/xan").status_code == 404
    assert api.patch("/users/xavier", json={"name": "vic"}).status_code == 400
    assert api.patch("/users/xavier", json={"name": "Bad Name"}).status_code == 400
    assert api.patch("/users/xavier", json={"kind": "group"}).status_code == 400


def test_delete_user_and_not_yourself(api: httpx.Client) -> None:
    api.post("/users/yan")
    assert api.delete("/users/yan").status_code == 204
    assert api.get("/users/yan").status_code == 404
    assert api.delete("/users/yan").status_code == 404
    assert api.delete("/users/root-admin").status_code == 400


def test_filtered_list_scope_lists_only_those_users(hub: HubProcess, api: httpx.Client) -> None:
    issued = hub.cli("token", "issue", "root-admin", "--scope", "list:users!user=ula", "--scope", "list:users!user=vic")
    assert issued.returncode == 0, issued.stderr
    with hub.api(issued.stdout.strip()) as narrow:
        assert names(narrow.get("/users")) == ["ula", "vic"]
        assert narrow.get("/users", headers=PAGED).json()["_pagination"]["total"] == 2
    server_only = hub.cli("token", "issue", "root-admin", "--scope", "list:users!server=ula/")
    with hub.api(server_only.stdout.strip()) as odd:
        assert odd.get("/users").status_code == 403
