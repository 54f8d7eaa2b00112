"""Spawn throttling (429 + Retry-After), deleting a user with a server under way, and POST /shutdown, on a
hub whose servers never answer (so a spawn stays pending for a few seconds) and one spawn at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.support.hubprocess import HubProcess, started, wait_for

SPAWNER = '[spawner]\ncmd = ["sleep", "60"]\nhttp_timeout = 6\n'


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    workdir = tmp_path_factory.mktemp("controls")
    process = HubProcess(workdir, extra_config=SPAWNER)
    config = process.config_path.read_text()
    limits = "[hub]\nconcurrent_spawn_limit = 1\nslow_spawn_timeout = 1\n"
    process.config_path.write_text(config.replace("[hub]\n", limits, 1))
    with started(process):
        yield process


def _start_in_background(api: httpx.Client, name: str) -> threading.Thread:
    thread = threading.Thread(target=lambda: api.post(f"/users/{name}/server"), daemon=True)
    thread.start()
    return thread


def test_spawn_limit_answers_429_with_retry_after(hub: HubProcess, admin: str) -> None:
    with hub.api(admin) as api:
        api.post("/users", json={"usernames": ["slow-sam", "late-lou"]})
        first = _start_in_background(api, "slow-sam")
        wait_for(lambda: api.get("/users/slow-sam").json()["pending"] == "spawn", 10, "slow-sam's spawn to be pending")
        again = api.post("/users/slow-sam/server", timeout=30)
        assert again.status_code == 202, again.text  # a spawn already under way: JupyterHub answers 202 at once
        refused = api.post("/users/late-lou/server")
        assert refused.status_code == 429, refused.text
        assert 30 <= int(refused.headers["retry-after"]) <= 60
        assert refused.json()["status"] == 429 and "try again" in refused.json()["message"]
        assert api.get("/users/late-lou").json()["servers"] == {}
        # Deleting a user stops (here: cancels) their server first.
        assert api.delete("/users/slow-sam").status_code == 204
        assert api.get("/users/slow-sam").status_code == 404
        first.join(timeout=30)


def _together(count: int, send: Callable[[httpx.Client], httpx.Response], hub: HubProcess, token: str) -> list[int]:
    """The statuses of `count` requests sent at the same moment, each on its own connection."""
    together = threading.Barrier(count)
    replies: list[httpx.Response] = []

    def one() -> None:
        with hub.api(token) as api:
            together.wait()
            replies.append(send(api))

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(replies) == count, "a request did not come back"
    return sorted(reply.status_code for reply in replies)


def test_starts_and_stops_sent_together_join_one_spawn_and_one_stop(hub: HubProcess, admin: str) -> None:
    """A double click, or a script and a person at once: every start joins the one spawn and every stop the one
    stop (here: the cancelled spawn); none is refused and none fails."""
    with hub.api(admin) as api:
        assert api.post("/users", json={"usernames": ["twin"]}).status_code == 201
    assert _together(6, lambda api: api.post("/users/twin/server", timeout=30), hub, admin) == [202] * 6
    servers = hub.processes_for("twin")
    assert len(servers) == 1, f"one spawn, one server process: {servers}"
    assert _together(4, lambda api: api.delete("/users/twin/server", timeout=30), hub, admin) == [204] * 4
    with hub.api(admin) as api:
        assert api.get("/users/twin").json()["servers"] == {}
        assert api.delete("/users/twin").status_code == 204
    wait_for(lambda: not hub.processes_for("twin"), 10, "twin's server process to end")


def test_shutdown_stops_the_hub_and_proxy(hub: HubProcess, admin: str) -> None:
    with hub.api(admin) as api:
        reply = api.post("/shutdown", json={"servers": True, "proxy": True})
        assert reply.status_code == 202 and reply.json() == {"message": "Shutting down Hub"}
    assert hub.proc is not None
    hub.proc.wait(timeout=30)
    try:
        wait_for(lambda: not hub.processes_of_this_hub(), 20, "the proxy and servers to end")
    except TimeoutError:
        raise AssertionError(f"still running after the hub exited: {hub.describe_processes_of_this_hub()}") from None
