"""Spawns that fail say why, in the API and on the page, and leave nothing behind: no process, no route,
no server stuck pending — including when the hub itself is killed in the middle of a spawn."""

from __future__ import annotations

import shutil
import signal
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.hubprocess import HubProcess, wait_for

# A stand-in single-user command whose behaviour depends on who starts it, so one hub shows every failure.
MISBEHAVING_SERVER = textwrap.dedent(
    """
    import os, socket, sys, time, http.server, urllib.parse
    user = os.environ["JUPYTERHUB_USER"]
    url = urllib.parse.urlsplit(os.environ["JUPYTERHUB_SERVICE_URL"])
    if user == "crash":
        print("ImportError: the notebook extension could not be loaded", file=sys.stderr)
        sys.exit(3)
    if user == "porttaken":
        first = socket.create_server((url.hostname, url.port))
        socket.create_server((url.hostname, url.port))
    if user == "silent" or user.startswith("slow"):
        time.sleep(600)
    """
)


@pytest.fixture(scope="module")
def hub(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    workdir = tmp_path_factory.mktemp("failures")
    # Readable by the per-person accounts, unlike pytest's private temp folder.
    scripts = Path(tempfile.mkdtemp(prefix="crscripts-"))
    scripts.chmod(0o755)
    script = scripts / "server.py"
    script.write_text(MISBEHAVING_SERVER)
    script.chmod(0o755)
    config = f"[spawner]\ncmd = [{str(sys.executable)!r}, {str(script)!r}]\nhttp_timeout = 4\nstart_timeout = 20\n"
    process = HubProcess(workdir, extra_config=config.replace("'", '"'), database_url=database_url)
    process.start()
    try:
        yield process
    finally:
        process.stop()
        shutil.rmtree(scripts)


def assert_clean(hub: HubProcess, token: str, name: str) -> None:
    with hub.api(token) as api:
        model = api.get(f"/users/{name}").json()
    assert model["servers"] == {} and model["pending"] is None
    assert not hub.processes_for(name)
    routes = httpx.get(f"{hub.origin}/user/{name}/", timeout=10)
    assert routes.status_code in (302, 303), "no route may be left to a failed server"


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("crash", "the notebook extension could not be loaded"),
        ("porttaken", "Address already in use"),
        ("silent", "did not answer within 4 s"),
    ],
)
def test_failed_start_is_explained_and_cleaned_up(hub: HubProcess, name: str, words: str) -> None:
    token = hub.add_user(name)
    with hub.api(token) as api:
        response = api.post(f"/users/{name}/server")
    assert response.status_code == 500, response.text
    body = response.json()
    assert body["status"] == 500 and words in body["message"], body
    assert_clean(hub, token, name)
    with hub.api(token) as api:
        stream = api.get(f"/users/{name}/server/progress")
    assert stream.status_code == 200 and '"failed": true' in stream.text and words in stream.text


def test_hub_killed_mid_spawn_leaves_nothing_pending(hub: HubProcess) -> None:
    token = hub.add_user("slow")
    with hub.api(token) as api:
        with pytest.raises(httpx.ReadTimeout):
            api.post("/users/slow/server", timeout=0.5)
        assert api.get("/users/slow").json()["pending"] == "spawn"
    wait_for(lambda: hub.processes_for("slow"), 10, "the slow server process to exist")
    hub.kill_hub(signal.SIGKILL)
    hub.start()
    assert_clean(hub, token, "slow")


def test_stop_during_a_spawn_cancels_it(hub: HubProcess) -> None:
    token = hub.add_user("slowstop")
    with hub.api(token) as api:
        with pytest.raises(httpx.ReadTimeout):
            api.post("/users/slowstop/server", timeout=0.5)
        assert api.delete("/users/slowstop/server").status_code == 204
        events = api.get("/users/slowstop/server/progress").text
    assert '"message": "Spawn cancelled"' in events
    assert_clean(hub, token, "slowstop")


def test_missing_command_is_explained(tmp_path: Path) -> None:
    process = HubProcess(tmp_path, extra_config='[spawner]\ncmd = ["/opt/nowhere/jupyterhub-singleuser"]\n')
    process.start()
    try:
        token = process.add_user("nocmd")
        with process.api(token) as api:
            response = api.post("/users/nocmd/server")
        assert response.status_code == 500
        message = response.json()["message"]
        assert "/opt/nowhere/jupyterhub-singleuser" in message and "spawner.cmd" in message
        assert_clean(process, token, "nocmd")
    finally:
        process.stop()
