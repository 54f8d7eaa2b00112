"""active_server_limit, slow_spawn_timeout, consecutive_failure_limit, and PATCH /proxy onto a second proxy."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.proxy.processes import running
from tests.support.hubprocess import HubProcess, started, wait_for
from tests.support.ports import free_port

NEVER_ANSWERS = '[spawner]\ncmd = ["sleep", "60"]\nhttp_timeout = 30\n'


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    process = HubProcess(tmp_path_factory.mktemp("limits"), extra_config=NEVER_ANSWERS)
    config = process.config_path.read_text()
    limits = "[hub]\nactive_server_limit = 1\nslow_spawn_timeout = 1\nslow_stop_timeout = 0\n"
    process.config_path.write_text(config.replace("[hub]\n", limits, 1))
    with started(process):
        yield process


def test_active_server_limit_and_slow_spawn_timeout(hub: HubProcess) -> None:
    admin = hub.add_user("limit-admin", admin=True)
    with hub.api(admin) as api:
        api.post("/users", json={"usernames": ["first-fay", "second-sid"]})
        first = api.post("/users/first-fay/server")
        assert first.status_code == 202  # still starting when slow_spawn_timeout (1 s) ran out
        refused = api.post("/users/second-sid/server")
        assert refused.status_code == 429, refused.text
        assert "as many servers as it may (1)" in refused.json()["message"]
        assert 30 <= int(refused.headers["retry-after"]) <= 60
        assert api.get("/users/second-sid").json()["servers"] == {}
        assert api.delete("/users/first-fay/server").status_code in (202, 204)
        wait_for(lambda: api.get("/users/first-fay").json()["servers"] == {}, 30, "first-fay's server to stop")
        assert api.post("/users/second-sid/server").status_code == 202  # room again
        assert api.delete("/users/second-sid/server").status_code in (202, 204)


def test_patch_proxy_moves_routes_to_another_proxy_and_refuses_a_dead_one(hub: HubProcess, tmp_path: Path) -> None:
    admin = hub.add_user("proxy-admin", admin=True)
    port, api_port, token = free_port(), free_port(), "second-proxy-token"
    command = [sys.executable, "-m", "commonroom.cli", "proxy", "--ip", "127.0.0.1", "--port", str(port),
               "--api-ip", "127.0.0.1", "--api-port", str(api_port)]  # fmt: skip
    env = {**os.environ, "CONFIGPROXY_AUTH_TOKEN": token}
    with running(command, [port, api_port], tmp_path / "proxy.log", env), hub.api(admin) as api:
        dead = api.patch("/proxy", json={"api_url": f"http://127.0.0.1:{free_port()}", "auth_token": token})
        assert dead.status_code == 400 and "keeps its current proxy" in dead.json()["message"]
        wrong = api.patch("/proxy", json={"api_url": f"http://127.0.0.1:{api_port}", "auth_token": "wrong"})
        assert wrong.status_code == 400, wrong.text
        assert api.patch("/proxy", json={}).status_code == 400
        assert api.patch("/proxy", json={"api_url": "not a url"}).status_code == 400
        routes_before = api.get("/proxy").json()
        moved = api.patch("/proxy", json={"api_url": f"http://127.0.0.1:{api_port}", "auth_token": token})
        assert moved.status_code == 200, moved.text
        assert set(api.get("/proxy").json()) == set(routes_before)  # now read from the second proxy
        second = httpx.get(f"http://127.0.0.1:{api_port}/api/routes", headers={"Authorization": f"token {token}"})
        assert second.json()["/"]["hub"] is True  # the hub's own route was written there at once
        # Point the hub back, so the module's hub stops through its own proxy.
        back = api.patch("/proxy", json={"api_url": f"http://127.0.0.1:{hub.api_port}"})
        assert back.status_code == 400  # the token is now the second proxy's: refused, nothing changed
        restored = (hub.data_dir / "proxy_token").read_text().strip()
        assert api.patch("/proxy", json={"api_url": f"http://127.0.0.1:{hub.api_port}", "auth_token": restored}).status_code == 200


def test_hub_exits_after_consecutive_failures(tmp_path: Path) -> None:
    extra = '[spawner]\ncmd = ["/nonexistent/jupyterhub-singleuser"]\nconsecutive_failure_limit = 2\n'
    process = HubProcess(tmp_path, extra_config=extra)
    with started(process):
        admin = process.add_user("fail-admin", admin=True)
        with process.api(admin) as api:
            api.post("/users", json={"usernames": ["one-ola", "two-tim"]})
            assert api.post("/users/one-ola/server").status_code == 500
            assert process.proc is not None and process.proc.poll() is None  # one failure: the hub carries on
            api.post("/users/two-tim/server")
        assert process.proc is not None
        assert process.proc.wait(timeout=30) == 1
        wait_for(lambda: "spawns in a row failed" in process.log_text(), 5, "the reason in the hub's output")
