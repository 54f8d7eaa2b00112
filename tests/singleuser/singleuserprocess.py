"""Run `python -m commonroom.singleuser` as a spawner would: a child process, the JUPYTERHUB_* environment,
no flags of ours, and a private HOME and Jupyter directories so nothing from this machine leaks in."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx

from .hubstandin import HubStandIn

USER = "zoë x"
"""A hostile user name: a space and a non-ASCII letter must survive every URL and cookie."""
PREFIX = f"/user/{quote(USER, safe='')}/"
CLIENT_ID = f"jupyterhub-user-{quote(USER, safe='')}"
ACCESS_SCOPES = [f"access:servers!server={USER}/", f"access:servers!user={USER}"]


def hub_environment(hub: HubStandIn, port: int, home: Path, api_token: str) -> dict[str, str]:
    """The environment a hub gives the server, plus a private HOME and Jupyter directories."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    env.update(
        HOME=str(home),
        IPYTHONDIR=str(home / ".ipython"),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTER_DATA_DIR=str(home / ".local/share/jupyter"),
        JUPYTER_RUNTIME_DIR=str(home / ".local/share/jupyter/runtime"),
        JUPYTERHUB_API_TOKEN=api_token,
        JUPYTERHUB_CLIENT_ID=CLIENT_ID,
        JUPYTERHUB_API_URL=hub.api_url,
        JUPYTERHUB_ACTIVITY_URL=f"{hub.api_url}/users/{quote(USER, safe='')}/activity",
        JUPYTERHUB_ACTIVITY_INTERVAL="1",
        JUPYTERHUB_BASE_URL="/",
        JUPYTERHUB_SERVICE_PREFIX=PREFIX,
        JUPYTERHUB_SERVICE_URL=f"http://127.0.0.1:{port}{PREFIX}",
        JUPYTERHUB_OAUTH_CALLBACK_URL=f"{PREFIX}oauth_callback",
        JUPYTERHUB_OAUTH_ACCESS_SCOPES=str(ACCESS_SCOPES).replace("'", '"'),
        JUPYTERHUB_USER=USER,
        JUPYTERHUB_SERVER_NAME="",
        JUPYTERHUB_HOST="",
        JUPYTERHUB_DEFAULT_URL="/lab",
        JUPYTERHUB_ROOT_DIR=str(home),
    )
    return env


class SingleUserProcess:
    """One server process; `stop` ends it and its kernels."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}{PREFIX}"
        self.log = log
        with log.open("wb") as out:
            # --allow-root is an argument a spawner may append; the launcher must hand it to jupyter_server
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "commonroom.singleuser", "--allow-root"],
                env=env,
                cwd=env["HOME"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 60) -> None:
        """Poll the hub's readiness probe, GET {prefix}api, until it answers below 500."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                if httpx.get(self.url + "api", timeout=2).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer within {timeout} s:\n{self.log_text()}")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
