"""How the launcher configures jupyter_server, and that it refuses to run without hub sign-in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from traitlets.utils.importstring import import_item

from commonroom.singleuser.environment import HubEnvironment
from commonroom.singleuser.launcher import server_config
from tests.support.ports import free_port

from .conftest import API_TOKEN
from .hubstandin import HubStandIn
from .singleuserprocess import hub_environment

BASE = {"JUPYTERHUB_API_URL": "http://hub/hub/api", "JUPYTERHUB_API_TOKEN": "t", "JUPYTERHUB_USER": "alice"}


def config(**extra: str) -> dict[str, object]:
    app: dict[str, object] = server_config(HubEnvironment.from_environ({**BASE, **extra}))["ServerApp"]
    return app


def test_listens_exactly_where_the_hub_says() -> None:
    app = config(
        JUPYTERHUB_SERVICE_URL="http://10.0.0.7:8765/user/alice/", JUPYTERHUB_SERVICE_PREFIX="/user/alice/"
    )
    expected = {"ip": "10.0.0.7", "port": 8765, "port_retries": 0, "base_url": "/user/alice/"}
    assert {key: app[key] for key in expected} == expected


def test_no_browser_no_token_and_our_classes() -> None:
    app = config(JUPYTERHUB_DEFAULT_URL="/tree", JUPYTERHUB_ROOT_DIR="~/work")
    expected = {"open_browser": False, "default_url": "/tree", "root_dir": str(Path.home() / "work")}
    assert {key: app[key] for key in expected} == expected
    for key in ("identity_provider_class", "authorizer_class", "kernel_websocket_connection_class"):
        assert import_item(str(app[key])).__module__.startswith("commonroom.singleuser.")
    assert "allow_origin" not in app and "log_level" not in app


def test_the_hub_origin_may_call_the_server() -> None:
    app = config(JUPYTERHUB_HOST="https://hub.example.org", JUPYTERHUB_DEBUG="1")
    assert (app["allow_origin"], app["log_level"]) == ("https://hub.example.org", "DEBUG")


def test_refuses_to_start_when_an_argument_replaces_hub_sign_in(hub: HubStandIn, tmp_path: Path) -> None:
    port = free_port()
    env = hub_environment(hub, port, tmp_path, API_TOKEN)
    done = subprocess.run(
        [sys.executable, "-m", "commonroom.singleuser", "--allow-root",
         "--ServerApp.identity_provider_class=jupyter_server.auth.identity.PasswordIdentityProvider"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr[-2000:]
    assert "refusing to start a server the hub cannot protect" in done.stderr
