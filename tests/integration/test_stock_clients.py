"""Stock JupyterHub clients nobody here wrote, against a real Commonroom hub:

* jupyterhub's own `jupyterhub-singleuser` (from PyPI, in its own venv) as the spawned server: a person signs
  in through Commonroom's OAuth, starts a kernel and runs 1+1;
* `jupyterhub-idle-culler` as a plain process with a token holding only the scopes its README names: it
  culls an idle server and leaves an active one alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.integration.test_servers import progress_events
from tests.support.browserless import Person
from tests.support.hubprocess import FIXTURE_PROCESSES, HubProcess, started, wait_for
from tests.support.kernel import run_code
from tests.support.stockvenv import JUPYTERHUB_VERSION, stock_venv

pytestmark = pytest.mark.slow
PASSWORD = "stock-client-otter-lantern"
CULLER_SCOPES = ("list:users", "read:users:activity", "read:servers", "delete:servers")


@pytest.fixture(scope="module")
def venv() -> Path:
    return stock_venv()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, venv: Path) -> Iterator[HubProcess]:
    singleuser = venv / "bin" / "jupyterhub-singleuser"
    process = HubProcess(
        tmp_path_factory.mktemp("stockhub"),
        extra_config=f"[spawner]\ncmd = [{json.dumps(str(singleuser))}]\npoll_interval = 1\ndefault_url = \"/lab\"\n",
    )
    with started(process):
        yield process


def test_stock_singleuser_signs_in_through_oauth_and_runs_code(hub: HubProcess) -> None:
    result = hub.cli("user", "add", "stella", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    token = hub.token_for("stella")
    with hub.api(token) as api:
        assert api.post("/users/stella/server").status_code in (201, 202)
        events = progress_events(hub, token, "stella")
        assert events[-1].get("ready") is True, (events, hub.log_text())
    person = Person(hub.origin)
    try:
        assert person.sign_in("stella", PASSWORD).status_code == 302
        lab = person.follow("/user/stella/lab")
        assert lab.status_code == 200 and lab.url.path == "/user/stella/lab", lab.text[:300]
        assert lab.headers.get("x-jupyterhub-version") == JUPYTERHUB_VERSION  # stock server answered
        assert "jupyterhub-user-stella" in person.client.cookies
        who = person.client.get("/user/stella/api/me")
        assert who.status_code == 200 and who.json()["identity"]["username"] == "stella", who.text
    finally:
        person.close()
    headers = {"Authorization": f"token {token}"}
    kernel = httpx.post(hub.url("user/stella/api/kernels"), headers=headers, json={"name": "python3"}, timeout=60)
    assert kernel.status_code == 201, kernel.text
    ws_url = f"ws://127.0.0.1:{hub.public_port}/user/stella/api/kernels/{kernel.json()['id']}/channels"
    assert run_code(ws_url, "1+1", headers=headers) == "2"


def _now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat() + "Z"


def test_stock_idle_culler_culls_idle_and_spares_active(hub: HubProcess, venv: Path) -> None:
    assert hub.cli("user", "add", "culler-admin", "--admin").returncode == 0
    issued = hub.cli("token", "issue", "culler-admin", *[a for s in CULLER_SCOPES for a in ("--scope", s)])
    assert issued.returncode == 0, issued.stderr
    tokens = {name: hub.add_user(name) for name in ("idle-ivy", "busy-bob")}
    for name, token in tokens.items():
        with hub.api(token) as api:
            assert api.post(f"/users/{name}/server").status_code in (201, 202)
            wait_for(lambda: api.get(f"/users/{name}").json().get("server"), 90, f"{name}'s server")
    env = {**os.environ, "JUPYTERHUB_API_URL": hub.url("hub/api"), "JUPYTERHUB_API_TOKEN": issued.stdout.strip()}
    culler = subprocess.Popen(
        [str(venv / "bin" / "jupyterhub-idle-culler"), "--timeout=12", "--cull-every=2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    FIXTURE_PROCESSES.add(culler.pid)
    try:
        with hub.api(tokens["busy-bob"]) as bob, hub.api(tokens["idle-ivy"]) as ivy:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and ivy.get("/users/idle-ivy").json().get("server"):
                report = {"servers": {"": {"last_activity": _now()}}, "last_activity": _now()}
                assert bob.post("/users/busy-bob/activity", json=report).status_code == 200
                time.sleep(1)
            assert ivy.get("/users/idle-ivy").json()["server"] is None, "the culler did not cull the idle server"
            assert bob.get("/users/busy-bob").json()["server"] == "/user/busy-bob/"
    finally:
        culler.terminate()
        output = culler.communicate(timeout=10)[0]
        FIXTURE_PROCESSES.discard(culler.pid)
    assert "Culling server idle-ivy" in output, output
    assert "busy-bob" not in [line for line in output.splitlines() if "Culling" in line], output
