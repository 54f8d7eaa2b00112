"""One person against another on one machine, as the hub runs them (root: one OS account each).

Everything here is attempted for real from inside person A's kernel (so as A's OS account) or with A's
credentials, against person B and against the hub. Every attempt must fail, each with its specific refusal.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.browserless import Person
from tests.support.hubprocess import HubProcess, wait_for
from tests.support.kernel import run_code

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="per-person OS accounts need root")

PASSWORD = "amber-finch-guards-the-gate"

# Run in A's kernel: try each path and each URL, report what happened as JSON.
PROBE = """
import json, os, urllib.error, urllib.request

class _Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

def _read(path):
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, "rb").read(1)
        return "read"
    except OSError as exc:
        return type(exc).__name__

def _get(url, headers, method="GET"):
    request = urllib.request.Request(url, headers=headers, method=method, data=b"{}" if method == "POST" else None)
    try:
        reply = urllib.request.build_opener(_Stay).open(request, timeout=30)
        return [reply.status, reply.headers.get("Location") or ""]
    except urllib.error.HTTPError as exc:
        return [exc.code, exc.headers.get("Location") or ""]

json.dumps({"files": {p: _read(p) for p in PATHS}, "http": [_get(*c) for c in CALLS]})
"""


@pytest.fixture(scope="module")
def hub() -> Iterator[HubProcess]:
    # A world-traversable work folder (not pytest's private one), so only the hub's own modes protect it.
    workdir = Path(tempfile.mkdtemp(prefix="criso-"))
    workdir.chmod(0o755)
    process = HubProcess(workdir, extra_config="[spawner]\npoll_interval = 1\n")
    process.config_path.chmod(0o600)
    process.start()
    try:
        yield process
    finally:
        process.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def start(hub: HubProcess, name: str) -> str:
    result = hub.cli("user", "add", name, "--password-stdin", stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    token = hub.token_for(name)
    with hub.api(token) as api:
        assert api.post(f"/users/{name}/server").status_code in (201, 202)
        wait_for(lambda: api.get(f"/users/{name}").json()["servers"].get("", {}).get("ready"), 90, "the server", 0.2)
    return token


def run_as(hub: HubProcess, name: str, token: str, code: str) -> str:
    headers = {"Authorization": f"token {token}"}
    kernel = httpx.post(f"{hub.origin}/user/{name}/api/kernels", headers=headers, json={"name": "python3"}, timeout=60)
    assert kernel.status_code == 201, kernel.text
    ws_url = f"ws://127.0.0.1:{hub.public_port}/user/{name}/api/kernels/{kernel.json()['id']}/channels"
    return run_code(ws_url, code, headers=headers, timeout=120)


def test_a_person_cannot_reach_anothers_files_server_or_the_hub(hub: HubProcess) -> None:
    alice, bob = start(hub, "alice"), start(hub, "bob")
    admin = hub.add_user("root-admin", admin=True)
    bob_headers = {"Authorization": f"token {bob}"}
    saved = httpx.put(f"{hub.origin}/user/bob/api/contents/diary.txt", headers=bob_headers, timeout=30,
                      json={"type": "file", "format": "text", "content": "bob's secret"})  # fmt: skip
    assert saved.status_code in (200, 201), saved.text
    with hub.api(admin) as api:
        bob_target = api.get("/proxy").json()["/user/bob/"]["target"]
    bob_home = Path(f"{hub.home_root}/{hub.account_prefix}bob")
    assert stat.S_IMODE(bob_home.stat().st_mode) == 0o700

    # A's browser: signed in to the hub, and into A's own server (its OAuth cookie).
    person = Person(hub.origin)
    try:
        person.sign_in("alice", PASSWORD)
        assert person.follow("/user/alice/lab").status_code == 200
        own_cookie = person.client.cookies.get("jupyterhub-user-alice", path="/user/alice/")
        assert own_cookie
        through_proxy = person.follow("/user/bob/lab")
        assert through_proxy.status_code == 403 and "alice may not open bob" in through_proxy.text.replace("&#39;", "'")
    finally:
        person.close()

    data = hub.data_dir
    paths = [str(bob_home), str(bob_home / "diary.txt"), str(data), str(data / "commonroom.sqlite"),
             str(data / "cookie_secret"), str(data / "proxy_token"), str(data / "encryption_key"),
             str(data / "logs"), str(data / "logs" / "bob.log"), str(data / "logs" / "proxy.log"),
             str(hub.config_path)]  # fmt: skip
    hub_api = f"http://127.0.0.1:{hub.hub_port}/hub/api"
    server_token = "os.environ['JUPYTERHUB_API_TOKEN']"
    calls = [
        (f"{bob_target}/user/bob/api/contents/diary.txt", {"Authorization": f"token {alice}"}),
        (f"{bob_target}/user/bob/api/contents/diary.txt", {"Cookie": f"jupyterhub-user-alice={own_cookie}"}),
        (f"{bob_target}/user/bob/api/contents/diary.txt", {"Cookie": f"jupyterhub-user-bob={own_cookie}"}),
        (f"{hub_api}/users/bob", {"Authorization": f"token {alice}"}),
        (f"{hub_api}/users/bob/tokens", {"Authorization": f"token {alice}"}),
        (f"{hub_api}/users/bob/server", {"Authorization": f"token {alice}"}, "POST"),
    ]
    code = f"import os\nPATHS = {paths!r}\nCALLS = {calls!r} + [\n" + (
        f"  ({hub_api + '/users/bob'!r}, {{'Authorization': 'token ' + {server_token}}}),\n"
        f"  ({hub_api + '/users/bob/activity'!r}, {{'Authorization': 'token ' + {server_token}}}, 'POST'),\n]\n"
    ) + PROBE
    report = json.loads(ast.literal_eval(run_as(hub, "alice", alice, code)))

    assert report["files"] == dict.fromkeys(paths, "PermissionError")
    direct_token, direct_cookie, borrowed_cookie, user, tokens, spawn, server_read, server_activity = report["http"]
    assert direct_token == [403, ""], "B's server must refuse A's token"
    assert direct_cookie == borrowed_cookie == [403, ""], "A's cookie, even renamed, is nobody at B's server"
    assert user == tokens == spawn == [404, ""], "A's token may not even learn that B's resources exist"
    assert server_read == server_activity == [404, ""], "A's server token reaches A's activity only"
    still = httpx.get(f"{hub.origin}/user/bob/api/contents/diary.txt", headers=bob_headers, timeout=30)
    assert still.json()["content"] == "bob's secret"
