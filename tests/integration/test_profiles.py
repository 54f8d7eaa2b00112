"""Resource profiles with a real hub, real JupyterLab servers and this machine's cgroup v1 controllers.

A kernel that allocates past its server's memory limit is killed by the kernel's OOM killer (the largest
process in the server's cgroup), the person is told on their home page, and another person's server and the
hub carry on. A server that is itself killed for memory later is noticed, its route and cgroup removed, and
the reason shown. A fork bomb stops at the profile's process limit. Profiles that cannot start say why, and leave
nothing running. Unknown and forbidden profiles are refused before anything starts.
"""

from __future__ import annotations

import json
import os
import pwd
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.support.browserless import Person
from tests.support.hubprocess import HubProcess, started, wait_for
from tests.support.kernel import run_code

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="cgroups need root (CI runs as root)")

PASSWORD = "quiet-heron-counts-pebbles"
PROFILES = """
[spawner]
poll_interval = 1
start_timeout = 120
http_timeout = 90

[[spawner.profiles]]
name = "small"
description = "For lessons"
memory = "300M"
max_processes = 120
default = true

[[spawner.profiles]]
name = "starved"
memory = "8M"

[[spawner.profiles]]
name = "broken"
cmd = ["/opt/nowhere/bin/jupyterhub-singleuser"]

[[spawner.profiles]]
name = "staff"
groups = ["staff"]
"""
FORK_BOMB = """
import os, signal, time
kids, errno, deadline = [], None, time.time() + 30
try:
    while time.time() < deadline and len(kids) < 2000:
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        kids.append(pid)
except OSError as exc:
    errno = exc.errno
for pid in kids:
    os.kill(pid, signal.SIGKILL)
for pid in kids:
    os.waitpid(pid, 0)
(len(kids), errno)
"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    with started(HubProcess(tmp_path_factory.mktemp("profiles"), extra_config=PROFILES)) as process:
        yield process


@pytest.fixture(scope="module")
def tokens(hub: HubProcess) -> dict[str, str]:
    found = {}
    for name in ("alice", "bob", "carol", "dave"):
        result = hub.cli("user", "add", name, "--password-stdin", stdin=PASSWORD + "\n")
        assert result.returncode == 0, result.stderr
        found[name] = hub.token_for(name)
    return found


def start(hub: HubProcess, token: str, name: str, body: dict[str, Any]) -> httpx.Response:
    with hub.api(token) as api:
        return api.post(f"/users/{name}/server", json=body, timeout=120)


def wait_ready(hub: HubProcess, token: str, name: str) -> None:
    with hub.api(token) as api:
        wait_for(lambda: api.get(f"/users/{name}").json().get("server"), 120, f"{name}'s server to be ready", 0.3)


def stop(hub: HubProcess, token: str, name: str) -> None:
    with hub.api(token) as api:
        api.delete(f"/users/{name}/server", timeout=60)
        wait_for(lambda: not api.get(f"/users/{name}").json()["servers"], 60, f"{name}'s server to stop", 0.3)


def new_kernel(hub: HubProcess, token: str, name: str) -> str:
    headers = {"Authorization": f"token {token}"}
    kernel = httpx.post(f"{hub.origin}/user/{name}/api/kernels", headers=headers, json={"name": "python3"}, timeout=60)
    assert kernel.status_code == 201, kernel.text
    return f"ws://127.0.0.1:{hub.public_port}/user/{name}/api/kernels/{kernel.json()['id']}/channels"


def run_until_the_kernel_dies(ws_url: str, code: str, token: str, timeout: float = 120) -> str:
    """Run code and report how it ended: 'restarting' or 'dead' when the kernel died under it."""
    request = {
        "header": {"msg_id": uuid.uuid4().hex, "username": "test", "session": uuid.uuid4().hex,
                   "msg_type": "execute_request", "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {}, "allow_stdin": False},
    }  # fmt: skip
    with connect(ws_url, additional_headers={"Authorization": f"token {token}"}, open_timeout=60) as ws:
        ws.send(json.dumps(request))
        try:
            while True:
                reply = json.loads(ws.recv(timeout=timeout))
                state = reply.get("content", {}).get("execution_state")
                if reply["msg_type"] == "status" and state in ("restarting", "dead"):
                    return str(state)
                if reply.get("parent_header", {}).get("msg_id") == request["header"]["msg_id"] and reply["msg_type"] in ("execute_result", "error"):
                    return f"the code finished: {reply['content']}"
        except ConnectionClosed:
            return "closed"


def server_answers(hub: HubProcess, token: str, name: str) -> bool:
    response = httpx.get(f"{hub.origin}/user/{name}/api/status", headers={"Authorization": f"token {token}"}, timeout=30)
    return response.status_code == 200


def home_page(hub: HubProcess, name: str) -> str:
    person = Person(hub.origin)
    try:
        assert person.sign_in(name, PASSWORD).status_code == 302
        return person.client.get("/hub/home").text
    finally:
        person.close()


def test_unknown_and_forbidden_profiles_are_refused_and_start_nothing(hub: HubProcess, tokens: dict[str, str]) -> None:
    unknown = start(hub, tokens["carol"], "carol", {"user_options": {"profile": "huge"}})
    assert unknown.status_code == 400
    assert unknown.json() == {"status": 400, "message": "There is no server profile 'huge'; the ones you may use "
                                                        "are: small, starved, broken."}  # fmt: skip
    legacy = start(hub, tokens["carol"], "carol", {"profile": "huge"})
    assert legacy.status_code == 400 and "the ones you may use are: small" in legacy.json()["message"]
    forbidden = start(hub, tokens["carol"], "carol", {"user_options": {"profile": "staff"}})
    assert forbidden.status_code == 403
    assert forbidden.json()["message"] == "The profile 'staff' is only for members of staff; you may use: small, starved, broken."
    with hub.api(tokens["carol"]) as api:
        assert api.get("/users/carol").json()["servers"] == {}


def test_a_group_opens_its_profile(hub: HubProcess, tokens: dict[str, str]) -> None:
    admin = hub.add_user("profile-admin", admin=True)
    with hub.api(admin) as api:
        assert api.post("/groups/staff", json={"users": ["dave"]}).status_code == 201
        info = api.get("/info").json()["resource_limits"]
    assert info["enforcement"] == "cgroup1" and "cgroup v1" in info["description"]
    assert start(hub, tokens["dave"], "dave", {"user_options": {"profile": "staff"}}).status_code in (201, 202)
    wait_ready(hub, tokens["dave"], "dave")
    with hub.api(tokens["dave"]) as api:
        assert api.get("/users/dave").json()["servers"][""]["user_options"] == {"profile": "staff"}
    stop(hub, tokens["dave"], "dave")


def test_a_missing_profile_command_is_explained_and_leaves_nothing(hub: HubProcess, tokens: dict[str, str]) -> None:
    failed = start(hub, tokens["carol"], "carol", {"user_options": {"profile": "broken"}})
    assert failed.status_code == 500
    message = failed.json()["message"]
    assert "'/opt/nowhere/bin/jupyterhub-singleuser' was not found" in message
    assert "the cmd or venv of profile 'broken' (spawner.profiles)" in message
    with hub.api(tokens["carol"]) as api:
        assert api.get("/users/carol").json()["servers"] == {}


def test_out_of_memory_at_start_is_explained_and_leaves_nothing(hub: HubProcess, tokens: dict[str, str]) -> None:
    before = set(Path("/sys/fs/cgroup/memory").rglob("commonroom/*.carol"))
    response = start(hub, tokens["carol"], "carol", {"user_options": {"profile": "starved"}})
    with hub.api(tokens["carol"]) as api:
        wait_for(lambda: not api.get("/users/carol").json()["servers"], 120, "the starved spawn to fail", 0.3)
    page = home_page(hub, "carol")
    assert "Your server reached its memory limit of 8 MB (profile &#39;starved&#39;)." in page, (response.text, page, hub.log_text())
    assert not _processes_of_account(hub.account_prefix + "carol"), "nothing of carol's may be left running"
    assert set(Path("/sys/fs/cgroup/memory").rglob("commonroom/*.carol")) <= before, "the cgroup must be removed"


def test_a_kernel_past_the_memory_limit_dies_and_the_person_is_told(hub: HubProcess, tokens: dict[str, str]) -> None:
    for name in ("alice", "bob"):
        assert start(hub, tokens[name], name, {}).status_code in (201, 202)
    for name in ("alice", "bob"):
        wait_ready(hub, tokens[name], name)
    assert Path(cgroup_of(hub, "alice", "memory"), "memory.limit_in_bytes").read_text().strip() == str(300 << 20)
    ws_url = new_kernel(hub, tokens["alice"], "alice")
    assert run_until_the_kernel_dies(ws_url, "b = b'x' * (600 * 2**20)", tokens["alice"]) in ("restarting", "dead", "closed")
    page = home_page(hub, "alice")
    assert "Your server reached its memory limit of 300 MB (profile &#39;small&#39;)." in page, page
    assert "a notebook whose kernel was stopped shows &#39;Kernel died&#39;" in page
    assert server_answers(hub, tokens["alice"], "alice"), "JupyterLab itself survives its kernel"
    assert server_answers(hub, tokens["bob"], "bob")
    assert "reached its memory limit" not in home_page(hub, "bob")
    hub.kill_hub()
    hub.start()
    assert "Your server reached its memory limit of 300 MB (profile &#39;small&#39;)." in home_page(hub, "alice"), (
        "a restarted hub still knows the server's profile and reads the same cgroup"
    )


def test_a_fork_bomb_stops_at_the_process_limit_and_nothing_outlives_the_server(hub: HubProcess, tokens: dict[str, str]) -> None:
    for name in ("alice", "bob"):
        if not server_answers(hub, tokens[name], name):
            start(hub, tokens[name], name, {})
            wait_ready(hub, tokens[name], name)
    ws_url = new_kernel(hub, tokens["alice"], "alice")
    headers = {"Authorization": f"token {tokens['alice']}"}
    forked, errno = run_code(ws_url, FORK_BOMB, headers=headers, timeout=120).strip("()").split(", ")
    assert errno == "11" and 0 < int(forked) < 120, (forked, errno)  # EAGAIN at pids.max
    assert run_code(ws_url, "1 + 1", headers=headers) == "2"
    assert server_answers(hub, tokens["bob"], "bob")
    pids = Path(cgroup_of(hub, "alice", "pids"))
    run_code(ws_url, "import subprocess; subprocess.Popen(['setsid', 'sleep', '300']).pid", headers=headers)
    stop(hub, tokens["alice"], "alice")
    assert not pids.exists(), "stopping the server kills what it left behind and removes its cgroup"
    stop(hub, tokens["bob"], "bob")


def test_a_server_killed_for_memory_later_is_noticed_and_explained(hub: HubProcess, tokens: dict[str, str]) -> None:
    assert start(hub, tokens["alice"], "alice", {}).status_code in (201, 202)
    wait_ready(hub, tokens["alice"], "alice")
    memory = Path(cgroup_of(hub, "alice", "memory"))
    # An upload bigger than what is left of the server's memory: JupyterLab buffers the request, so this time
    # the server itself is the largest process in its cgroup, and the OOM killer takes it.
    body = b'{"type": "file", "format": "text", "content": "' + b"x" * (280 * 2**20) + b'"}'
    headers = {"Authorization": f"token {tokens['alice']}", "Content-Type": "application/json"}
    try:
        httpx.put(f"{hub.origin}/user/alice/api/contents/big.txt", content=body, headers=headers, timeout=120)
    except httpx.HTTPError:
        pass  # the server died under the request
    with hub.api(tokens["alice"]) as api:
        wait_for(lambda: not api.get("/users/alice").json()["servers"], 60, "the hub to notice the server died", 0.3)
    page = home_page(hub, "alice")
    assert "Your server stopped unexpectedly" in page
    assert "Your server reached its memory limit of 300 MB (profile &#39;small&#39;)." in page
    routes = httpx.get(f"{hub.origin}/user/alice/api/status", timeout=30)
    assert routes.status_code in (302, 303, 424), "no route may be left to a dead server"
    assert not memory.exists(), "the cgroup must be removed"


def cgroup_of(hub: HubProcess, user: str, controller: str) -> str:
    """The cgroup folder of a running server, as its spawner state records it."""
    states = [s for s in hub.server_states() if s.get("limits") and s.get("log", "").endswith(f"/{user}.log")]
    assert len(states) == 1, states
    return next(folder for folder in states[0]["limits"]["cgroups"] if f"/{controller}/" in folder)


def _processes_of_account(account: str) -> list[int]:
    """Live processes running as the OS account (a forked server's environment is its launcher's, so the uid
    is what tells whose a process is)."""
    try:
        uid = pwd.getpwnam(account).pw_uid
    except KeyError:
        return []
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields["Uid"].split()[0]) == uid and fields["State"].split()[0] != "Z":
            found.append(int(entry))
    return found
