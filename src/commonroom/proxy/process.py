"""Launching the proxy as a detached child that outlives the hub, and finding it again after a restart.

The proxy holds the public port, the route table and every open websocket, so a hub restart must not take
it down: it runs in its own session (a signal to the hub's process group does not reach it) with its
output in a log file. Its pid file records the pid and the process's start time (from /proc), so a later
hub can tell "our proxy is still up" from "that pid now belongs to something else".
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from .client import ProxyApiError, ProxyClient

# Children started by this process, kept so their exit status is collected instead of leaving zombies.
_children: dict[int, subprocess.Popen[bytes]] = {}


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, or None if there is no live process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":
        return None
    return int(fields[19])


def _read_pid_file(pid_path: Path) -> tuple[int, int | None] | None:
    """(pid, start time) from a pid file; a JupyterHub-style file holds the pid alone."""
    try:
        lines = pid_path.read_text().split()
        return int(lines[0]), int(lines[1]) if len(lines) > 1 else None
    except (OSError, ValueError, IndexError):
        return None


def start_proxy(command: Sequence[str], env: Mapping[str, str], log_path: Path, pid_path: Path) -> int:
    """Start `command` in a new session, output appended to `log_path`; writes `pid_path`, returns the pid."""
    with open(log_path, "ab") as log_file:
        child = subprocess.Popen(
            list(command),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _children[child.pid] = child
    started = _start_time(child.pid)
    partial = pid_path.with_name(pid_path.name + ".tmp")
    partial.write_text(f"{child.pid}\n{'' if started is None else started}\n")
    partial.replace(pid_path)
    return child.pid


def is_running(pid_path: Path) -> bool:
    """Whether the process the pid file names is alive and is the one we started (same start time)."""
    recorded = _read_pid_file(pid_path)
    if recorded is None:
        return False
    pid, started = recorded
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        del _children[pid]
        return False
    now = _start_time(pid)
    if now is None:
        return False
    if started is not None:
        return now == started
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return _looks_like_a_proxy(argv)


def _looks_like_a_proxy(argv: list[bytes]) -> bool:
    """For pid files without a start time: is this configurable-http-proxy or ours?"""
    if any(arg.endswith(b"configurable-http-proxy") or arg == b"commonroom.proxy" for arg in argv):
        return True
    return b"proxy" in argv and any(arg.endswith(b"commonroom") for arg in argv)


async def wait_until_up(api_url: str, token: str, timeout: float = 15.0, pid_path: Path | None = None) -> None:
    """Return once the proxy answers GET /api/routes with this token.

    The public port is bound before the API port, so a proxy whose API answers is ready for traffic.
    Raises TimeoutError after `timeout` seconds, RuntimeError as soon as the process behind `pid_path`
    has exited, and ProxyApiError if the proxy refuses the token.
    """
    async with ProxyClient(api_url, token, retry_for=timeout) as client:
        probe = asyncio.ensure_future(client.get_routes())
        try:
            while not probe.done():
                if pid_path is not None and not is_running(pid_path):
                    raise RuntimeError(f"the proxy exited during start-up; its pid file was {pid_path}")
                await asyncio.wait({probe}, timeout=0.1)
            probe.result()
        except ProxyApiError as exc:
            if exc.status is None:
                raise TimeoutError(f"the proxy API at {api_url} did not answer within {timeout:g} s") from exc
            raise
        finally:
            probe.cancel()


async def _exits(pid_path: Path, timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while is_running(pid_path):
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def stop_proxy(pid_path: Path, timeout: float = 5.0) -> bool:
    """SIGTERM the proxy, SIGKILL it after `timeout` s, remove the pid file; False if it was not running."""
    recorded = _read_pid_file(pid_path)
    if recorded is None or not is_running(pid_path):
        pid_path.unlink(missing_ok=True)
        return False
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(recorded[0], signum)
        except ProcessLookupError:
            break
        if await _exits(pid_path, timeout):
            break
    else:
        raise RuntimeError(f"proxy pid {recorded[0]} survived SIGKILL for {timeout:g} s")
    pid_path.unlink(missing_ok=True)
    return True
