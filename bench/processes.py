"""Every process the harness starts, so that all of them end when it ends: normally, on a failure or on
Ctrl-C. Processes run in sessions of their own, so a whole group (a hub and what it forked) can be signalled."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import psutil


class Processes:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[subprocess.Popen[bytes]] = []

    def start(
        self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.Popen[bytes]:
        """Start argv in a new session, its output appended to log_dir/NAME.log."""
        with open(self.log_dir / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(
                list(argv), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=dict(env) if env is not None else None, cwd=cwd, start_new_session=True,
            )  # fmt: skip
        self.started.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], grace: float = 10) -> None:
        """SIGTERM to the process group, SIGKILL after `grace` seconds."""
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        _signal_group(proc.pid, signal.SIGKILL)  # anything left in its group
        if proc in self.started:
            self.started.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.started)):
            self.stop(proc, grace=5)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def processes_marked(*markers: str) -> list[psutil.Process]:
    """Live processes whose command line and environment together mention every marker (a scratch directory,
    JUPYTERHUB_USER=name ...)."""
    found = []
    needles = [marker.encode() for marker in markers]
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            blob = Path(f"/proc/{proc.pid}/environ").read_bytes() + Path(f"/proc/{proc.pid}/cmdline").read_bytes()
            if all(needle in blob for needle in needles) and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (OSError, psutil.Error):
            continue
    return found


def kill_marked(marker: str) -> int:
    """SIGKILL every process marked by `marker` (what a hub left behind); how many there were."""
    leftovers = processes_marked(marker)
    for proc in leftovers:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(leftovers, timeout=5)
    return len(leftovers)


def rss_mib(pid: int, with_children: bool = False) -> float:
    """Resident memory of a process (and, if asked, all its descendants) in MiB."""
    proc = psutil.Process(pid)
    procs = [proc, *proc.children(recursive=True)] if with_children else [proc]
    total = 0
    for each in procs:
        try:
            total += each.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


def wait_until(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.02) -> None:
    """Poll a callable until it returns something true; TimeoutError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
