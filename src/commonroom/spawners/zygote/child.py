"""A forked child of the launcher turning into one person's single-user server.

Everything a Popen'd server gets from exec is done here by hand, in this order (its session of its own was made
right after the fork): output to its log, the environment from the hub, Python's own signal handling, its
resource limits (while still root), the account's groups, gid and uid, the home as working directory, and no
descriptor but 0-2 left open.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import resource
import signal
import socket
import sys
import tempfile
from dataclasses import dataclass
from typing import Any

from commonroom.limits.base import Handle, enter
from commonroom.spawners import procs
from commonroom.spawners.zygote import wire

SETUP_FAILED = 1
_PR_SET_DUMPABLE = 4
RELOAD_IN_CHILD = ("send2trash.plat_other",)
"""Preloaded modules that read the person's identity when imported (send2trash: the trash folder from HOME and
the uid); imported again, in place, once the child is the person."""
ENV_TIMEOUT_SECONDS = 30.0
"""The hub sends the environment right after it learns the pid; a child that never gets it gives up."""


@dataclass(frozen=True)
class Request:
    """What the hub asks the launcher for: nothing secret, since the launcher's memory is every child's."""

    args: list[str]
    cwd: str
    run_as: procs.RunAs | None
    limits: Handle | None
    log_fd: int

    @classmethod
    def parse(cls, message: dict[str, Any], fds: list[int]) -> Request:
        args, cwd, run_as = message.get("args"), message.get("cwd"), message.get("run_as")
        if len(fds) != 1:
            raise ValueError("a request must come with exactly one descriptor, the server's log")
        if not (isinstance(args, list) and all(isinstance(a, str) for a in args) and isinstance(cwd, str)):
            raise ValueError("a request needs args (a list of strings) and cwd (a string)")
        limits = Handle.from_state(message.get("limits"))
        if message.get("limits") is not None and limits is None:
            raise ValueError("limits must be a limits handle's state")
        return cls(args, cwd, _run_as(run_as), limits, fds[0])


def _run_as(value: Any) -> procs.RunAs | None:
    if value is None:
        return None
    uid, gid, groups = value
    if not (isinstance(uid, int) and isinstance(gid, int) and all(isinstance(g, int) for g in groups)):
        raise ValueError("run_as must be [uid, gid, [group, ...]]")
    return procs.RunAs(uid, gid, tuple(groups))


def request_message(
    args: list[str], cwd: str, run_as: procs.RunAs | None, limits: dict[str, Any] | None
) -> dict[str, Any]:
    """The hub's side of Request.parse."""
    who = [run_as.uid, run_as.gid, list(run_as.groups)] if run_as else None
    return {"args": args, "cwd": cwd, "run_as": who, "limits": limits}


class ForkedServer:
    """The single-user server this child becomes; run() is all the child does, and returns its exit status."""

    def __init__(
        self, request: Request, conn: socket.socket, inherited: list[socket.socket], nofile: tuple[int, int]
    ) -> None:
        self.request = request
        self.conn = conn
        self.inherited = inherited
        self.nofile = nofile

    def run(self) -> int:
        try:
            self._become_server()
        except BaseException as exc:  # noqa: BLE001 - whatever it is, the person must see it in the log
            say = f"[commonroom-launcher] could not set up the server process: {type(exc).__name__}: {exc}"
            print(say, file=sys.stderr, flush=True)
            return SETUP_FAILED
        from commonroom.singleuser.launcher import main

        main(self.request.args)  # SystemExit and errors end the child as they end `python -m ...`
        return 0

    def _become_server(self) -> None:
        request = self.request
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(request.log_fd, 1)
        os.dup2(request.log_fd, 2)
        env = _receive_env(self.conn)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for sock in (*self.inherited, self.conn):
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, self.nofile)
        if request.limits is not None:
            enter(request.limits)  # joining a cgroup needs the hub's privileges: before they are dropped
        if request.run_as is not None:
            procs.drop_privileges(request.run_as)
            _dumpable()
        os.chdir(request.cwd)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        os.environ.clear()
        os.environ.update(env)
        tempfile.tempdir = None  # found again from the new environment, should anything have asked already
        for name in RELOAD_IN_CHILD:
            if name in sys.modules:
                importlib.reload(sys.modules[name])
        sys.argv = [sys.argv[0], *request.args]


def _dumpable() -> None:
    """Give the person their server's /proc entries back, as exec would: the kernel hands a process that changed
    its uid without exec to root (not dumpable), which hides its memory use and descriptors from its owner."""
    if ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 1) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE) failed")


def _receive_env(conn: socket.socket) -> dict[str, str]:
    conn.settimeout(ENV_TIMEOUT_SECONDS)
    message, _ = wire.read_line(conn)
    env = message.get("env")
    if not (isinstance(env, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())):
        raise ValueError("the hub sent no environment")
    return env
