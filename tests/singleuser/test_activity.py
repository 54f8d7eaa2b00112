"""What counts as activity, and the report's shape: pure logic, with a real pty for the terminal rule."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from ptyprocess import PtyProcess

from commonroom.singleuser import activity
from commonroom.singleuser.activity import (
    ActivityReporter,
    activity_body,
    foreground_job,
    jittered,
    kernel_busy,
)
from commonroom.singleuser.environment import HubEnvironment
from commonroom.singleuser.hubapi import HubError


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
    ptys = [(shell.fd, shell.pid)]
    try:
        assert wait_for(lambda: not foreground_job(ptys)), "a shell at its prompt is not activity"
        shell.write(b"sleep 1.5\n")
        assert wait_for(lambda: foreground_job(ptys)), "a running command is activity"
        assert wait_for(lambda: not foreground_job(ptys)), "once it ends, the shell is idle again"
    finally:
        shell.close(force=True)


def wait_for(condition: object, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


class FakeServer:
    """Just the parts of ServerApp the reporter reads."""

    def __init__(self) -> None:
        self.recorded = datetime(2025, 1, 2, tzinfo=UTC)
        self.states: list[str] = []
        self.log = logging.getLogger("test-activity")
        self.web_app = SimpleNamespace(last_activity=lambda: self.recorded, settings={})
        self.kernel_manager = SimpleNamespace(
            list_kernel_ids=lambda: list(range(len(self.states))),
            kernel_model=lambda i: {"execution_state": self.states[i]},
        )


class FakeHub:
    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.posts: list[dict[str, object]] = []

    async def post_activity(self, url: str, body: dict[str, object]) -> None:
        if self.failures:
            self.failures -= 1
            raise HubError("hub restarting")
        self.posts.append(body)


ENV = HubEnvironment.from_environ(
    {"JUPYTERHUB_API_URL": "http://hub/hub/api", "JUPYTERHUB_API_TOKEN": "t", "JUPYTERHUB_USER": "alice",
     "JUPYTERHUB_SERVER_NAME": "gpu", "JUPYTERHUB_ACTIVITY_URL": "http://hub/hub/api/users/alice/activity"}
)  # fmt: skip


def reporter(server: FakeServer, hub: FakeHub) -> ActivityReporter:
    return ActivityReporter(server, hub, ENV)  # type: ignore[arg-type]


async def test_reports_only_what_is_new() -> None:
    server, hub = FakeServer(), FakeHub()
    report = reporter(server, hub)
    assert await report.report_once()
    assert not await report.report_once()
    server.recorded += timedelta(seconds=1)
    assert await report.report_once()
    assert [post["last_activity"] for post in hub.posts] == [
        "2025-01-02T00:00:00.000000Z",
        "2025-01-02T00:00:01.000000Z",
    ]
    assert set(hub.posts[0]["servers"]) == {"gpu"}  # type: ignore[arg-type]


async def test_a_busy_kernel_is_reported_every_time() -> None:
    server, hub = FakeServer(), FakeHub()
    server.states = ["idle", "busy"]
    report = reporter(server, hub)
    assert await report.report_once()
    await asyncio.sleep(0.001)
    assert await report.report_once()
    assert len(hub.posts) == 2 and hub.posts[0]["last_activity"] < hub.posts[1]["last_activity"]


async def test_failed_posts_are_retried_then_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(activity, "RETRY_DELAYS", (0.0, 0.0))
    server = FakeServer()
    assert await reporter(server, FakeHub(failures=2)).report_once()
    hub = FakeHub(failures=3)
    report = reporter(server, hub)
    assert not await report.report_once()
    assert await report.report_once(), "activity not delivered must be sent again"
    assert len(hub.posts) == 1
