"""Profile settings are checked when the hub starts, with messages that say how to fix them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from commonroom.config import Config, ConfigError
from commonroom.config.loader import validate
from commonroom.config.models import Profile


def spawner(*profiles: dict[str, Any]) -> dict[str, Any]:
    return {"spawner": {"profiles": list(profiles)}}


def test_a_full_profile() -> None:
    config = validate(spawner({"name": "small", "memory": "2G", "cpu": 1.5, "max_processes": 256,
                               "groups": ["students"], "idle_timeout": 3600, "venv": "/opt/envs/py311"}), "t")  # fmt: skip
    profile = config.spawner.profile("small")
    assert profile is not None and profile.cpu == 1.5 and profile.idle_timeout == 3600
    assert config.spawner.profile("other") is None and config.spawner.profile(None) is None


@pytest.mark.parametrize(
    ("profile", "words"),
    [
        ({"name": "Big One"}, "a profile name uses only a-z, 0-9"),
        ({"name": "x", "memory": "lots"}, "'lots' is not a size"),
        ({"name": "x", "disk_quota": "-1G"}, "is not a size"),
        ({"name": "x", "cpu": 0}, "greater than 0"),
        ({"name": "x", "idle_timeout": -5}, "greater than 0"),
        ({"name": "x", "memroy": "2G"}, "memroy"),
    ],
)
def test_bad_profiles_are_refused_with_the_fix(profile: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        validate(spawner(profile), "t")


def test_names_are_unique_and_one_default_at_most() -> None:
    with pytest.raises(ConfigError, match="repeated: a"):
        validate(spawner({"name": "a"}, {"name": "a"}), "t")
    with pytest.raises(ConfigError, match="at most one profile may be the default; these are: a, b"):
        validate(spawner({"name": "a", "default": True}, {"name": "b", "default": True}), "t")


def test_no_profiles_by_default() -> None:
    assert Config().spawner.profiles == [] and Config().spawner.enforcement == "auto"


def test_the_readme_example_is_valid_and_shows_every_profile_setting() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    match = re.search(r"## Resource profiles.*?```toml\n(.*?)```", readme, re.S)
    assert match, "README has no ```toml block under '## Resource profiles'"
    example = tomllib.loads(match.group(1))
    config = validate(example, "README")
    assert set(example["spawner"]["profiles"][0]) == set(Profile.model_fields)
    assert config.spawner.profiles[0].name == "small"
