"""When a server should be stopped, and what to tell its owner: pure functions of times and limits.

Activity here is already the latest of everything that counts (traffic through the proxy, what the server
reports, which includes busy kernels and terminal jobs, and keep-alive clicks); these rules only compare times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from commonroom.config.models import Config, Profile

Action = Literal["keep", "warn", "cull"]
Cause = Literal["idle", "max_age"]

MAX_REPORT_INTERVAL = 60
"""Seconds between a server's activity reports when no idle timeout asks for more often."""


@dataclass(frozen=True)
class Limits:
    idle_timeout: float
    """Seconds without activity before a stop; 0: never for inactivity."""
    max_age: float
    """Seconds after the start before a stop, active or not; 0: no limit."""
    warning_before: float


@dataclass(frozen=True)
class Verdict:
    action: Action
    deadline: datetime | None = None
    """When the server will be stopped if nothing changes; None when no limit applies."""
    cause: Cause | None = None
    limit: float = 0
    """The timeout or maximum age (seconds) that sets the deadline."""

    def seconds_left(self, now: datetime) -> float | None:
        return None if self.deadline is None else max(0.0, (self.deadline - now).total_seconds())

    def warning(self, now: datetime) -> str:
        """The line people see before the stop; empty unless the action is "warn"."""
        if self.action != "warn":
            return ""
        left = describe(self.seconds_left(now) or 0)
        if self.cause == "idle":
            return f"Your server will be stopped in {left} for inactivity."
        return f"Your server will be stopped in {left}: it reaches the longest time a server may run ({describe(self.limit)})."

    def notice(self) -> str:
        """Why the server was stopped, shown to its owner on their next visit."""
        if self.cause == "idle":
            why = f"after {describe(self.limit)} without activity"
        else:
            why = f"because it reached the longest time a server may run ({describe(self.limit)})"
        return f"Your server was stopped {why}. Your files are kept; start it again whenever you like."


def decide(now: datetime, started: datetime | None, last_activity: datetime | None, limits: Limits) -> Verdict:
    """Keep, warn or cull a running server; a server with no start time is kept (nothing to measure from)."""
    if started is None:
        return Verdict("keep")
    candidates: list[tuple[datetime, Cause, float]] = []
    if limits.idle_timeout > 0:
        since = max(last_activity or started, started)
        candidates.append((since + timedelta(seconds=limits.idle_timeout), "idle", limits.idle_timeout))
    if limits.max_age > 0:
        candidates.append((started + timedelta(seconds=limits.max_age), "max_age", limits.max_age))
    if not candidates:
        return Verdict("keep")
    deadline, cause, limit = min(candidates, key=lambda candidate: candidate[0])
    if now >= deadline:
        return Verdict("cull", deadline, cause, limit)
    warn_from = deadline - timedelta(seconds=min(limits.warning_before, limit / 2))
    return Verdict("warn" if now >= warn_from else "keep", deadline, cause, limit)


def profile_named(config: Config, name: object) -> Profile | None:
    """The profile a server was started with (user_options["profile"]), else the default profile."""
    profiles = config.spawner.profiles
    chosen = next((profile for profile in profiles if profile.name == name), None)
    return chosen or next((profile for profile in profiles if profile.default), None)


def limits_for(config: Config, profile: Profile | None) -> Limits:
    culler = config.culler
    idle = profile.idle_timeout if profile is not None and profile.idle_timeout is not None else culler.idle_timeout
    return Limits(idle_timeout=idle, max_age=culler.max_age, warning_before=culler.warning_before)


def report_interval(config: Config) -> int:
    """Seconds between a server's activity reports: often enough that the shortest idle timeout in force
    always sees a busy kernel at least three times before it would expire."""
    timeouts = [config.culler.idle_timeout] + [p.idle_timeout for p in config.spawner.profiles if p.idle_timeout]
    shortest = min((t for t in timeouts if t > 0), default=0) if config.culler.enabled else 0
    if not shortest:
        return MAX_REPORT_INTERVAL
    return max(1, min(MAX_REPORT_INTERVAL, math.floor(shortest / 4)))


def describe(seconds: float) -> str:
    """A duration as people say it: 45 s, 5 min, 1 h 30 min, 2 d 3 h."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
