"""Stock JupyterHub clients nobody here wrote, against a real Commonroom hub:

* jupyterhub's own `jupyterhub-singleuser` (from PyPI, in its own venv) as the spawned server: a person signs
  in through Commonroom's OAuth, starts a kernel and runs 1+1;
* `jupyterhub-idle-culler` as a managed service the hub starts, with a role holding only the scopes its README
  names: it culls an idle server and leaves an active one alone;
* a service built on jupyterhub's own `HubOAuthenticated` (tests/support/stock_whoami_service.py, run by the
  stock venv's python as a managed service behind the proxy): a person holding access to it is signed in
  through Commonroom's OAuth, a person without is refused.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.integration.test_servers import progress_events
from tests.support.browserless import Person
from tests.support.hubprocess import HubProcess, started, wait_for
from tests.support.ports import free_port
from tests.support.kernel import run_code
from tests.support.stockvenv import JUPYTERHUB_VERSION, stock_venv

pytestmark = pytest.mark.slow
PASSWORD = "stock-client-otter-lantern"
CULLER_SCOPES = ["list:users", "read:users:activity", "read:servers", "delete:servers"]
WHOAMI = Path(__file__).resolve().parents[1] / "support" / "stock_whoami_service.py"


@pytest.fixture(scope="module")
def venv() -> Path:
    return stock_venv()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, venv: Path) -> Iterator[HubProcess]:
    singleuser = venv / "bin" / "jupyterhub-singleuser"
    whoami = [str(venv / "bin" / "python"), str(WHOAMI)]
    process = HubProcess(
        tmp_path_factory.mktemp("stockhub"),
        extra_config=f"[spawner]\ncmd = [{json.dumps(str(singleuser))}]\npoll_interval = 1\ndefault_url = \"/lab\"\n"
        f'[[services]]\nname = "whoami"\nurl = "http://127.0.0.1:{free_port()}"\ncommand = {json.dumps(whoami)}\n'
        '[[roles]]\nname = "whoami-users"\nscopes = ["access:services!service=whoami"]\nusers = ["ada"]\n',
    )
    for name in ("ada", "bob"):  # made before the hub starts, so the role finds ada with her password
        made = process.cli("user", "add", name, "--password-stdin", stdin=PASSWORD + "\n")
        assert made.returncode == 0, made.stderr
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


def test_stock_hub_oauth_service_lets_in_only_people_with_access(hub: HubProcess) -> None:
    wait_for(lambda: _answers(hub.url("services/whoami/")), 90, f"the whoami service; hub log:\n{hub.log_text()}")
    ada, bob = Person(hub.origin), Person(hub.origin)
    try:
        assert ada.sign_in("ada", PASSWORD).status_code == 302
        page = ada.follow("/services/whoami/")
        assert page.status_code == 200 and page.url.path == "/services/whoami/", page.text[:300]
        who = page.json()
        assert who["kind"] == "user" and who["name"] == "ada", who
        assert "access:services!service=whoami" in who["scopes"]
        assert "service-whoami" in ada.client.cookies  # the stock client's own OAuth cookie
        assert bob.sign_in("bob", PASSWORD).status_code == 302
        refused = bob.follow("/services/whoami/")
        assert refused.status_code == 403 and "may not open the service whoami" in refused.text, refused.text[:300]
        assert "service-whoami" not in bob.client.cookies
    finally:
        ada.close()
        bob.close()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=10).status_code < 500
    except httpx.HTTPError:
        return False


def test_stock_idle_culler_as_a_managed_service_culls_idle_and_spares_active(tmp_path: Path, venv: Path) -> None:
    culler = [str(venv / "bin" / "jupyterhub-idle-culler"), "--timeout=12", "--cull-every=2"]
    config = (
        f'[[services]]\nname = "idle-culler"\ncommand = {json.dumps(culler)}\n'
        f'[[roles]]\nname = "culler"\nscopes = {json.dumps(CULLER_SCOPES)}\nservices = ["idle-culler"]\n'
    )
    with started(HubProcess(tmp_path, extra_config=config)) as hub:
        admin = hub.add_user("culler-admin", admin=True)
        with hub.api(admin) as api:
            model = api.get("/services/idle-culler").json()
        assert model["roles"] == ["culler"] and model["pid"] > 0, model
        with open(f"/proc/{model['pid']}/environ", "rb") as fh:
            env = dict(item.split(b"=", 1) for item in fh.read().split(b"\0") if b"=" in item)
        token = env[b"JUPYTERHUB_API_TOKEN"].decode()
        with hub.api(token) as api:  # the token the hub gave it holds exactly the README's scopes
            who = api.get("/user").json()
        assert who["name"] == "idle-culler" and {s.split("!")[0] for s in who["scopes"]} == {
            *CULLER_SCOPES, "read:users:name", "read:services:name"
        }, who  # fmt: skip
        _culls_idle_and_spares_active(hub, hub.data_dir / "logs" / "service-idle-culler.log")


def _culls_idle_and_spares_active(hub: HubProcess, culler_log: Path) -> None:
    tokens = {name: hub.add_user(name) for name in ("idle-ivy", "busy-bob")}
    for name, token in tokens.items():
        with hub.api(token) as api:
            assert api.post(f"/users/{name}/server").status_code in (201, 202)
            wait_for(lambda: api.get(f"/users/{name}").json().get("server"), 90, f"{name}'s server")
    with hub.api(tokens["busy-bob"]) as bob, hub.api(tokens["idle-ivy"]) as ivy:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and ivy.get("/users/idle-ivy").json().get("server"):
            report = {"servers": {"": {"last_activity": _now()}}, "last_activity": _now()}
            assert bob.post("/users/busy-bob/activity", json=report).status_code == 200
            time.sleep(1)
        assert ivy.get("/users/idle-ivy").json()["server"] is None, "the culler did not cull the idle server"
        assert bob.get("/users/busy-bob").json()["server"] == "/user/busy-bob/"
    output = culler_log.read_text()
    assert "Culling server idle-ivy" in output, output
    assert "busy-bob" not in [line for line in output.splitlines() if "Culling" in line], output
