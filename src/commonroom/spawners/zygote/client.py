"""The hub's side of the launcher: start it with the hub, ask it for servers, start it again when it died.

A spawn that cannot use the launcher (it died, or is still importing after a while) is started with Popen
instead, so the launcher only ever makes starts faster, never makes one fail.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from commonroom.spawners import procs
from commonroom.spawners.zygote import wire
from commonroom.spawners.zygote.child import request_message

log = logging.getLogger(__name__)

READY_WAIT_SECONDS = 20.0
"""How long a spawn waits for a launcher that is still importing (a hub that just started) before it gives up
on it; importing takes ~2 s of CPU, and Popen would spend the same."""
REPLY_TIMEOUT_SECONDS = 10.0
STOP_WAIT_SECONDS = 5.0
_POLL_SECONDS = 0.05


class LauncherError(Exception):
    """The launcher could not fork this server; the spawn goes on with Popen."""


class Launcher:
    """One launcher process of one hub: its socket and log live in the hub's data dir."""

    def __init__(self, data_dir: Path) -> None:
        self.socket_path = data_dir / "launcher.sock"
        self.log_path = data_dir / "logs" / "launcher.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the launcher in a session of its own, with an environment of nothing but PATH and LANG: what
        it imports is inherited by every server, so nothing of the hub's may shape it."""
        self.socket_path.unlink(missing_ok=True)  # a previous launcher's; this one's appears once it is ready
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin", "LANG": os.environ.get("LANG", "C.UTF-8")}
        with open(self.log_path, "ab") as log_file:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "commonroom.spawners.zygote", str(self.socket_path)],
                env=env, cwd="/", stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    async def usable(self) -> bool:
        """Whether this spawn can be forked; a launcher that died is started again for the spawns after it."""
        if self.proc is None:
            return False
        if self.proc.poll() is not None:
            log.warning(
                "the server launcher exited (status %s; its log is %s); starting it again, and this server with "
                "Popen", self.proc.returncode, self.log_path,
            )  # fmt: skip
            self.start()
            return False
        deadline = asyncio.get_running_loop().time() + READY_WAIT_SECONDS
        while not self.socket_path.exists():
            if self.proc.poll() is not None or asyncio.get_running_loop().time() > deadline:
                log.warning("the server launcher is not ready; starting this server with Popen")
                return False
            await asyncio.sleep(_POLL_SECONDS)
        return True

    async def fork(
        self, args: list[str], env: Mapping[str, str], cwd: Path, log_fd: int, run_as: procs.RunAs | None,
        limits: dict[str, object] | None = None,
    ) -> procs.ProcessId:
        """A server forked by the launcher, watched through procs like a Popen'd one. LauncherError when the
        launcher cannot do it; a cancel leaves no server behind (the child exits without its environment)."""
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            async with asyncio.timeout(REPLY_TIMEOUT_SECONDS):
                await loop.sock_connect(sock, str(self.socket_path))
                # A first message on a new connection always fits the empty socket buffer: this cannot block.
                socket.send_fds(sock, [wire.encode(request_message(args, str(cwd), run_as, limits))], [log_fd])
                reply = await _read_message(loop, sock)
            if "error" in reply:
                raise LauncherError(str(reply["error"]))
            proc = procs.identify(int(reply["pid"]), int(reply["start_ticks"]))
            await loop.sock_sendall(sock, wire.encode({"env": dict(env)}))
        except (OSError, ValueError, KeyError, TimeoutError) as exc:
            sock.close()
            raise LauncherError(f"{type(exc).__name__}: {exc}") from None
        except BaseException:
            sock.close()
            raise
        procs.adopt(proc, _Watch(sock))
        return proc

    async def stop(self) -> None:
        """End the launcher (its servers keep running) and remove its socket."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            deadline = asyncio.get_running_loop().time() + STOP_WAIT_SECONDS
            while self.proc.poll() is None and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(_POLL_SECONDS)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        self.socket_path.unlink(missing_ok=True)


async def _read_message(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> dict[str, Any]:
    data = b""
    while not data.endswith(b"\n"):
        chunk = await loop.sock_recv(sock, 4096)
        if not chunk:
            raise ValueError("the launcher closed the connection without answering")
        data += chunk
    return wire.decode(data)


class _Watch:
    """procs.Reporter for one forked server: its connection to the launcher, read without blocking."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""
        self.status: int | None = None
        self.lost = False

    def reported(self) -> int | None:
        self._read()
        return self.status

    def reporting(self) -> bool:
        self._read()
        return self.status is None and not self.lost

    def _read(self) -> None:
        if self.status is not None or self.lost:
            return
        try:
            chunk = self.sock.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        self.buffer += chunk
        if self.buffer.endswith(b"\n"):
            status = wire.decode(self.buffer).get("status")
            self.status = status if isinstance(status, int) else 0
        elif chunk:
            return
        else:
            self.lost = True  # the launcher ended without telling: the status is unknown, as after a restart
        self.sock.close()


_launchers: dict[Path, Launcher] = {}
"""Each hub's launcher, by the log folder of that hub's servers (what its spawners know it by)."""

_IMPORT_TIME_PREFIXES = ("PYTHON", "JUPYTER_", "TRAITLETS_", "TORNADO_", "PYZMQ_", "LD_")
_IMPORT_TIME_NAMES = ("http_proxy", "https_proxy", "all_proxy")
"""Variables read when Python starts or a module is imported (any case for the proxies, which JupyterLab's
extension manager reads on import): the launcher did that once, without them."""


def start(log_dir: Path, data_dir: Path) -> None:
    launcher = _launchers[log_dir] = Launcher(data_dir)
    launcher.start()


async def stop(log_dir: Path) -> None:
    launcher = _launchers.pop(log_dir, None)
    if launcher is not None:
        await launcher.stop()


async def fork_server(
    log_dir: Path, args: list[str], env: Mapping[str, str], cwd: Path, log_fd: int, run_as: procs.RunAs | None,
    limits: dict[str, object] | None,
) -> procs.ProcessId | None:
    """The server forked by the hub's launcher; None when it must be started with Popen instead (no launcher,
    one that is not ready, or an environment that must be there before Python starts)."""
    launcher = _launchers.get(log_dir)
    if launcher is None or any(_read_on_import(name) for name in env):
        return None
    if not await launcher.usable():
        return None
    try:
        return await launcher.fork(args, env, cwd, log_fd, run_as, limits)
    except LauncherError as exc:
        log.warning("the server launcher could not fork a server (%s); starting it with Popen", exc)
        return None


def _read_on_import(name: str) -> bool:
    return name.startswith(_IMPORT_TIME_PREFIXES) or name.lower() in _IMPORT_TIME_NAMES
