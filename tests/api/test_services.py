"""The services API against a real hub: config services, a runtime one added and removed, what each caller sees.

The hub's config (tests/api/conftest.py) holds two external services: from-config (with a url) and reader,
whose role lets it list services and read from-config only.
"""

from __future__ import annotations

import httpx

from tests.api.conftest import CONFIG_SERVICE_TOKEN, READER_SERVICE_TOKEN
from tests.support.hubprocess import HubProcess, wait_for


def test_admin_lists_config_services_with_every_field(hub: HubProcess, admin: str) -> None:
    with hub.api(admin) as api:
        listed = api.get("/services").json()
        assert {"from-config", "reader"} <= set(listed)
        model = api.get("/services/from-config").json()
    assert model == listed["from-config"]
    assert model == {
        "kind": "service", "name": "from-config", "admin": False, "roles": [], "url": "http://127.0.0.1:9",
        "prefix": "/services/from-config/", "command": [], "pid": 0, "info": {}, "display": True,
    }  # fmt: skip
    assert listed["reader"]["roles"] == ["service-reader"] and listed["reader"]["prefix"] == ""


def test_a_service_token_is_a_service_with_the_scopes_of_its_roles(hub: HubProcess) -> None:
    with hub.api(READER_SERVICE_TOKEN) as api:
        who = api.get("/user").json()
        assert who["kind"] == "service" and who["name"] == "reader", who
        assert "list:services" in who["scopes"] and "read:services!service=from-config" in who["scopes"]
        listed = api.get("/services").json()
        assert listed["from-config"]["url"] == "http://127.0.0.1:9"  # read:services on it: every field
        assert listed["reader"] == {"kind": "service", "name": "reader", "admin": False}  # only listed
        assert api.get("/services/from-config").status_code == 200
        assert api.post("/services/sneaky", json={}).status_code == 403
        assert api.get("/users").status_code == 403
    with hub.api(CONFIG_SERVICE_TOKEN) as api:  # a service without roles may only say who it is
        assert api.get("/user").json()["scopes"] == ["read:services:name!service=from-config"]
        assert api.get("/services").status_code == 403


def test_people_without_service_scopes_are_refused(hub: HubProcess) -> None:
    with hub.api(hub.add_user("no-services")) as api:
        assert api.get("/services").status_code == 403
        assert api.get("/services/from-config").status_code == 403
        assert api.delete("/services/reader").status_code == 403


def test_a_runtime_service_gets_a_token_and_a_route_and_goes_away_with_both(hub: HubProcess, admin: str) -> None:
    with hub.api(admin) as api:
        made = api.post("/services/dashboard", json={"url": "http://127.0.0.1:9", "info": {"team": "ops"}})
        assert made.status_code == 201, made.text
        body = made.json()
        token = body.pop("api_token")
        assert body["name"] == "dashboard" and body["prefix"] == "/services/dashboard/" and body["info"] == {"team": "ops"}
        assert api.post("/services/dashboard", json={}).status_code == 409
        assert wait_for(lambda: "/services/dashboard/" in api.get("/proxy").json(), 10, "the service's route")
        with hub.api(token) as own:
            assert own.get("/user").json()["name"] == "dashboard"
        assert api.delete("/services/dashboard").status_code == 200
        assert api.get("/services/dashboard").status_code == 404
        assert "/services/dashboard/" not in api.get("/proxy").json()
    assert httpx.get(hub.url("hub/api/user"), headers={"Authorization": f"token {token}"}).status_code == 403


def test_a_runtime_service_may_bring_its_own_token(hub: HubProcess, admin: str) -> None:
    with hub.api(admin) as api:
        made = api.post("/services/own-token", json={"api_token": "picked-by-a-person-42"})
        assert made.status_code == 201 and made.json()["api_token"] == "picked-by-a-person-42"
        with hub.api("picked-by-a-person-42") as own:
            assert own.get("/user").json()["name"] == "own-token"
        assert api.delete("/services/own-token").status_code == 200


def test_config_services_cannot_be_replaced_or_removed_at_runtime(hub: HubProcess, admin: str) -> None:
    with hub.api(admin) as api:
        removal = api.delete("/services/from-config")
        assert removal.status_code == 405 and "config file" in removal.json()["message"]
        assert api.post("/services/from-config", json={}).status_code == 409
        refused = api.post("/services/managed", json={"command": ["sleep", "60"]})
        assert refused.status_code == 400 and "[[services]]" in refused.json()["message"]
        assert api.get("/services/managed").status_code == 404


def test_only_someone_holding_every_admin_scope_may_add_an_admin_service(hub: HubProcess, admin: str) -> None:
    with hub.api(hub.token_for("svc-manager")) as api:  # holds admin:services, nothing of the admin role beyond
        refused = api.post("/services/wannabe", json={"admin": True})
        assert refused.status_code == 400 and "admin role" in refused.json()["message"]
        assert api.get("/services/wannabe").status_code == 404
        assert api.post("/services/plain", json={}).status_code == 201
        assert api.delete("/services/plain").status_code == 200
    with hub.api(admin) as api:
        made = api.post("/services/trusted", json={"admin": True}).json()
        assert made["admin"] is True and "admin" in made["roles"]
        with hub.api(made["api_token"]) as own:
            assert "admin:users" in own.get("/user").json()["scopes"]
        assert api.delete("/services/trusted").status_code == 200
