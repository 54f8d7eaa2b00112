"""A managed service run by a real hub: started with the service environment and routed at /services/NAME/,
started again when it dies, taken over (not started twice) after the hub is killed and restarted, and stopped by
`commonroom shutdown`. The service is tests/support/tinyservice.py, a small HTTP server."""

from __future__ import annotations

import json
import os
import pwd
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.hubprocess import HubProcess, process_gone, started, wait_for
from tests.support.ports import free_port

pytestmark = pytest.mark.slow
TINY = Path(__file__).resolve().parents[1] / "support" / "tinyservice.py"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    service_port = free_port()
    config = (
        f'[[services]]\nname = "tiny"\nurl = "http://127.0.0.1:{service_port}"\n'
        f"command = {json.dumps([sys.executable, str(TINY)])}\n"
        'environment = {TINY_GREETING = "hello"}\n'
        '[[roles]]\nname = "tiny-reader"\nscopes = ["list:users"]\nservices = ["tiny"]\n'
    )
    with started(HubProcess(tmp_path_factory.mktemp("managed"), extra_config=config)) as process:
        yield process


@pytest.fixture(scope="module")
def admin(hub: HubProcess) -> str:
    return hub.add_user("svc-admin", admin=True)


def pid_of(hub: HubProcess, admin: str) -> int:
    with hub.api(admin) as api:
        pid: int = api.get("/services/tiny").json()["pid"]
    return pid


def through_proxy(hub: HubProcess, page: str) -> httpx.Response:
    return httpx.get(hub.url(f"services/tiny/{page}"), timeout=30)


def answers(hub: HubProcess) -> bool:
    try:
        return through_proxy(hub, "").status_code == 200
    except httpx.HTTPError:
        return False


def test_the_hub_starts_it_with_the_service_environment_behind_the_proxy(hub: HubProcess, admin: str) -> None:
    wait_for(lambda: answers(hub), 60, "the tiny service to answer through the proxy")
    env = through_proxy(hub, "env").json()
    assert env["JUPYTERHUB_SERVICE_NAME"] == "tiny" and env["JUPYTERHUB_CLIENT_ID"] == "service-tiny"
    assert env["JUPYTERHUB_API_URL"] == f"http://127.0.0.1:{hub.hub_port}/hub/api"
    assert env["JUPYTERHUB_SERVICE_PREFIX"] == "/services/tiny/"
    assert json.loads(env["JUPYTERHUB_OAUTH_ACCESS_SCOPES"]) == ["access:services", "access:services!service=tiny"]
    assert "JUPYTERHUB_ACTIVITY_URL" not in env
    who = through_proxy(hub, "whoami").json()  # its generated token works, with its role's scopes
    assert who["kind"] == "service" and who["name"] == "tiny" and "list:users" in who["scopes"], who
    with hub.api(admin) as api:
        model = api.get("/services/tiny").json()
    assert model["command"] == [sys.executable, str(TINY)] and model["pid"] > 0 and model["roles"] == ["tiny-reader"]
    with open(f"/proc/{model['pid']}/environ", "rb") as fh:
        assert b"TINY_GREETING=hello" in fh.read().split(b"\0")
    log = hub.data_dir / "logs" / "service-tiny.log"
    assert "tiny service listening" in log.read_text()


def test_a_service_that_dies_is_started_again(hub: HubProcess, admin: str) -> None:
    wait_for(lambda: answers(hub), 60, "the tiny service")
    first = pid_of(hub, admin)
    os.kill(first, signal.SIGKILL)
    second = wait_for(lambda: (p := pid_of(hub, admin)) not in (0, first) and p, 60, "a new tiny service process")
    wait_for(lambda: answers(hub), 60, "the restarted service to answer")
    assert through_proxy(hub, "whoami").json()["name"] == "tiny"  # the new process got a working token
    log = (hub.data_dir / "logs" / "service-tiny.log").read_text()
    assert "--- the hub: this service was killed (signal 9" in log and log.count("tiny service listening") >= 2
    assert second != first
    wait_for(lambda: "service tiny was killed (signal 9" in hub.log_text(), 10, "the kill in the hub's log")


def test_a_restarted_hub_takes_the_running_service_over(hub: HubProcess, admin: str) -> None:
    wait_for(lambda: answers(hub), 60, "the tiny service")
    before = pid_of(hub, admin)
    hub.kill_hub(signal.SIGKILL)
    assert answers(hub), "the service stopped with the hub"
    hub.start()
    assert pid_of(hub, admin) == before, "the new hub started a second copy instead of taking the first over"
    wait_for(lambda: "found its process (pid" in hub.log_text(), 10, "the take-over in the hub's log")
    assert through_proxy(hub, "whoami").json()["name"] == "tiny"  # its token survived the hub's restart


def test_shutdown_stops_it(hub: HubProcess, admin: str) -> None:
    pid = pid_of(hub, admin)
    hub.kill_hub(signal.SIGTERM)
    assert Path(f"/proc/{pid}").exists(), "stopping the hub alone must leave the service running"
    result = hub.cli("shutdown")
    assert result.returncode == 0, result.stderr
    wait_for(lambda: not hub.processes_of_this_hub(), 30, "shutdown to end the service, proxy and servers")


def test_a_service_removed_from_the_config_is_stopped_at_the_next_start(tmp_path: Path) -> None:
    port = free_port()
    service = f'[[services]]\nname = "gone"\nurl = "http://127.0.0.1:{port}"\ncommand = {json.dumps([sys.executable, str(TINY)])}\n'
    with started(HubProcess(tmp_path, extra_config=service)) as hub:
        admin = hub.add_user("gone-admin", admin=True)
        with hub.api(admin) as api:
            pid = wait_for(lambda: api.get("/services/gone").json()["pid"], 30, "the service's process")
        hub.kill_hub(signal.SIGTERM)
        hub.config_path.write_text(hub.config_path.read_text().replace(service, ""))
        hub.start()
        wait_for(lambda: process_gone(pid), 30, "the removed service to stop")
        with hub.api(admin) as api:
            assert api.get("/services/gone").status_code == 404
            assert "/services/gone/" not in api.get("/proxy").json()


def test_a_command_that_cannot_run_stops_the_start_with_the_reason(tmp_path: Path) -> None:
    config = '[[services]]\nname = "broken"\ncommand = ["/nonexistent/bin/helper", "--now"]\n'
    hub = HubProcess(tmp_path, extra_config=config)
    with pytest.raises(RuntimeError) as failed:
        hub.start(timeout=60)
    try:
        assert "services.broken.command" in str(failed.value) and "No such file or directory" in str(failed.value)
    finally:
        hub.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="running a service as another OS account needs root")
def test_a_service_runs_as_the_os_account_its_config_names(tmp_path: Path) -> None:
    account = f"crsvc{os.getpid() % 100000}"
    made = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", account],
                          capture_output=True, text=True)  # fmt: skip
    assert made.returncode == 0, made.stderr
    workdir, hubdir = tmp_path / "svc-cwd", tmp_path / "hub"
    workdir.mkdir(mode=0o755)
    hubdir.mkdir()
    try:
        service = (
            f'[[services]]\nname = "as-account"\nurl = "http://127.0.0.1:{free_port()}"\nuser = "{account}"\n'
            f'cwd = "{workdir}"\ncommand = ["/usr/bin/python3", "{TINY}"]\n'  # a python the account can run
        )
        with started(HubProcess(hubdir, extra_config=service)) as hub:
            admin = hub.add_user("acct-admin", admin=True)
            with hub.api(admin) as api:
                pid = wait_for(lambda: api.get("/services/as-account").json()["pid"], 30, "the service's process")
            status = Path(f"/proc/{pid}/status").read_text()
            uid = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
            assert set(uid) == {str(pwd.getpwnam(account).pw_uid)}, status
            wait_for(lambda: httpx.get(hub.url("services/as-account/env"), timeout=10).status_code == 200, 60, "it to answer")
            env = httpx.get(hub.url("services/as-account/env"), timeout=10).json()
            assert env["JUPYTERHUB_USER"] == account
    finally:
        subprocess.run(["userdel", account], capture_output=True)
