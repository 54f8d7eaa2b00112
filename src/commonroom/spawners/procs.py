"""Server processes that outlive the hub: launched in a session of their own, found again by pid *and* start time.

A hub restart loses every Popen object, so a server is found again from what its state recorded. A pid alone
is not enough: once a server exits, the kernel hands its pid to the next process. The start time in
/proc/<pid>/stat (and the boot it belongs to) tells the original process from a newcomer that got its pid.
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

_POLL_SECONDS = 0.05
_KILL_WAIT_SECONDS = 5.0
"""SIGKILL cannot be ignored, only delayed by uninterruptible I/O; past this, stop gives up waiting."""


@dataclass(frozen=True)
class ProcessId:
    """One particular process, even after its pid has been reused."""

    pid: int
    start_ticks: int
    """Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot."""
    boot_id: str

    def to_state(self) -> dict[str, Any]:
        return {"pid": self.pid, "start_ticks": self.start_ticks, "boot_id": self.boot_id}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> ProcessId | None:
        """The process a spawner state names, or None when the state names none (or is damaged)."""
        pid, ticks, boot = state.get("pid"), state.get("start_ticks"), state.get("boot_id")
        if isinstance(pid, int) and isinstance(ticks, int) and isinstance(boot, str):
            return cls(pid, ticks, boot)
        return None


@dataclass(frozen=True)
class RunAs:
    """The OS identity a server runs as when the hub drops privileges."""

    uid: int
    gid: int
    groups: tuple[int, ...]


class Reporter(Protocol):
    """How the hub hears of the end of a server that another process (the launcher, its parent) forked."""

    def reported(self) -> int | None:
        """The exit status once the parent has told it, else None. Never blocks."""

    def reporting(self) -> bool:
        """Whether a status can still come: False once the parent is gone without telling."""


_forked: dict[ProcessId, Reporter] = {}
"""Servers the launcher forked for this hub process, until their exit status has been read."""

_children: dict[ProcessId, subprocess.Popen[bytes]] = {}
"""Servers this hub process launched and has not reaped. Only the parent learns an exit status, and only once,
so every spawner instance in this process asks here instead of keeping a Popen of its own (a Popen dropped
while its process runs would be reaped behind our back by the subprocess module)."""


@functools.cache
def _boot_id() -> str:
    return Path("/proc/sys/kernel/random/boot_id").read_text().strip()


def identify(pid: int, start_ticks: int) -> ProcessId:
    """The ProcessId of a process this boot, from the start ticks its parent read while it could not be reaped."""
    return ProcessId(pid, start_ticks, _boot_id())


def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start ticks) of a pid, or None when no process has it."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[19])


def _state_letter(proc: ProcessId) -> str | None:
    """The process's state (R, S, Z...) while its pid still belongs to it, else None."""
    found = _stat(proc.pid) if proc.boot_id == _boot_id() else None
    if found is None or found[1] != proc.start_ticks:
        return None
    return found[0]


def _running(proc: ProcessId) -> bool:
    reporter = _forked.get(proc)
    if reporter is not None and reporter.reported() is not None:
        return False
    if reporter is not None and reporter.reporting():
        return True  # gone from /proc a moment before its status arrives: not over until the status is read
    return _state_letter(proc) not in (None, "Z", "X")


def open_log(path: Path, rotate: bool = True) -> int:
    """A process's log opened for writing by the hub, so the process needs no access to the hub's folders.

    With rotate, the previous run's log is kept as <name>.1 for whoever investigates a crash after a restart;
    without, output is appended (a supervised process restarted after a crash keeps one log).
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if rotate and path.exists():
        path.replace(path.with_name(path.name + ".1"))
    flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | (os.O_TRUNC if rotate else os.O_APPEND)
    return os.open(path, flags, 0o600)


def launch(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log_fd: int,
    run_as: RunAs | None,
    before_exec: Callable[[], None] | None = None,
) -> ProcessId:
    """Start argv in a new session (so signals to the hub's group do not reach it) with output to log_fd.

    Synchronous on purpose: fork and exec take milliseconds, and a start cancelled while a launch ran in a
    thread could leave behind a process nobody recorded. Raises OSError when the command cannot be executed.
    `before_exec` runs in the child while it still has the hub's privileges (limits.base.enter: join the
    server's cgroups); the child then drops them itself, since Popen would drop them before any preexec_fn.
    A `before_exec` that raises makes this raise subprocess.SubprocessError.
    """
    popen_as = None if before_exec is not None else run_as
    child = subprocess.Popen(
        list(argv),
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=log_fd,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        user=popen_as.uid if popen_as else None,
        group=popen_as.gid if popen_as else None,
        extra_groups=list(popen_as.groups) if popen_as else None,
        preexec_fn=functools.partial(_in_child, before_exec, run_as) if before_exec else None,
    )
    found = _stat(child.pid)
    assert found is not None, "an unreaped child always has a /proc entry"
    proc = ProcessId(child.pid, found[1], _boot_id())
    _children[proc] = child
    return proc


def drop_privileges(run_as: RunAs) -> None:
    """In a forked server, before it runs anything of the person's: exactly the account's groups, gid and uid
    (real, effective and saved, so there is no way back), as Popen's user/group/extra_groups set them."""
    os.setgroups(list(run_as.groups))
    os.setresgid(run_as.gid, run_as.gid, run_as.gid)
    os.setresuid(run_as.uid, run_as.uid, run_as.uid)


def adopt(proc: ProcessId, reporter: Reporter) -> None:
    """Watch a server the launcher forked: its exit status comes from `reporter`, not from a wait()."""
    _forked[proc] = reporter


def _in_child(before_exec: Callable[[], None], run_as: RunAs | None) -> None:
    before_exec()
    if run_as is not None:
        drop_privileges(run_as)


def exit_status(proc: ProcessId) -> int | None:
    """None while the process runs, else its exit status: negative for a signal, 0 when unknown.

    The status is known only to the parent of the process: this hub process, which reaps it here, or the
    launcher, which reports it to the hub process that asked for the server.
    """
    reporter = _forked.get(proc)
    if reporter is not None:
        status = reporter.reported()
        if status is None and reporter.reporting():
            return None
        del _forked[proc]
        if status is not None:
            return status
    child = _children.get(proc)
    if child is None:
        return None if _running(proc) else 0
    status = child.poll()
    if status is not None:
        del _children[proc]
    return status


async def ends_within(
    proc: ProcessId, seconds: float, unless: Callable[[], bool] = lambda: False, poll: float = _POLL_SECONDS
) -> bool:
    """Whether the process stops running within `seconds` (it is not reaped, so its pid stays reserved);
    False as soon as `unless()` holds while it runs."""
    deadline = asyncio.get_running_loop().time() + seconds
    while _running(proc):
        if unless() or asyncio.get_running_loop().time() >= deadline:
            return False
        await asyncio.sleep(poll)
    return True


def _signal_group(proc: ProcessId, sig: signal.Signals) -> None:
    """Signal the process group the server leads, unless its pid now belongs to another process.

    With the leader gone entirely, what is left in its group (if anything) is the server's own children:
    the kernel never hands out a pid that is still in use as a process group id.
    """
    if proc.boot_id != _boot_id():
        return
    found = _stat(proc.pid)
    if found is not None and found[1] != proc.start_ticks:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


async def terminate(proc: ProcessId, grace: float) -> int:
    """Stop the server and its process group: SIGTERM, SIGKILL after `grace` seconds; returns exit_status.

    Works as well on a server a previous hub process started. Never blocks the event loop.
    """
    if grace > 0:
        _signal_group(proc, signal.SIGTERM)
        await ends_within(proc, grace)
    _signal_group(proc, signal.SIGKILL)
    await ends_within(proc, _KILL_WAIT_SECONDS)
    status = exit_status(proc)
    return 0 if status is None else status


def describe_exit(status: int) -> str:
    """How a process ended, in words for a person; a SIGKILL out of nowhere is usually the OOM killer."""
    if status == -signal.SIGKILL:
        return "was killed (signal 9, possibly out of memory)"
    if status < 0:
        return f"was killed by signal {-status} ({signal.strsignal(-status) or 'unknown signal'})"
    return "exited" if status == 0 else f"exited with status {status}"
