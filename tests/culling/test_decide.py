"""The culler's rules: pure functions of times and limits."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from commonroom.config.models import Config, CullerConfig, Profile, SpawnerConfig
from commonroom.culling.decide import Limits, decide, describe, limits_for, profile_named, report_interval

START = datetime(2026, 11, 22, 8, 0, 0)
HOUR = Limits(idle_timeout=3600, max_age=0, warning_before=600)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def test_a_server_used_recently_is_kept() -> None:
    verdict = decide(at(3000), START, at(2000), HOUR)
    assert (verdict.action, verdict.deadline, verdict.cause) == ("keep", at(5600), "idle")


def test_the_warning_comes_warning_before_seconds_ahead() -> None:
    assert decide(at(4999), START, at(2000), HOUR).action == "keep"
    verdict = decide(at(5000), START, at(2000), HOUR)
    assert verdict.action == "warn"
    assert verdict.warning(at(5000)) == "Your server will be stopped in 10 min for inactivity."


def test_an_idle_server_is_culled_at_its_deadline_and_told_why() -> None:
    assert decide(at(5599), START, at(2000), HOUR).action == "warn"
    verdict = decide(at(5600), START, at(2000), HOUR)
    assert verdict.action == "cull"
    assert verdict.notice() == (
        "Your server was stopped after 1 h without activity. Your files are kept; start it again whenever you like."
    )


def test_a_server_never_used_counts_from_its_start() -> None:
    assert decide(at(3600), START, None, HOUR).action == "cull"
    assert decide(at(3599), START, None, HOUR).action == "warn"


def test_activity_older_than_the_start_does_not_shorten_the_deadline() -> None:
    assert decide(at(100), START, at(-7200), HOUR).deadline == at(3600)


def test_max_age_stops_even_an_active_server() -> None:
    limits = Limits(idle_timeout=3600, max_age=8 * 3600, warning_before=600)
    verdict = decide(at(8 * 3600), START, at(8 * 3600 - 1), limits)
    assert (verdict.action, verdict.cause) == ("cull", "max_age")
    assert "reached the longest time a server may run (8 h)" in verdict.notice()
    early = decide(at(8 * 3600 - 300), START, at(8 * 3600 - 301), limits)
    assert early.action == "warn" and early.warning(at(8 * 3600 - 300)).startswith("Your server will be stopped in 5 min:")


def test_no_limits_means_always_kept() -> None:
    off = Limits(idle_timeout=0, max_age=0, warning_before=600)
    verdict = decide(at(10**7), START, None, off)
    assert (verdict.action, verdict.deadline) == ("keep", None)
    assert decide(at(10**7), None, None, HOUR).action == "keep"


def test_the_warning_never_takes_more_than_half_the_timeout() -> None:
    short = Limits(idle_timeout=60, max_age=0, warning_before=600)
    assert decide(at(29), START, START, short).action == "keep"
    assert decide(at(30), START, START, short).action == "warn"


def test_a_profile_timeout_wins_over_the_default() -> None:
    config = Config(
        culler=CullerConfig(idle_timeout=3600),
        spawner=SpawnerConfig(profiles=[Profile(name="gpu", idle_timeout=600), Profile(name="small", default=True)]),
    )
    assert limits_for(config, profile_named(config, "gpu")).idle_timeout == 600
    assert limits_for(config, profile_named(config, "small")).idle_timeout == 3600
    assert profile_named(config, None) == profile_named(config, "gone") == config.spawner.profiles[1]
    assert limits_for(config, None).idle_timeout == 3600


def test_servers_report_often_enough_for_the_shortest_timeout() -> None:
    assert report_interval(Config()) == 60
    assert report_interval(Config(culler=CullerConfig(idle_timeout=20))) == 5
    assert report_interval(Config(culler=CullerConfig(idle_timeout=2))) == 1
    profiles = SpawnerConfig(profiles=[Profile(name="quick", idle_timeout=120)])
    assert report_interval(Config(spawner=profiles)) == 30
    assert report_interval(Config(culler=CullerConfig(enabled=False, idle_timeout=20))) == 60


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(20, "20 s"), (59.6, "1 min"), (300, "5 min"), (3600, "1 h"), (5400, "1 h 30 min"), (86400, "1 d"), (97200, "1 d 3 h")],
)
def test_durations_read_as_people_say_them(seconds: float, said: str) -> None:
    assert describe(seconds) == said
