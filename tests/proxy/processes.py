"""The proxy and the test backend as real processes on free loopback ports, always stopped afterwards."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.ports import free_port

TOKEN = "proxy-test-token"
BACKEND = Path(__file__).with_name("backend.py")


_http: httpx.Client | None = None


def http() -> httpx.Client:
    """One HTTP client for the whole run: making one per request costs more than the request."""
    global _http
    if _http is None:
        _http = httpx.Client(timeout=10)
    return _http


def close_http() -> None:
    global _http
    if _http is not None:
        _http.close()
        _http = None


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@contextmanager
def running(
    command: list[str], ports: list[int], log: Path, env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` until the block ends, once each of `ports` accepts connections (10 s at most)."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=dict(env or os.environ))
    try:
        deadline = time.monotonic() + 10
        while not all(_accepts(port) for port in ports):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command[:4]} did not start; its output:\n{log.read_text()[-3000:]}")
            time.sleep(0.02)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Backend:
    """Base URLs of the test backend's servers (see backend.py)."""

    http: str
    ws: str
    raw: str


@contextmanager
def backend(log: Path) -> Iterator[Backend]:
    ports = [free_port(), free_port(), free_port()]
    with running([sys.executable, str(BACKEND), *map(str, ports)], ports, log):
        yield Backend(*(f"http://127.0.0.1:{port}" for port in ports))


@dataclass
class Proxy:
    """A running proxy: its two URLs and a few API helpers."""

    port: int
    api_port: int
    token: str = TOKEN
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def public(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def add(self, path: str, target: str, **data: Any) -> None:
        response = http().post(f"{self.api}/api/routes{path}", json={"target": target, **data}, headers=self.auth)
        assert response.status_code == 201, response.text

    def routes(self) -> dict[str, Any]:
        response = http().get(f"{self.api}/api/routes", headers=self.auth)
        assert response.status_code == 200
        result: dict[str, Any] = response.json()
        return result


def proxy_command(port: int, api_port: int, *flags: str) -> list[str]:
    return [
        sys.executable, "-m", "commonroom.proxy", "--ip", "127.0.0.1", "--port", str(port),
        "--api-ip", "127.0.0.1", "--api-port", str(api_port), *flags,
    ]  # fmt: skip


@contextmanager
def proxy(log: Path, *flags: str, token: str = TOKEN, ports: tuple[int, int] | None = None) -> Iterator[Proxy]:
    """A proxy process on `ports` (public, API), free ones by default."""
    port, api_port = ports or (free_port(), free_port())
    env = {**os.environ, "CONFIGPROXY_AUTH_TOKEN": token}
    with running(proxy_command(port, api_port, *flags), [port, api_port], log, env) as proc:
        yield Proxy(port, api_port, token, proc)
