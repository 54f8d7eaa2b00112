"""The start-up handshake: the hub must answer before the server starts, or the launcher exits 1."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from commonroom import JUPYTERHUB_COMPAT_VERSION
from commonroom.singleuser.handshake import HubUnreachable, check_hub
from tests.support.ports import free_port

from .hubstandin import HubStandIn


def test_the_hub_answers_with_its_version(hub: HubStandIn) -> None:
    warnings: list[str] = []
    assert check_hub(hub.api_url, warn=warnings.append) == JUPYTERHUB_COMPAT_VERSION
    assert warnings == []


def test_an_unreachable_hub_is_tried_then_given_up() -> None:
    url = f"http://127.0.0.1:{free_port()}/hub/api"
    warnings: list[str] = []
    waits: list[float] = []
    with pytest.raises(HubUnreachable, match=f"Could not reach the hub at {url} after 3 tries"):
        check_hub(url, delays=(1, 2), warn=warnings.append, sleep=waits.append)
    assert len(warnings) == 3 and waits == [1, 2]
    assert "try 3 of 3" in warnings[-1]


def launch(**hub_env: str) -> subprocess.CompletedProcess[str]:
    """Run the launcher with only the given JUPYTERHUB_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTERHUB_")} | hub_env
    command = [sys.executable, "-m", "commonroom.singleuser"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=30, check=False)


def test_launcher_exits_1_with_a_clear_message_when_the_hub_is_down() -> None:
    url = f"http://127.0.0.1:{free_port()}/hub/api"
    done = launch(JUPYTERHUB_API_URL=url, JUPYTERHUB_API_TOKEN="t", JUPYTERHUB_USER="alice")
    assert done.returncode == 1
    assert f"Could not reach the hub at {url} after 5 tries" in done.stderr
    assert "Traceback" not in done.stderr


def test_launcher_exits_1_naming_a_missing_variable() -> None:
    done = launch()
    assert done.returncode == 1
    assert "JUPYTERHUB_API_URL is not set" in done.stderr
    assert "Traceback" not in done.stderr
