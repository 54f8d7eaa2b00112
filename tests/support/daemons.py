"""Ending a helper process a fixture started (a directory server, an identity provider)."""

from __future__ import annotations

import subprocess

from tests.support.hubprocess import FIXTURE_PROCESSES


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
