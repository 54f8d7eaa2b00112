"""Roles over HTTP: config roles (read-only, rewritten at start), runtime roles that persist across a restart,
grants and revokes that take effect at once, and no way to hand out more than you hold."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.hubprocess import HubProcess, started

CONFIG_ROLES = """
[[roles]]
name = "user"
scopes = ["self", "shares!user"]

[[roles]]
name = "auditor"
description = "Reads the hub's info"
scopes = ["read:hub", "read:users"]
users = ["aud"]

[[roles]]
name = "old-role"
scopes = ["read:hub"]
"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    process = HubProcess(tmp_path_factory.mktemp("roleshub"), extra_config=CONFIG_ROLES)
    with started(process):
        yield process


def test_config_roles_are_loaded_and_read_only(hub: HubProcess, admin: str) -> None:
    auditor = hub.token_for("aud")  # the config created the user
    with hub.api(auditor) as api:
        assert api.get("/info").status_code == 200
        assert api.get("/user").json()["roles"] == ["auditor", "user"]
    with hub.api(admin) as api:
        role = api.get("/roles/auditor").json()
        assert role == {"kind": "role", "name": "auditor", "description": "Reads the hub's info",
                        "scopes": ["read:hub", "read:users"], "managed_by": "config", "users": ["aud"],
                        "groups": [], "services": []}  # fmt: skip
        for method, path, body in [("PUT", "/roles/auditor", {"scopes": []}), ("DELETE", "/roles/auditor", None),
                                   ("POST", "/roles/auditor/holders", {"users": ["root-admin"]})]:  # fmt: skip
            refused = api.request(method, path, json=body)
            assert refused.status_code == 409 and "config file" in refused.json()["message"]
        assert api.get("/roles/auditor").json() == role


def test_config_can_redefine_the_default_user_role(hub: HubProcess, admin: str) -> None:
    """As with JupyterHub's load_roles, the config lets every user share their servers (shares!user)."""
    anyone = hub.add_user("uma")
    with hub.api(anyone) as api:
        assert api.post("/share-codes/uma/", json={"expires_in": 600}).status_code == 200
        assert api.get("/users/uma").status_code == 200, "self is still there"
        assert api.get("/user").json()["roles"] == ["user"]
    with hub.api(admin) as api:
        assert api.get("/roles/user").json()["managed_by"] == "config"
        assert api.put("/roles/user", json={"scopes": ["self"]}).status_code == 409


def test_runtime_role_grant_and_revoke(hub: HubProcess, admin: str) -> None:
    reader = hub.add_user("rita")
    with hub.api(admin) as api:
        made = api.put("/roles/info-readers", json={"scopes": ["read:hub"], "description": "can read /info"})
        assert made.status_code == 201 and made.json()["managed_by"] == "api"
        assert api.put("/roles/info-readers", json={"scopes": ["read:hub", "read:metrics"]}).status_code == 200
        bad = api.put("/roles/broken", json={"scopes": ["read:hub", "fly:planes", "servers!planet=mars"]})
        assert bad.status_code == 400 and "fly:planes" in bad.json()["message"] and "planet" in bad.json()["message"]
        assert api.put("/roles/Bad Name", json={"scopes": []}).status_code == 400
        assert api.put("/roles/admin", json={"scopes": []}).status_code == 409
        assert api.get("/roles/broken").status_code == 404

    with hub.api(reader) as api:
        assert api.get("/info").status_code == 403
    with hub.api(admin) as api:
        granted = api.post("/roles/info-readers/holders", json={"users": ["rita"]})
        assert granted.status_code == 200 and granted.json()["users"] == ["rita"]
        assert api.get("/users/rita").json()["roles"] == ["info-readers", "user"]
    with hub.api(reader) as api:
        assert api.get("/info").status_code == 200, "the grant works on the next request, same token"
    with hub.api(admin) as api:
        assert api.request("DELETE", "/roles/info-readers/holders", json={"users": ["rita"]}).status_code == 200
    with hub.api(reader) as api:
        assert api.get("/info").status_code == 403, "the revoke works on the next request"
    with hub.api(admin) as api:
        assert api.patch("/users/rita", json={"roles": ["info-readers"]}).json()["roles"] == ["info-readers", "user"]


def test_nobody_hands_out_more_than_they_hold(hub: HubProcess, admin: str) -> None:
    deputy = hub.add_user("dep")
    hub.add_user("victim")
    with hub.api(admin) as api:
        assert api.put("/roles/deputy", json={"scopes": ["admin:users", "admin:groups", "read:roles"]}).status_code == 201
        assert api.post("/roles/deputy/holders", json={"users": ["dep"]}).status_code == 200
        assert api.put("/roles/shutdowners", json={"scopes": ["shutdown"]}).status_code == 201
        before = api.get("/roles").json()
    with hub.api(deputy) as api:
        assert api.put("/roles/mine", json={"scopes": ["shutdown"]}).status_code == 403
        assert api.post("/roles/shutdowners/holders", json={"users": ["victim"]}).status_code == 403
        assert api.patch("/users/victim", json={"roles": ["shutdowners"]}).status_code == 403
        assert api.patch("/users/dep", json={"roles": ["deputy", "shutdowners"]}).status_code == 403
        assert api.post("/groups", json={"groups": ["sneaky"], "roles": ["shutdowners"]}).status_code == 403
        lesser = api.put("/roles/user-readers", json={"scopes": ["read:users"]})
        assert lesser.status_code == 201, "a role within what the deputy holds is fine"
        assert api.post("/roles/user-readers/holders", json={"users": ["victim"]}).status_code == 200
    with hub.api(admin) as api:
        after = {r["name"]: r for r in api.get("/roles").json()}
        assert after["shutdowners"]["users"] == [] and "mine" not in after
        assert api.get("/groups/sneaky").status_code == 404
        assert {r["name"] for r in before} | {"user-readers"} == set(after)


def test_runtime_roles_persist_and_config_roles_follow_the_file(hub: HubProcess, admin: str) -> None:
    with hub.api(admin) as api:
        assert api.put("/roles/keeper", json={"scopes": ["read:hub"]}).status_code in (200, 201)
        assert api.post("/roles/keeper/holders", json={"users": ["aud"]}).status_code == 200
    config = Path(hub.config_path)
    config.write_text(config.read_text().replace(CONFIG_ROLES, CONFIG_ROLES.split("[[roles]]\nname = \"old-role\"")[0]
                                                 .replace('users = ["aud"]', "users = []")))  # fmt: skip
    hub.kill_hub(signal.SIGTERM)
    hub.start()
    with hub.api(admin) as api:
        roles = {r["name"]: r for r in api.get("/roles").json()}
        assert roles["keeper"]["users"] == ["aud"] and roles["keeper"]["managed_by"] == "api"
        assert "old-role" not in roles, "a role removed from the config is removed"
        assert roles["auditor"]["users"] == [] and roles["auditor"]["managed_by"] == "config"
