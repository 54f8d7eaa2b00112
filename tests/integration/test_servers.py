"""A person's server from start to stop, through the proxy, as JupyterLab uses it."""

from __future__ import annotations

import json
import os
import pwd
import stat

import httpx
import pytest

from tests.support.browserless import Person
from tests.support.hubprocess import HubProcess, wait_for
from tests.support.kernel import run_code

PASSWORD = "velvet-otter-carries-lanterns"


def progress_events(hub: HubProcess, token: str, name: str, server: str = "") -> list[dict[str, object]]:
    events = []
    url = f"{hub.origin}/hub/api/users/{name}/" + (f"servers/{server}/progress" if server else "server/progress")
    with httpx.stream("GET", url, headers={"Authorization": f"token {token}"}, timeout=90) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if events[-1].get("ready") or events[-1].get("failed"):
                    break
    return events


def ensure_running(hub: HubProcess, token: str, name: str) -> None:
    with hub.api(token) as api:
        api.post(f"/users/{name}/server")
        wait_for(lambda: api.get(f"/users/{name}").json().get("server"), 90, f"{name}'s server to be ready", 0.2)


@pytest.fixture(scope="module")
def erin(hub: HubProcess) -> str:
    token = hub.add_user("erin")
    result = hub.cli("user", "add", "erin-pw", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    return token


def test_start_shows_progress_then_lab_works(hub: HubProcess, erin: str) -> None:
    with hub.api(erin) as api:
        started = api.post("/users/erin/server")
        assert started.status_code in (201, 202), started.text
        events = progress_events(hub, erin, "erin")
        assert events[0]["message"] == "Server requested"
        assert events[-1].get("ready") is True, events
        assert events[-1]["url"] == "/user/erin/"
        assert len(events) >= 3
        model = api.get("/users/erin").json()
        assert model["servers"][""]["ready"] is True and model["server"] == "/user/erin/"
        again = api.post("/users/erin/server")
        assert again.status_code == 400 and again.json()["message"] == "erin is already running"
        # The REST API of the server, through the proxy, with the person's token.
        contents = httpx.get(f"{hub.origin}/user/erin/api/contents", headers={"Authorization": f"token {erin}"}, timeout=30)
        assert contents.status_code == 200
        names = {item["name"] for item in contents.json()["content"]}
        assert "Welcome.ipynb" in names, names


def test_kernel_runs_code_over_websocket_through_proxy(hub: HubProcess, erin: str) -> None:
    ensure_running(hub, erin, "erin")
    headers = {"Authorization": f"token {erin}"}
    kernel = httpx.post(f"{hub.origin}/user/erin/api/kernels", headers=headers, json={"name": "python3"}, timeout=60)
    assert kernel.status_code == 201, kernel.text
    ws_url = f"ws://127.0.0.1:{hub.public_port}/user/erin/api/kernels/{kernel.json()['id']}/channels"
    assert run_code(ws_url, "1+1", headers=headers) == "2"
    assert run_code(ws_url, "import os; os.environ['JUPYTERHUB_USER']", headers=headers) == "'erin'"


def test_browser_login_through_oauth_reaches_lab(hub: HubProcess, erin: str) -> None:
    # erin-pw has a password; start her server and open the default URL the way a browser would.
    with hub.api(hub.token_for("erin-pw")) as api:
        assert api.post("/users/erin-pw/server").status_code in (201, 202)
    person = Person(hub.origin)
    try:
        assert person.sign_in("erin-pw", PASSWORD).status_code == 302
        wait_for(lambda: person.client.get("/hub/home").text.count("Open JupyterLab"), 60, "the server to be ready")
        lab = person.follow("/user/erin-pw/")
        assert lab.status_code == 200, lab.text[:300]
        assert lab.url.path == "/user/erin-pw/lab/tree/Welcome.ipynb"
        assert "JupyterLab" in lab.text
    finally:
        person.close()


def test_someone_else_cannot_use_the_server(hub: HubProcess, erin: str) -> None:
    ensure_running(hub, erin, "erin")
    intruder = hub.add_user("mallory")
    response = httpx.get(f"{hub.origin}/user/erin/api/contents", headers={"Authorization": f"token {intruder}"}, timeout=30)
    assert response.status_code == 403
    with hub.api(intruder) as api:
        assert api.delete("/users/erin/server").status_code == 404
        assert api.post("/users/erin/server").status_code == 404
        assert api.get("/users/erin").status_code == 404


def test_home_persists_and_stop_removes_route(hub: HubProcess, erin: str) -> None:
    headers = {"Authorization": f"token {erin}"}
    saved = httpx.put(
        f"{hub.origin}/user/erin/api/contents/notes.txt", headers=headers, timeout=30,
        json={"type": "file", "format": "text", "content": "kept across restarts"},
    )  # fmt: skip
    assert saved.status_code in (200, 201), saved.text
    with hub.api(erin) as api:
        assert api.delete("/users/erin/server").status_code in (202, 204)
        wait_for(lambda: api.get("/users/erin").json()["servers"] == {}, 30, "the server to stop")
    gone = httpx.get(f"{hub.origin}/user/erin/api/contents", headers=headers, timeout=10)
    assert gone.status_code in (302, 303), "after stop, /user/erin/ must fall through to the hub"
    assert "/hub/user/erin/" in gone.headers["location"]
    with hub.api(erin) as api:
        assert api.post("/users/erin/server").status_code in (201, 202)
        progress_events(hub, erin, "erin")
    back = httpx.get(f"{hub.origin}/user/erin/api/contents/notes.txt", headers=headers, timeout=30)
    assert back.status_code == 200 and back.json()["content"] == "kept across restarts"


def test_stopped_server_page_offers_start(hub: HubProcess, erin: str) -> None:
    with hub.api(erin) as api:
        api.delete("/users/erin/server")
        wait_for(lambda: api.get("/users/erin").json()["servers"] == {}, 30, "the server to stop")
    person = Person(hub.origin)
    try:
        person.sign_in("erin-pw", PASSWORD)
        with hub.api(hub.token_for("erin-pw")) as api:
            api.delete("/users/erin-pw/server")
            wait_for(lambda: api.get("/users/erin-pw").json()["servers"] == {}, 30, "the server to stop")
        page = person.follow("/user/erin-pw/lab")
        assert page.status_code == 424 and "server is not running" in page.text and 'id="start"' in page.text
    finally:
        person.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="per-person OS accounts need root")
def test_each_person_runs_as_their_own_account(hub: HubProcess, erin: str) -> None:
    ensure_running(hub, erin, "erin")
    account = pwd.getpwnam(f"{hub.account_prefix}erin")
    home = os.stat(account.pw_dir)
    assert home.st_uid == account.pw_uid and stat.S_IMODE(home.st_mode) == 0o700
    assert os.path.exists(os.path.join(account.pw_dir, "Welcome.ipynb"))
    headers = {"Authorization": f"token {erin}"}
    kernel = httpx.post(f"{hub.origin}/user/erin/api/kernels", headers=headers, json={"name": "python3"}, timeout=60)
    ws_url = f"ws://127.0.0.1:{hub.public_port}/user/erin/api/kernels/{kernel.json()['id']}/channels"
    code = f"import os; (os.getuid(), os.access({str(hub.data_dir)!r}, os.R_OK))"
    assert run_code(ws_url, code, headers=headers) == f"({account.pw_uid}, False)"


def test_admin_starts_and_stops_anyones_server_from_the_admin_page(hub: HubProcess, erin: str) -> None:
    hub.cli("user", "add", "boss", "--admin", "--password-stdin", stdin=PASSWORD + "\n")
    admin, other = Person(hub.origin), Person(hub.origin)
    try:
        admin.sign_in("boss", PASSWORD)
        other.sign_in("erin-pw", PASSWORD)
        refused = other.post_form("/hub/spawn/erin", {}, form_page="/hub/home")
        assert refused.status_code == 403 and "may not start erin" in refused.text
        started = admin.post_form("/hub/spawn/erin", {}, form_page="/hub/admin")
        assert started.status_code == 302 and started.headers["location"].endswith("/hub/spawn-pending/erin")
        ensure_running(hub, erin, "erin")
        assert 'class="danger stop-server"' in admin.client.get("/hub/admin").text
        stopped = admin.post_form("/hub/stop/erin", {"next": "/hub/admin"}, form_page="/hub/admin")
        assert stopped.status_code == 302 and stopped.headers["location"] == "/hub/admin"
        with hub.api(erin) as api:
            assert api.get("/users/erin").json()["servers"] == {}
    finally:
        admin.close()
        other.close()


def test_signed_in_person_cannot_open_someone_elses_server(hub: HubProcess, erin: str) -> None:
    ensure_running(hub, erin, "erin")
    hub.cli("user", "add", "eve", "--password-stdin", stdin=PASSWORD + "\n")
    eve = Person(hub.origin)
    try:
        eve.sign_in("eve", PASSWORD)
        page = eve.follow("/user/erin/lab")
        assert page.status_code == 403 and "eve may not open erin" in page.text.replace("&#39;", "'")
        assert not [c for c in eve.client.cookies.jar if c.name.startswith("jupyterhub-user-erin") and "oauth" not in c.name]
    finally:
        eve.close()
