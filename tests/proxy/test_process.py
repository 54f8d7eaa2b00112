"""Launching the proxy detached, finding it again from its pid file, and stopping it."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from commonroom.proxy.client import ProxyClient
from commonroom.proxy.process import is_running, start_proxy, stop_proxy, wait_until_up
from tests.support.ports import free_port

from .processes import TOKEN, Backend, Proxy, proxy_command, running
from .rawhttp import RawConnection, get

pytestmark = pytest.mark.timeout(60)


async def test_start_wait_check_and_stop(tmp_path: Path) -> None:
    port, api_port = free_port(), free_port()
    pid_path, log_path = tmp_path / "proxy.pid", tmp_path / "proxy.log"
    env = {**os.environ, "CONFIGPROXY_AUTH_TOKEN": "tok"}
    pid = start_proxy(proxy_command(port, api_port), env, log_path, pid_path)
    try:
        assert os.getsid(pid) == pid  # its own session: signals to the hub's process group miss it
        await wait_until_up(f"http://127.0.0.1:{api_port}", "tok", timeout=10, pid_path=pid_path)
        assert is_running(pid_path)
        recorded = pid_path.read_text()
        pid_path.write_text(f"{pid}\n")  # JupyterHub's format, the pid alone: known by its command line
        assert is_running(pid_path)
        pid_path.write_text(recorded)
        async with ProxyClient(f"http://127.0.0.1:{api_port}", "tok") as client:
            assert await client.get_routes() == {}
    finally:
        stopped = await stop_proxy(pid_path)
    assert stopped
    assert not is_running(pid_path) and not pid_path.exists()
    assert "Proxying http://127.0.0.1:" in log_path.read_text()
    assert not await stop_proxy(pid_path)


async def test_a_proxy_that_exits_during_start_up_is_reported(tmp_path: Path) -> None:
    pid_path = tmp_path / "proxy.pid"
    command = [*proxy_command(free_port(), free_port()), "--redirect-port", "80"]
    start_proxy(command, dict(os.environ), tmp_path / "proxy.log", pid_path)
    try:
        with pytest.raises(RuntimeError, match="exited during start-up"):
            await wait_until_up(f"http://127.0.0.1:{free_port()}", "tok", timeout=10, pid_path=pid_path)
    finally:
        await stop_proxy(pid_path)
    assert "--redirect-port is not supported" in (tmp_path / "proxy.log").read_text()


async def test_wait_until_up_times_out(tmp_path: Path) -> None:
    with pytest.raises(TimeoutError):
        await wait_until_up(f"http://127.0.0.1:{free_port()}", "tok", timeout=0.3)


def test_a_reused_or_missing_pid_is_not_our_proxy(tmp_path: Path) -> None:
    pid_path = tmp_path / "proxy.pid"
    assert not is_running(pid_path)
    pid_path.write_text("not a pid\n")
    assert not is_running(pid_path)
    pid_path.write_text(f"{os.getpid()}\n1\n")  # a live pid, but started at another time
    assert not is_running(pid_path)
    pid_path.write_text(f"{os.getpid()}\n")  # the pid alone, of a process that is no proxy
    assert not is_running(pid_path)


async def test_sigterm_stops_at_once_with_connections_open(tmp_path: Path, upstream: Backend) -> None:
    port, api_port = free_port(), free_port()
    env = {**os.environ, "CONFIGPROXY_AUTH_TOKEN": TOKEN}
    with running(proxy_command(port, api_port), [port, api_port], tmp_path / "proxy.log", env) as proc:
        Proxy(port, api_port).add("/", upstream.ws)
        with RawConnection(api_port) as api, RawConnection(port) as idle:
            api.send(b"GET /api/routes HTTP/1.1\r\nHost: x\r\nAuthorization: token " + TOKEN.encode() + b"\r\n\r\n")
            assert api.read()[0].status == 200  # the hub's client keeps this connection open
            idle.send(get("/_chp_healthz"))
            assert idle.read()[0].status == 200
            async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
                await ws.send("still here")
                assert await ws.recv() == "/ws still here"
                proc.send_signal(signal.SIGTERM)
                assert proc.wait(timeout=10) == 0


def test_pid_file_flag(tmp_path: Path) -> None:
    pid_file, port, api_port = tmp_path / "chp.pid", free_port(), free_port()
    command = proxy_command(port, api_port, "--pid-file", str(pid_file))
    with running(command, [port, api_port], tmp_path / "proxy.log") as proc:
        assert pid_file.read_text().strip() == str(proc.pid)
    assert not pid_file.exists()
