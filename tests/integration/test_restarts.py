"""The hub and the proxy can each restart while people work: nobody's server stops, routes come back; on
SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import httpx
import pytest

from tests.support.browserless import Person
from tests.support.hubprocess import HubProcess, process_gone, wait_for

PASSWORD = "velvet-otter-carries-lanterns"


@pytest.fixture(scope="module")
def hub(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    config = "[spawner]\npoll_interval = 1\n"
    process = HubProcess(tmp_path_factory.mktemp("restarts"), extra_config=config, database_url=database_url)
    process.start()
    try:
        yield process
    finally:
        process.stop()


def wait_ready(hub: HubProcess, token: str, name: str) -> None:
    with hub.api(token) as api:
        wait_for(lambda: api.get(f"/users/{name}").json().get("server"), 90, f"{name}'s server to be ready", 0.2)


def reaches_server(hub: HubProcess, token: str, name: str) -> bool:
    try:
        response = httpx.get(f"{hub.origin}/user/{name}/api/status", headers={"Authorization": f"token {token}"}, timeout=5)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def test_hub_restart_keeps_servers_running(hub: HubProcess) -> None:
    token = hub.add_user("frank")
    with hub.api(token) as api:
        assert api.post("/users/frank/server").status_code in (201, 202)
    wait_ready(hub, token, "frank")
    assert reaches_server(hub, token, "frank")
    server_pid = hub.server_states()[0]["pid"]
    hub.kill_hub(signal.SIGKILL)
    # With the hub down, the proxy still routes to the running server, and the server still knows who the
    # person is from its recent check of the token, so people keep working.
    assert reaches_server(hub, token, "frank")
    hub.start()
    os.kill(server_pid, 0)  # the same process is still alive
    with hub.api(token) as api:
        model = api.get("/users/frank").json()
        assert model["servers"][""]["ready"] is True
    assert reaches_server(hub, token, "frank")
    with hub.api(token) as api:
        assert api.delete("/users/frank/server").status_code in (202, 204)
    wait_for(lambda: process_gone(server_pid), 20, "the server to exit")


def test_proxy_restart_restores_routes(hub: HubProcess) -> None:
    token = hub.add_user("gina")
    with hub.api(token) as api:
        api.post("/users/gina/server")
    wait_ready(hub, token, "gina")
    old_pid = hub.proxy_pid()
    assert old_pid
    os.kill(old_pid, signal.SIGKILL)
    wait_for(lambda: hub.proxy_pid() not in (None, old_pid), 20, "the hub to start a new proxy")
    wait_for(lambda: reaches_server(hub, token, "gina"), 20, "the route to gina's server to come back")


def test_server_that_dies_is_noticed_and_explained(hub: HubProcess) -> None:
    assert hub.cli("user", "add", "hank", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    token = hub.token_for("hank")
    with hub.api(token) as api:
        api.post("/users/hank/server")
    wait_ready(hub, token, "hank")
    os.killpg(_pid_of(hub, "hank"), signal.SIGKILL)
    with hub.api(token) as api:
        wait_for(lambda: api.get("/users/hank").json()["servers"] == {}, 20, "the hub to notice the dead server")
    assert not reaches_server(hub, token, "hank")
    person = Person(hub.origin)
    try:
        person.sign_in("hank", PASSWORD)
        home = person.client.get("/hub/home").text
        assert "stopped unexpectedly" in home and "signal 9" in home, home
    finally:
        person.close()


def _pid_of(hub: HubProcess, name: str) -> int:
    """The process-group leader of `name`'s server, from the hub's record of it (a server forked from the
    launcher shows the launcher's environment in /proc, so that cannot tell whose server it is)."""
    for state in hub.server_states():
        if str(state.get("log", "")).endswith(f"/{name}.log") and os.getpgid(state["pid"]) == state["pid"]:
            return int(state["pid"])
    raise AssertionError(f"no server process of {name}")
