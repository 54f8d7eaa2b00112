"""Named servers over the API with real JupyterLab processes: create, start, progress, URL, rename, remove."""

from __future__ import annotations

import httpx

from tests.integration.test_servers import progress_events
from tests.support.browserless import Person
from tests.support.hubprocess import HubProcess, wait_for


def test_named_server_life_cycle(hub: HubProcess, admin: str) -> None:
    token = hub.add_user("nina")
    with hub.api(token) as api:
        created = api.put("/users/nina/servers/lab-one")
        assert created.status_code == 201, created.text
        assert created.json()["stopped"] is True and created.json()["url"] == "/user/nina/lab-one/"
        assert api.put("/users/nina/servers/lab-one").status_code == 409
        renamed = api.patch("/users/nina/servers/lab-one", json={"name": "lab-two"})
        assert renamed.status_code == 200 and renamed.json()["name"] == "lab-two"
        started = api.post("/users/nina/servers/lab-two")
        assert started.status_code in (201, 202), started.text
        final = progress_events(hub, token, "nina", "lab-two")[-1]
        assert final.get("ready") is True and final["url"] == "/user/nina/lab-two/", final
        assert api.post("/users/nina/servers/lab-two").json()["message"] == "nina:lab-two is already running"
        assert api.patch("/users/nina/servers/lab-two", json={"name": "lab-three"}).status_code == 400
        model = api.get("/users/nina").json()["servers"]["lab-two"]
        assert model["ready"] is True and model["progress_url"] == "/hub/api/users/nina/servers/lab-two/progress"
        through_proxy = httpx.get(hub.url("user/nina/lab-two/api/status"), headers={"Authorization": f"token {token}"})
        assert through_proxy.status_code == 200, through_proxy.text
        routes = httpx.get(hub.url("hub/api/proxy"), headers={"Authorization": f"token {admin}"})
        assert "/user/nina/lab-two/" in routes.json()
        assert api.request("DELETE", "/users/nina/servers/lab-two", json={"remove": True}).status_code in (202, 204)
        wait_for(lambda: api.get("/users/nina/servers/lab-two").status_code == 404, 30, "the server to be removed")


def test_named_server_names_and_limits(hub: HubProcess) -> None:
    token = hub.add_user("ned")
    with hub.api(token) as api:
        for bad in ("Caps", "9lives", "two--dashes", "ends-", "x" * 31):
            reply = api.put(f"/users/ned/servers/{bad}")
            assert reply.status_code == 400 and "server name" in reply.json()["message"].lower(), bad
        assert api.put("/users/ned/servers/a").status_code == 201
        assert api.put("/users/ned/servers/b").status_code == 201
        over = api.put("/users/ned/servers/c")
        assert over.status_code == 400 and "named_server_limit_per_user" in over.json()["message"]
        assert api.put("/users/ned/server").status_code == 405


def test_display_names_and_the_deprecated_admin_access(hub: HubProcess, admin: str) -> None:
    token = hub.add_user("dora")
    with hub.api(token) as api:
        made = api.put("/users/dora/servers/gpu", json={"display_name": "GPU box (A100)"})
        assert made.status_code == 201 and made.json()["display_name"] == "GPU box (A100)"
        for bad in ("", "tab\there", "x" * 256, 7):
            reply = api.patch("/users/dora/servers/gpu", json={"display_name": bad})
            assert reply.status_code == 400 and "display_name" in reply.json()["message"], bad
        changed = api.patch("/users/dora/servers/gpu", json={"display_name": "Thesis ✍"})
        assert changed.status_code == 200 and changed.json()["display_name"] == "Thesis ✍"
        assert api.get("/users/dora").json()["servers"] == {}  # stopped servers are listed only on request
        assert api.get("/users/dora/servers/gpu").json()["display_name"] == "Thesis ✍"
        assert api.post("/users/dora/admin-access").status_code == 200  # a no-op, as in JupyterHub
        assert api.post("/users/root-admin/admin-access").status_code == 404  # servers on dora only
    with hub.api(admin) as api:
        assert api.post("/users/dora/admin-access").status_code == 200
        assert api.post("/users/nobody-here/admin-access").status_code == 404


def test_proxy_routes_and_resync(hub: HubProcess, admin: str) -> None:
    with hub.api(admin) as api:
        table = api.get("/proxy").json()
        assert table["/"]["routespec"] == "/" and table["/"]["data"]["hub"] is True and table["/"]["target"]
        paged = api.get("/proxy", params={"limit": 1}, headers={"Accept": "application/jupyterhub-pagination+json"}).json()
        assert len(paged["items"]) == 1 and paged["_pagination"]["total"] == len(table)
        assert api.post("/proxy").status_code == 200
        info = api.get("/info").json()
        assert info["version"] == "6.1.1" and info["spawner"]["class"] and info["authenticator"]["class"]
    with hub.api(hub.add_user("nobody-special")) as api:
        assert api.get("/proxy").status_code == 403
        assert api.post("/shutdown").status_code == 403


def test_named_server_sign_in_through_oauth(hub: HubProcess) -> None:
    password = "named-server-lantern-otter"
    assert hub.cli("user", "add", "nora", "--password-stdin", stdin=password + "\n").returncode == 0
    token = hub.token_for("nora")
    with hub.api(token) as api:
        assert api.post("/users/nora/servers/box").status_code in (201, 202)
        assert progress_events(hub, token, "nora", "box")[-1].get("ready") is True
    person = Person(hub.origin)
    try:
        assert person.sign_in("nora", password).status_code == 302
        lab = person.follow("/user/nora/box/")
        assert lab.status_code == 200 and lab.url.path.startswith("/user/nora/box/lab"), lab.text[:300]
        assert "jupyterhub-user-nora-box" in person.client.cookies
        assert person.follow("/user/nora/box/api/status").status_code == 200
    finally:
        person.close()
    with hub.api(token) as api:
        assert api.delete("/users/nora/servers/box").status_code in (202, 204)
