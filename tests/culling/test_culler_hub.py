"""The culler in a real hub with short timeouts: silent work is kept, idle servers go within one check of
their deadline, homes survive, and a maximum age stops even a busy server.

Timing windows are generous on purpose: these check behaviour, not speed (the machine is shared).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from commonroom.timeutil import parse_iso
from tests.support.browserless import Person
from tests.support.hubprocess import HubProcess, started, wait_for
from tests.support.kernel import _message

IDLE_TIMEOUT, CHECK_INTERVAL = 20, 2
SLACK = 10
"""Seconds a stop may come after the check that decided it (a loaded 2-core machine)."""
PASSWORD = "quiet-heron-counts-pebbles"


def culler_config(**culler: float) -> str:
    return "[culler]\n" + "".join(f"{key} = {value}\n" for key, value in culler.items())


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    config = culler_config(idle_timeout=IDLE_TIMEOUT, check_interval=CHECK_INTERVAL, warning_before=10)
    with started(HubProcess(tmp_path_factory.mktemp("culler"), extra_config=config)) as process:
        yield process


def start_server(hub: HubProcess, name: str) -> str:
    result = hub.cli("user", "add", name, "--password-stdin", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    token = hub.token_for(name)
    with hub.api(token) as api:
        begun = api.post(f"/users/{name}/server")
        assert begun.status_code in (201, 202), f"{begun.text}\n{hub.log_text()}"
        wait_for(lambda: api.get(f"/users/{name}").json()["servers"].get("", {}).get("ready"), 90, "the server", 0.2)
    return token


def server_model(hub: HubProcess, token: str, name: str) -> dict[str, Any]:
    with hub.api(token) as api:
        model: dict[str, Any] = api.get(f"/users/{name}").json()["servers"].get("", {})
        return model


def stays_running(hub: HubProcess, token: str, name: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        model = server_model(hub, token, name)
        assert model.get("ready"), f"{name}'s server was stopped while working: {model}"
        time.sleep(1)


def busy_with(hub: HubProcess, token: str, name: str, kind: str, command: str) -> None:
    """Start a kernel (or terminal) running `command`, then close the websocket: the work goes on silently."""
    headers = {"Authorization": f"token {token}"}
    base = f"{hub.origin}/user/{name}/api/{kind}"
    made = httpx.post(base, headers=headers, json={"name": "python3"} if kind == "kernels" else {}, timeout=60)
    assert made.status_code in (200, 201), made.text
    ident = made.json()["id" if kind == "kernels" else "name"]
    path = f"api/kernels/{ident}/channels" if kind == "kernels" else f"terminals/websocket/{ident}"
    with connect(f"ws://127.0.0.1:{hub.public_port}/user/{name}/{path}", additional_headers=headers) as ws:
        if kind == "kernels":
            ws.send(json.dumps(_message(command, "silent")))
            wait_for(lambda: _state(ws) == "busy", 30, "the kernel to be busy")
        else:
            ws.send(json.dumps(["stdin", command + "\r"]))
            time.sleep(1)


def _state(ws: Any) -> str | None:
    reply = json.loads(ws.recv(timeout=30))
    return reply["content"].get("execution_state") if reply.get("msg_type") == "status" else None


def test_a_kernel_sleeping_past_the_timeout_is_not_culled(hub: HubProcess) -> None:
    token = start_server(hub, "sleeper")
    busy_with(hub, token, "sleeper", "kernels", "import time; time.sleep(600)")
    stays_running(hub, token, "sleeper", IDLE_TIMEOUT * 2)


def test_a_terminal_running_a_command_is_not_culled(hub: HubProcess) -> None:
    token = start_server(hub, "builder")
    busy_with(hub, token, "builder", "terminals", "sleep 600")
    stays_running(hub, token, "builder", IDLE_TIMEOUT * 2)


def test_an_idle_server_is_culled_within_one_check_of_its_deadline_and_the_home_survives(hub: HubProcess) -> None:
    token = start_server(hub, "idler")
    headers = {"Authorization": f"token {token}"}
    saved = httpx.put(f"{hub.origin}/user/idler/api/contents/notes.txt", headers=headers, timeout=30,
                      json={"type": "file", "format": "text", "content": "still here"})  # fmt: skip
    assert saved.status_code in (200, 201), saved.text
    last_seen = None
    while (model := server_model(hub, token, "idler")).get("ready"):
        last_seen = parse_iso(model["last_activity"]).replace(tzinfo=UTC).timestamp()
        assert time.time() < last_seen + IDLE_TIMEOUT + CHECK_INTERVAL + SLACK, "not culled in time"
        time.sleep(0.25)
    stopped_at = time.time()
    assert last_seen is not None
    assert last_seen + IDLE_TIMEOUT <= stopped_at <= last_seen + IDLE_TIMEOUT + CHECK_INTERVAL + SLACK

    person = Person(hub.origin)
    try:
        person.sign_in("idler", PASSWORD)
        home = wait_for(lambda: (p := person.client.get("/hub/home")).text.count('id="start"') and p, 30, "the stop")
        assert "Your server was stopped after 20 s without activity. Your files are kept" in home.text
        assert 'id="last-notice"' in home.text and 'id="last-failure"' not in home.text  # news, not a failure
    finally:
        person.close()
    start_again(hub, token, "idler")
    back = httpx.get(f"{hub.origin}/user/idler/api/contents/notes.txt", headers=headers, timeout=30)
    assert back.status_code == 200 and back.json()["content"] == "still here"


def start_again(hub: HubProcess, token: str, name: str) -> None:
    with hub.api(token) as api:
        assert api.post(f"/users/{name}/server").status_code in (201, 202)
        wait_for(lambda: api.get(f"/users/{name}").json()["servers"].get("", {}).get("ready"), 90, "the server", 0.2)


def test_the_owner_is_warned_and_one_click_keeps_the_server(hub: HubProcess) -> None:
    token = start_server(hub, "keeper")
    person = Person(hub.origin)
    try:
        person.sign_in("keeper", PASSWORD)
        warned = wait_for(lambda: "for inactivity" in (p := person.client.get("/hub/home")).text and p, 30, "the warning")
        assert "Your server will be stopped in" in warned.text and 'id="keep-running"' in warned.text
        before = server_model(hub, token, "keeper")["last_activity"]
        kept = person.post_form("/hub/keep-running", {}, form_page="/hub/home")
        assert kept.status_code == 302 and kept.headers["location"] == "/hub/home"
        assert parse_iso(server_model(hub, token, "keeper")["last_activity"]) > parse_iso(before)
        with hub.api(token) as api:
            status = api.get("/users/keeper/server/cull").json()
        assert status["action"] == "keep" and status["cause"] == "idle" and status["seconds_left"] > 10
        forged = person.client.post("/hub/keep-running", data={"_xsrf": "forged"})
        assert forged.status_code == 403
    finally:
        person.close()


def test_the_cull_status_is_the_owners_alone(hub: HubProcess) -> None:
    owner = start_server(hub, "private")
    other = hub.add_user("nosy")
    with hub.api(other) as api:
        assert api.get("/users/private/server/cull").status_code == 404
        assert api.post("/users/private/server/cull").status_code == 404
    with hub.api(owner) as api:
        assert api.get("/users/private/server/cull").json()["cause"] == "idle"
        api.delete("/users/private/server")
        wait_for(lambda: not api.get("/users/private").json()["servers"], 30, "the stop")
        refused = api.post("/users/private/server/cull")
        assert refused.status_code == 400 and "not running" in refused.json()["message"]


def test_max_age_stops_even_a_busy_server(tmp_path_factory: pytest.TempPathFactory) -> None:
    config = culler_config(idle_timeout=0, max_age=25, check_interval=CHECK_INTERVAL, warning_before=5)
    with started(HubProcess(tmp_path_factory.mktemp("maxage"), extra_config=config)) as hub:
        token = start_server(hub, "marathon")
        begun = parse_iso(server_model(hub, token, "marathon")["started"]).replace(tzinfo=UTC).timestamp()
        busy_with(hub, token, "marathon", "kernels", "import time; time.sleep(600)")
        wait_for(lambda: not server_model(hub, token, "marathon").get("ready"), 25 + CHECK_INTERVAL + SLACK + 10, "max_age")
        assert time.time() >= begun + 25
        assert datetime.now(UTC).timestamp() <= begun + 25 + CHECK_INTERVAL + SLACK
