"""Proxies started on their own (as JupyterHub would start either one) with the same flags and token, plus
the backends the proxy measurements route to: the trivial backend and a bare JupyterLab server."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.context import Run
from bench.ports import free_port
from bench.processes import Processes, wait_until
from bench.tools import CHP, COMMONROOM_PYTHON, JUPYTER_SERVER

SINGLEUSER_PREFIX = "/user/bench/"


@dataclass
class Proxy:
    side: str
    program: list[str]
    port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    token: str = field(default_factory=lambda: secrets.token_hex(16))

    def argv(self) -> list[str]:
        ports = ["--port", str(self.port), "--api-ip", "127.0.0.1", "--api-port", str(self.api_port)]
        return [*self.program, "--ip", "127.0.0.1", *ports, "--log-level", "error"]

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"http://127.0.0.1:{self.api_port}/api/routes", headers={"Authorization": f"token {self.token}"},
            timeout=30,
        )  # fmt: skip

    def add_route(self, api: httpx.Client, path: str, target: str) -> None:
        response = api.post(path, json={"target": target})
        if response.status_code != 201:
            raise RuntimeError(f"{self.side} proxy: adding {path} answered {response.status_code}")


def proxies() -> list[Proxy]:
    return [
        Proxy("Commonroom", [str(COMMONROOM_PYTHON), "-m", "commonroom.proxy"]),
        Proxy("JupyterHub", [str(CHP)]),
    ]


def _alive(proc: subprocess.Popen[bytes], name: str) -> bool:
    if proc.poll() is not None:
        raise RuntimeError(f"{name} exited with {proc.returncode}; see its log in the run's folder")
    return True


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code < 500
    except httpx.HTTPError:
        return False


@contextmanager
def running(
    run: Run, name: str, argv: list[str], ready_url: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A process of the harness's own, up until ready_url answers, stopped on leaving."""
    proc = run.processes.start(name, argv, env={**os.environ, **(env or {})}, cwd=run.workdir)
    try:
        wait_until(lambda: _alive(proc, name) and _answers(ready_url), 60, f"{name} at {ready_url}")
        yield proc
    finally:
        run.processes.stop(proc)


@contextmanager
def proxy_running(run: Run, proxy: Proxy) -> Iterator[subprocess.Popen[bytes]]:
    ready = f"http://127.0.0.1:{proxy.api_port}/api/routes"
    with running(run, f"proxy-{proxy.side}", proxy.argv(), ready, {"CONFIGPROXY_AUTH_TOKEN": proxy.token}) as proc:
        yield proc


@contextmanager
def trivial_backend(run: Run) -> Iterator[int]:
    port = free_port()
    argv = [sys.executable, "-m", "bench.backend", str(port)]
    with running(run, "trivial-backend", argv, f"http://127.0.0.1:{port}/", {"PYTHONPATH": str(Path(__file__).parent.parent)}):
        yield port


@contextmanager
def bare_jupyterlab(run: Run) -> Iterator[int]:
    """jupyter_server with JupyterLab under /user/bench/, authentication off (no hub behind it)."""
    port = free_port()
    root = run.workdir / "bare-jupyterlab"
    root.mkdir(exist_ok=True)
    argv = [
        str(JUPYTER_SERVER), "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        f"--ServerApp.base_url={SINGLEUSER_PREFIX}", "--IdentityProvider.token=", "--ServerApp.password=",
        "--ServerApp.open_browser=False", f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
        *(["--allow-root"] if os.geteuid() == 0 else []),
    ]  # fmt: skip
    with running(run, "bare-jupyterlab", argv, f"http://127.0.0.1:{port}{SINGLEUSER_PREFIX}api/status"):
        yield port
