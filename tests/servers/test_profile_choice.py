"""Which profiles a person may use and which one a start request gets (pure logic)."""

from __future__ import annotations

import pytest

from commonroom.config.models import Profile
from commonroom.servers.profiles import ProfileRefused, allowed, choose, summary

PROFILES = [
    Profile(name="small", memory="1G", cpu=1),
    Profile(name="large", memory="8G", cpu=4, groups=["research"], default=True),
    Profile(name="gpu", groups=["gpu-users", "research"]),
]


def names(profiles: list[Profile]) -> list[str]:
    return [p.name for p in profiles]


def test_open_profiles_and_those_of_ones_groups() -> None:
    assert names(allowed(PROFILES, [], admin=False)) == ["small"]
    assert names(allowed(PROFILES, ["gpu-users"], admin=False)) == ["small", "gpu"]
    assert names(allowed(PROFILES, ["research"], admin=False)) == ["small", "large", "gpu"]
    assert names(allowed(PROFILES, [], admin=True)) == ["small", "large", "gpu"]


def test_no_profile_asked_for_gets_the_default_one_may_use_else_the_first() -> None:
    assert choose(PROFILES, {}, ["research"], admin=False) == PROFILES[1]
    assert choose(PROFILES, {"profile": ""}, [], admin=False) == PROFILES[0]


def test_no_profiles_configured_changes_nothing() -> None:
    assert choose([], {"profile": "anything"}, [], admin=False) is None


def test_unknown_profile_is_400_and_lists_the_allowed_ones() -> None:
    with pytest.raises(ProfileRefused) as refused:
        choose(PROFILES, {"profile": "huge"}, ["gpu-users"], admin=False)
    assert refused.value.status == 400
    assert refused.value.message == "There is no server profile 'huge'; the ones you may use are: small, gpu."


def test_someone_elses_profile_is_403() -> None:
    with pytest.raises(ProfileRefused) as refused:
        choose(PROFILES, {"profile": "large"}, ["gpu-users"], admin=False)
    assert refused.value.status == 403
    assert "only for members of research; you may use: small, gpu" in refused.value.message


def test_a_profile_that_is_not_a_name_is_400() -> None:
    with pytest.raises(ProfileRefused) as refused:
        choose(PROFILES, {"profile": ["small"]}, [], admin=False)
    assert refused.value.status == 400


def test_nobody_left_out_silently() -> None:
    closed = [Profile(name="staff", groups=["staff"])]
    with pytest.raises(ProfileRefused) as refused:
        choose(closed, {}, ["students"], admin=False)
    assert refused.value.status == 403 and "one of the groups: staff" in refused.value.message


def test_summary_of_limits() -> None:
    assert summary(Profile(name="x", cpu=1.5, memory="2G", max_processes=256, disk_quota="10G")) == (
        "1.5 CPUs · 2 GB memory · 256 processes · 10 GB disk"
    )
    assert summary(Profile(name="x", cpu=1)) == "1 CPU"
    assert summary(Profile(name="x")) == "no limits"
