"""Files of cgroup folders that read and behave the same under cgroup v1 and v2: members, OOM kills, removal."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

from commonroom.limits.base import Handle, LimitError

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.05
RELEASE_SECONDS = 5.0
"""How long release waits for killed processes to leave their cgroup before it gives up on removing it."""


def write(folder: Path, name: str, value: str) -> None:
    """Write one control file; LimitError names the file and the kernel's answer."""
    try:
        (folder / name).write_text(value)
    except OSError as exc:
        raise LimitError(f"could not write {value!r} to {folder / name} ({exc.strerror or exc})") from None


def make(folder: Path) -> None:
    """A fresh cgroup at `folder`; one left over from an earlier run is removed first, if it is empty."""
    try:
        folder.rmdir()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise LimitError(
            f"an earlier run of this server left processes in {folder} ({exc.strerror}); stop the server and try again"
        ) from None
    try:
        folder.mkdir(parents=True)
    except OSError as exc:
        raise LimitError(f"could not create the cgroup {folder} ({exc.strerror or exc})") from None


def members(folder: str) -> list[int]:
    """Pids in a cgroup (threads excluded); [] when it is gone."""
    try:
        return [int(line) for line in Path(folder, "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def oom_kills(handle: Handle) -> int:
    """How many processes the kernel killed in these cgroups for going over their memory limit.

    cgroup v2 counts them in memory.events, cgroup v1 (kernel 4.13+) in memory.oom_control; both say `oom_kill N`.
    """
    total = 0
    for folder in handle.cgroups:
        for name in ("memory.events", "memory.oom_control"):
            try:
                text = Path(folder, name).read_text()
            except OSError:
                continue
            total += sum(int(line.split()[1]) for line in text.splitlines() if line.startswith("oom_kill "))
    return total


async def release(handle: Handle) -> None:
    """Kill every process still in the handle's cgroups and remove them, so nothing of the server keeps running.

    Never raises: a cgroup that cannot be removed is logged, and the next start of the server tries again.
    """
    for folder in handle.cgroups:
        if await _empty(folder):
            try:
                os.rmdir(folder)
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("could not remove the cgroup %s: %s", folder, exc.strerror)
        else:
            log.warning("processes in %s survived SIGKILL for %g s; the cgroup is kept", folder, RELEASE_SECONDS)


async def _empty(folder: str) -> bool:
    """Kill the cgroup's members until none is left (a fork between reading and killing is caught next round)."""
    deadline = asyncio.get_running_loop().time() + RELEASE_SECONDS
    while pids := members(folder):
        if asyncio.get_running_loop().time() >= deadline:
            return False
        if not _kill_all(folder):
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        await asyncio.sleep(_POLL_SECONDS)
    return True


def _kill_all(folder: str) -> bool:
    """cgroup v2's cgroup.kill (Linux 5.14+) kills every member at once, forks under way included."""
    try:
        Path(folder, "cgroup.kill").write_text("1")
    except OSError:
        return False
    return True
