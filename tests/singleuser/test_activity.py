"""What counts as activity, and the report's shape: pure logic, with a real pty for the terminal rule."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from ptyprocess import PtyProcess

from commonroom.singleuser.activity import activity_body, foreground_job, jittered, kernel_busy


def test_body_is_jupyterhubs_shape() -> None:
    when = datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert activity_body("", when) == {
        "servers": {"": {"last_activity": "2025-01-02T03:04:05.000006Z"}},
        "last_activity": "2025-01-02T03:04:05.000006Z",
    }


def test_jitter_stays_within_ten_percent() -> None:
    delays = [jittered(60) for _ in range(1000)]
    assert 54 <= min(delays) and max(delays) <= 66 and len(set(delays)) > 1


def test_a_busy_kernel_is_activity() -> None:
    assert kernel_busy(["idle", "busy"])
    assert not kernel_busy(["idle", "starting", "dead"])


def test_a_terminal_running_a_command_is_activity() -> None:
    shell = PtyProcess.spawn(["bash", "--norc", "--noprofile", "-i"])
    try:
        assert wait_for(lambda: not foreground_job([(shell.fd, shell.pid)]))
        shell.write(b"sleep 30\n")
        assert wait_for(lambda: foreground_job([(shell.fd, shell.pid)]))
        shell.sendintr()
        assert wait_for(lambda: not foreground_job([(shell.fd, shell.pid)]))
    finally:
        shell.close(force=True)


def wait_for(condition: object, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False
