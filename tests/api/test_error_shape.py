"""Every error path of the API answers JupyterHub's shape {"status", "message"} with the right code, and a
refused request changes nothing (like Datasette's test_error_shape)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.support.browserless import Person
from tests.support.hubprocess import HubProcess

J = {"Content-Type": "application/json"}

# (who, method, path, keyword arguments for httpx, expected status)
CASES: list[tuple[str, str, str, dict[str, Any], int]] = [
    # malformed JSON
    ("admin", "POST", "/users", {"content": b"{not json", "headers": J}, 400),
    ("admin", "PATCH", "/users/edna", {"content": b"[1,", "headers": J}, 400),
    ("owner", "POST", "/users/edna/tokens", {"content": b"{", "headers": J}, 400),
    ("owner", "POST", "/users/edna/server", {"content": b"{oops", "headers": J}, 400),
    ("owner", "POST", "/users/edna/activity", {"content": b"nope", "headers": J}, 400),
    ("admin", "POST", "/shutdown", {"content": b"{", "headers": J}, 400),
    # unknown fields
    ("admin", "POST", "/users", {"json": {"usernames": ["new-one"], "colour": "red"}}, 400),
    ("admin", "POST", "/users/new-two", {"json": {"admin": False, "extra": 1}}, 400),
    ("admin", "PATCH", "/users/edna", {"json": {"groups": ["a"]}}, 400),
    ("owner", "POST", "/users/edna/tokens", {"json": {"scopes": [], "owner": "x"}}, 400),
    ("owner", "POST", "/users/edna/activity", {"json": {"last_activity": "2024-01-01T00:00:00Z", "x": 1}}, 400),
    ("admin", "POST", "/shutdown", {"json": {"servers": False, "hub": True}}, 400),
    # wrong types
    ("admin", "POST", "/users", {"json": {"usernames": "edna"}}, 400),
    ("admin", "POST", "/users", {"json": {"usernames": []}}, 400),
    ("admin", "PATCH", "/users/edna", {"json": {"admin": "very"}}, 400),
    ("owner", "POST", "/users/edna/tokens", {"json": {"expires_in": "soon"}}, 400),
    ("owner", "POST", "/users/edna/tokens", {"json": {"expires_in": -5}}, 400),
    ("owner", "POST", "/users/edna/server", {"json": [1, 2]}, 400),
    ("owner", "POST", "/users/edna/activity", {"json": {"last_activity": "yesterday"}}, 400),
    ("owner", "POST", "/users/edna/activity", {"json": {"last_activity": "2999-01-01T00:00:00Z"}}, 400),
    ("owner", "POST", "/users/edna/activity", {"json": {"servers": {"nope": {"last_activity": "2024-01-01T00:00:00Z"}}}}, 400),
    ("owner", "POST", "/users/edna/activity", {"json": {}}, 400),
    # invalid names
    ("admin", "POST", "/users", {"json": {"usernames": ["Has Space"]}}, 400),
    ("admin", "POST", "/users/" + "x" * 40, {}, 400),
    ("admin", "POST", "/users/hub", {}, 400),
    ("admin", "PATCH", "/users/edna", {"json": {"name": "bad/name"}}, 400),
    ("owner", "PUT", "/users/edna/servers/Bad-Name", {}, 400),
    ("owner", "PUT", "/users/edna/servers/a--b", {}, 400),
    # conflicts
    ("admin", "POST", "/users", {"json": {"usernames": ["edna"]}}, 409),
    ("admin", "POST", "/users/edna", {}, 409),
    ("admin", "PATCH", "/users/edna", {"json": {"name": "root-admin"}}, 400),
    ("admin", "DELETE", "/users/root-admin", {}, 400),
    # pagination out of range
    ("admin", "GET", "/users?offset=-1", {}, 400),
    ("admin", "GET", "/users?limit=abc", {}, 400),
    ("admin", "GET", "/users?state=asleep", {}, 400),
    ("admin", "GET", "/users?sort=height", {}, 400),
    ("admin", "GET", "/proxy?offset=x", {}, 400),
    # credentials
    ("nobody", "GET", "/users", {}, 403),
    ("nobody", "GET", "/user", {}, 403),
    ("expired", "GET", "/user", {}, 403),
    ("revoked", "GET", "/user", {}, 403),
    # scopes: missing -> 403, held only for others -> 404, nonexistent user like a forbidden one -> 404
    ("owner", "GET", "/users", {}, 403),
    ("owner", "GET", "/info", {}, 403),
    ("owner", "GET", "/proxy", {}, 403),
    ("owner", "POST", "/shutdown", {}, 403),
    ("owner", "POST", "/users", {"json": {"usernames": ["sneaky"]}}, 403),
    ("owner", "GET", "/users/root-admin", {}, 404),
    ("owner", "GET", "/users/no-such-person", {}, 404),
    ("owner", "DELETE", "/users/root-admin/server", {}, 404),
    ("owner", "GET", "/users/root-admin/tokens", {}, 404),
    ("admin", "GET", "/users/no-such-person", {}, 404),
    ("admin", "GET", "/users/no-such-person/tokens", {}, 404),
    ("admin", "DELETE", "/users/no-such-person", {}, 404),
    ("owner", "GET", "/users/edna/tokens/a999999", {}, 404),
    ("owner", "DELETE", "/users/edna/tokens/zzz", {}, 404),
    ("owner", "GET", "/users/edna/servers/never-made", {}, 404),
    ("owner", "GET", "/users/edna/server/progress", {}, 404),
    # scope escalation
    ("owner", "POST", "/users/edna/tokens", {"json": {"scopes": ["admin:users"]}}, 400),
    ("owner", "POST", "/users/edna/tokens", {"json": {"scopes": ["read:users!user=root-admin"]}}, 400),
    ("owner", "POST", "/users/edna/tokens", {"json": {"scopes": ["no-such-scope"]}}, 400),
    ("admin", "POST", "/users/edna/tokens", {"json": {"scopes": ["shutdown"]}}, 400),
    # services
    ("admin", "POST", "/services/new-svc", {"content": b"{", "headers": J}, 400),
    ("admin", "POST", "/services/new-svc", {"json": {"colour": "red"}}, 400),
    ("admin", "POST", "/services/new-svc", {"json": {"url": "ftp://127.0.0.1:21"}}, 400),
    ("admin", "POST", "/services/new-svc", {"json": {"api_token": "short"}}, 400),
    ("admin", "POST", "/services/new-svc", {"json": {"oauth_client_id": "not-service-prefixed"}}, 400),
    ("admin", "POST", "/services/new-svc", {"json": {"command": ["sleep", "60"]}}, 400),
    ("admin", "POST", "/services/bad name", {"json": {}}, 400),
    ("admin", "POST", "/services/from-config", {"json": {}}, 409),
    ("admin", "DELETE", "/services/from-config", {}, 405),
    ("admin", "GET", "/services/no-such-service", {}, 404),
    ("admin", "DELETE", "/services/no-such-service", {}, 404),
    ("owner", "GET", "/services", {}, 403),
    ("owner", "GET", "/services/from-config", {}, 403),
    ("owner", "POST", "/services/new-svc", {"json": {}}, 403),
    ("owner", "DELETE", "/services/from-config", {}, 403),
    ("nobody", "GET", "/services", {}, 403),
    # groups
    ("admin", "POST", "/groups", {"content": b"{", "headers": J}, 400),
    ("admin", "POST", "/groups", {"json": {"groups": ["g1"], "colour": 1}}, 400),
    ("admin", "POST", "/groups", {"json": {"groups": "g1"}}, 400),
    ("admin", "POST", "/groups", {"json": {"groups": ["bad/name"]}}, 400),
    ("admin", "POST", "/groups", {"json": {"groups": ["new-g"], "users": ["no-such-person"]}}, 400),
    ("admin", "POST", "/groups", {"json": {"groups": ["new-g", "staff"]}}, 409),
    ("admin", "POST", "/groups/staff", {}, 409),
    ("admin", "GET", "/groups?offset=-1", {}, 400),
    ("admin", "GET", "/groups?limit=many", {}, 400),
    ("admin", "GET", "/groups/no-such-group", {}, 404),
    ("admin", "DELETE", "/groups/no-such-group", {}, 404),
    ("admin", "PUT", "/groups/staff/properties", {"json": [1]}, 400),
    ("admin", "POST", "/groups/staff/users", {"json": {"users": []}}, 400),
    ("admin", "POST", "/groups/staff/users", {"json": {"users": ["edna", "no-such-person"]}}, 400),
    ("owner", "GET", "/groups", {}, 403),
    ("owner", "GET", "/groups/staff", {}, 403),
    ("owner", "POST", "/groups/staff/users", {"json": {"users": ["edna"]}}, 403),
    ("owner", "DELETE", "/groups/staff", {}, 403),
    # roles
    ("admin", "PUT", "/roles/new-role", {"content": b"{", "headers": J}, 400),
    ("admin", "PUT", "/roles/new-role", {"json": {"scopes": ["fly:planes"]}}, 400),
    ("admin", "PUT", "/roles/new-role", {"json": {"scopes": "read:hub"}}, 400),
    ("admin", "PUT", "/roles/new-role", {"json": {"scopes": [], "colour": 1}}, 400),
    ("admin", "PUT", "/roles/Bad Name", {"json": {"scopes": []}}, 400),
    ("admin", "PUT", "/roles/user", {"json": {"scopes": []}}, 409),
    ("admin", "GET", "/roles/no-such-role", {}, 404),
    ("admin", "DELETE", "/roles/no-such-role", {}, 404),
    ("admin", "POST", "/roles/helper/holders", {"json": {}}, 400),
    ("admin", "POST", "/roles/helper/holders", {"json": {"users": ["no-such-person"]}}, 400),
    ("admin", "PATCH", "/users/edna", {"json": {"roles": ["no-such-role"]}}, 400),
    ("owner", "GET", "/roles", {}, 403),
    ("owner", "PUT", "/roles/new-role", {"json": {"scopes": ["read:hub"]}}, 403),
    ("owner", "POST", "/roles/helper/holders", {"json": {"users": ["edna"]}}, 403),
    ("owner", "PATCH", "/users/edna", {"json": {"roles": ["helper"]}}, 403),
    # shares and share codes
    ("owner", "POST", "/shares/edna/", {"json": {"user": "root-admin"}}, 403),
    ("owner", "GET", "/shares/root-admin", {}, 404),
    ("admin", "POST", "/shares/edna/", {"content": b"{", "headers": J}, 400),
    ("admin", "POST", "/shares/edna/", {"json": {}}, 400),
    ("admin", "POST", "/shares/edna/", {"json": {"user": "root-admin", "group": "staff"}}, 400),
    ("admin", "POST", "/shares/edna/", {"json": {"user": "root-admin", "scopes": ["admin:users"]}}, 400),
    ("admin", "POST", "/shares/edna/", {"json": {"user": "no-such-person"}}, 404),
    ("admin", "POST", "/shares/edna/never-made", {"json": {"user": "root-admin"}}, 404),
    ("admin", "GET", "/shares/no-such-person", {}, 404),
    ("admin", "POST", "/share-codes/edna/", {"json": {"expires_in": 10}}, 400),
    ("admin", "POST", "/share-codes/edna/", {"json": {"expires_in": 31_536_001}}, 400),
    ("admin", "DELETE", "/share-codes/edna/", {"params": {"id": "sc_999999"}}, 404),
    ("admin", "GET", "/users/no-such-person/shared", {}, 404),
    # NUL characters in URLs: PostgreSQL cannot store them, so every database refuses them alike
    ("admin", "GET", "/users/a%00b", {}, 400),
    ("owner", "GET", "/users/edna/server/cull?server=a%00b", {}, 400),
    ("admin", "GET", "/groups?offset=0%00", {}, 400),
    # removed and unknown
    ("admin", "POST", "/authorizations/token", {}, 404),
    ("admin", "GET", "/authorizations/token/not-a-token", {}, 404),
    ("admin", "GET", "/no/such/endpoint", {}, 404),
    ("admin", "PUT", "/users", {}, 405),
]


@pytest.fixture(scope="module")
def callers(hub: HubProcess, admin: str) -> dict[str, str]:
    owner = hub.add_user("edna")
    with hub.api(owner) as api:
        short = api.post("/users/edna/tokens", json={"expires_in": 1}).json()["token"]
        revoked = api.post("/users/edna/tokens", json={}).json()
        assert api.delete(f"/users/edna/tokens/{revoked['id']}").status_code == 204
    with hub.api(admin) as api:
        assert api.post("/groups", json={"groups": ["staff"]}).status_code == 201
        assert api.put("/roles/helper", json={"scopes": ["read:hub"]}).status_code == 201
    time.sleep(1.2)
    return {"admin": admin, "owner": owner, "nobody": "0" * 32, "expired": short, "revoked": revoked["token"]}


def snapshot(hub: HubProcess, admin: str) -> Any:
    with hub.api(admin) as api:
        users = api.get("/users", params={"include_stopped_servers": "1"}).json()
        for user in users:
            user.pop("last_activity", None)
            for server in user.get("servers", {}).values():
                server.pop("last_activity", None)
        services = api.get("/services").json()
        rest = [api.get(path).json() for path in ("/groups", "/roles", "/shares/edna", "/share-codes/edna")]
        return users, services, rest


@pytest.mark.parametrize(("who", "method", "path", "kwargs", "status"), CASES, ids=[f"{c[1]} {c[2]} {c[0]}" for c in CASES])
def test_error_shape(
    hub: HubProcess, admin: str, callers: dict[str, str], who: str, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    before = snapshot(hub, admin)
    headers = {**kwargs.pop("headers", {}), "Authorization": f"token {callers[who]}"}
    reply = httpx.request(method, hub.url("hub/api") + path, headers=headers, timeout=30, **kwargs)
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    body = reply.json()
    assert set(body) == {"status", "message"} and body["status"] == status, body
    assert isinstance(body["message"], str) and body["message"]
    assert snapshot(hub, admin) == before, "a refused request changed something"


def test_a_nul_in_a_body_is_kept_where_the_database_can_store_it_and_refused_where_it_cannot(
    hub: HubProcess, callers: dict[str, str]
) -> None:
    person = Person(hub.origin)
    try:
        refused = person.sign_in("ed\x00na", "any password")
    finally:
        person.close()
    assert refused.status_code in (400, 403), refused.text  # a page that says why, never a 500
    assert ("NUL character" in refused.text) == hub.database_url.startswith("postgresql"), refused.text
    with hub.api(callers["owner"]) as api:
        before = api.get("/users/edna/tokens").json()
        reply = api.post("/users/edna/tokens", json={"note": "bad\x00note"})
        if hub.database_url.startswith("postgresql"):
            assert reply.status_code == 400 and "NUL character" in reply.json()["message"], reply.text
            assert api.get("/users/edna/tokens").json() == before, "the refused token was stored anyway"
        else:
            assert reply.status_code == 201, reply.text
            assert reply.json()["note"] == "bad\x00note"
            assert api.delete(f"/users/edna/tokens/{reply.json()['id']}").status_code == 204
