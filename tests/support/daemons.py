"""Starting and ending a helper process a fixture runs (a directory server, an identity provider, a database)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

from tests.support.hubprocess import FIXTURE_PROCESSES, wait_for


def start(
    name: str, argv: list[str], answers: Callable[[], bool], timeout: float, what: str, **popen: Any
) -> subprocess.Popen[bytes]:
    """Start the process (output discarded), mark it the fixture's, and wait until `answers()`; a process that
    exits first fails the wait at once, naming its exit status."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **popen)
    FIXTURE_PROCESSES.add(proc.pid)

    def ready() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}")
        return answers()

    wait_for(ready, timeout, what)
    return proc


def stop(proc: subprocess.Popen[str] | subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, then SIGKILL after 10 s; the process is no longer the fixture's."""
    if proc is None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    FIXTURE_PROCESSES.discard(proc.pid)
