"""Servers forked from the hub's launcher are as isolated as Popen'd ones: seen from /proc of the server and
from a kernel inside it. Also: a launcher that dies is replaced, and the spawn in between still starts."""

from __future__ import annotations

import ast
import json
import os
import pwd
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import welcome_folder
from tests.support.hubprocess import HubProcess, wait_for
from tests.support.kernel import run_code

HUB_ONLY = "CR_TEST_HUB_ONLY_SECRET"
"""In the hub's environment, never in a server's."""

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="per-person OS accounts need root")


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    workdir = tmp_path_factory.mktemp("hub")
    process = HubProcess(workdir, extra_config=f'[spawner]\nwelcome_dir = "{welcome_folder(workdir)}"\npoll_interval = 1\n')
    os.environ[HUB_ONLY] = "the-hubs-own-" + os.urandom(6).hex()
    try:
        process.start()
    finally:
        del os.environ[HUB_ONLY]
    try:
        yield process
    finally:
        process.stop()


def start(hub: HubProcess, token: str, name: str) -> int:
    """Start `name`'s server and return its pid."""
    with hub.api(token) as api:
        assert api.post(f"/users/{name}/server").status_code in (201, 202)
        wait_for(lambda: api.get(f"/users/{name}").json().get("server"), 90, f"{name}'s server to be ready", 0.2)
    return next(int(state["pid"]) for state in hub.server_states() if state.get("account", "").endswith(name))


def stop(hub: HubProcess, token: str, name: str) -> None:
    with hub.api(token) as api:
        api.delete(f"/users/{name}/server")
        wait_for(lambda: not api.get(f"/users/{name}").json().get("server"), 60, f"{name}'s server to stop", 0.2)


def status_of(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


def launcher_pid(hub: HubProcess) -> int:
    assert hub.proc is not None
    for entry in os.listdir("/proc"):
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            if b"commonroom.spawners.zygote" in cmdline and status_of(int(entry))["PPid"] == str(hub.proc.pid):
                return int(entry)
        except (OSError, ValueError, KeyError):
            continue
    raise AssertionError("the hub has no launcher")


def sockets_of(pid: int) -> set[str]:
    targets = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            targets.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
    return {target for target in targets if target.startswith("socket:")}


def in_kernel(hub: HubProcess, token: str, name: str, code: str) -> str:
    headers = {"Authorization": f"token {token}"}
    kernel = httpx.post(f"{hub.origin}/user/{name}/api/kernels", headers=headers, json={"name": "python3"}, timeout=60)
    assert kernel.status_code == 201, kernel.text
    ws_url = f"ws://127.0.0.1:{hub.public_port}/user/{name}/api/kernels/{kernel.json()['id']}/channels"
    return run_code(ws_url, code, headers=headers)


def test_a_forked_server_has_exactly_its_accounts_identity_and_nothing_of_the_hub_or_launcher(hub: HubProcess) -> None:
    token = hub.add_user("fern")
    pid = start(hub, token, "fern")
    account = pwd.getpwnam(f"{hub.account_prefix}fern")
    launcher = launcher_pid(hub)

    server = status_of(pid)
    assert server["PPid"] == str(launcher)  # forked, not Popen'd by the hub
    assert server["Uid"].split() == [str(account.pw_uid)] * 4
    assert server["Gid"].split() == [str(account.pw_gid)] * 4
    assert sorted(server["Groups"].split()) == sorted(str(g) for g in os.getgrouplist(account.pw_name, account.pw_gid))
    assert "0" not in server["Groups"].split()
    assert server["CapEff"] == "0000000000000000"
    assert os.readlink(f"/proc/{pid}/cwd") == account.pw_dir
    assert os.stat(f"/proc/{pid}").st_uid == account.pw_uid  # its owner may look at it, as at a Popen'd one
    assert os.getsid(pid) == pid
    log = hub.data_dir / "logs" / "fern.log"
    assert os.readlink(f"/proc/{pid}/fd/0") == "/dev/null"
    assert os.readlink(f"/proc/{pid}/fd/1") == os.readlink(f"/proc/{pid}/fd/2") == str(log)
    assert not sockets_of(pid) & sockets_of(launcher)
    files = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    assert not [f for f in files if f.startswith(str(hub.data_dir)) and f != str(log)]
    assert HUB_ONLY.encode() not in Path(f"/proc/{pid}/environ").read_bytes()

    seen = ast.literal_eval(in_kernel(hub, token, "fern", (
        "import os, json; s = open(f'/proc/{os.getppid()}/status').read(); "
        "(os.getuid(), sorted(os.getgroups()), json.dumps(dict(os.environ)), os.getppid(), "
        "[l for l in s.splitlines() if l.startswith(('Uid', 'Groups'))])"
    )))  # fmt: skip
    uid, groups, env_json, kernel_parent, parent_status = seen
    env = json.loads(env_json)
    assert uid == account.pw_uid
    assert groups == sorted(os.getgrouplist(account.pw_name, account.pw_gid))
    assert kernel_parent == pid
    assert parent_status[0].split()[1:] == [str(account.pw_uid)] * 4
    assert HUB_ONLY not in env
    assert env["HOME"] == account.pw_dir and env["USER"] == account.pw_name
    assert env["JUPYTERHUB_USER"] == "fern" and env["JUPYTERHUB_API_TOKEN"]
    stop(hub, token, "fern")


def test_deleting_a_file_puts_it_in_the_persons_own_trash(hub: HubProcess) -> None:
    """send2trash reads HOME and the uid when imported: the fork must not leave it with the launcher's."""
    token = hub.add_user("gale")
    start(hub, token, "gale")
    home = Path(pwd.getpwnam(f"{hub.account_prefix}gale").pw_dir)
    headers = {"Authorization": f"token {token}"}
    url = f"{hub.origin}/user/gale/api/contents/scratch.txt"
    assert httpx.put(url, headers=headers, json={"type": "file", "format": "text", "content": "x"}, timeout=30).status_code == 201

    assert httpx.delete(url, headers=headers, timeout=30).status_code == 204

    assert (home / ".local/share/Trash/files/scratch.txt").read_text() == "x"
    stop(hub, token, "gale")


def test_a_launcher_that_died_is_replaced_and_the_start_in_between_still_works(hub: HubProcess) -> None:
    token = hub.add_user("hale")
    os.kill(launcher_pid(hub), 9)
    wait_for(lambda: not (hub.data_dir / "launcher.sock").exists() or _launcher_gone(hub), 10, "the launcher to die")

    popened = start(hub, token, "hale")
    assert hub.proc is not None
    assert status_of(popened)["PPid"] == str(hub.proc.pid)  # started the slow way, by the hub itself
    stop(hub, token, "hale")
    wait_for(lambda: (hub.data_dir / "launcher.sock").exists(), 60, "a new launcher to be ready")

    forked = start(hub, token, "hale")
    assert status_of(forked)["PPid"] == str(launcher_pid(hub))
    wait_for(lambda: "launcher exited" in hub.log_text(), 10, "the launcher's exit in the log")
    stop(hub, token, "hale")


def _launcher_gone(hub: HubProcess) -> bool:
    try:
        launcher_pid(hub)
    except AssertionError:
        return True
    return False
