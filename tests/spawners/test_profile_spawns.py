"""What a profile changes in the server the local spawner starts: environment, virtual environment, command."""

from __future__ import annotations

from pathlib import Path

import pytest
from spawner_harness import TINY_SERVER, Harness, fetch, python_cmd

from commonroom.config.models import Profile
from commonroom.spawners.base import ServerSpec, SpawnError
from commonroom.spawners.local import LocalProcessSpawner


def spawner_with(harness: Harness, profile: Profile) -> LocalProcessSpawner:
    config = harness.config(environment={"SITE": "site", "COURSE": "site"}, profiles=[profile])
    spec = ServerSpec(user="alice", server_name="", prefix="/user/alice/", env={}, options={"profile": profile.name})
    spawner = LocalProcessSpawner(config, spec, {})
    harness.spawners.append(spawner)
    return spawner


async def test_the_profiles_environment_venv_and_command(harness: Harness) -> None:
    venv = harness.tmp / "venv"
    (venv / "bin").mkdir(parents=True)
    profile = Profile(name="stats", environment={"COURSE": "stats101"}, venv=venv, cmd=python_cmd(TINY_SERVER))
    url = await spawner_with(harness, profile).start()
    env = (await fetch(url))["env"]
    assert env["COURSE"] == "stats101" and env["SITE"] == "site"
    assert env["VIRTUAL_ENV"] == str(venv) and env["PATH"].split(":")[0] == str(venv / "bin")


async def test_a_venv_without_jupyterhub_singleuser_says_which_profile_to_fix(harness: Harness) -> None:
    profile = Profile(name="empty-env", venv=harness.tmp / "nowhere")
    with pytest.raises(SpawnError) as failed:
        await spawner_with(harness, profile).start()
    assert f"{Path(harness.tmp / 'nowhere' / 'bin' / 'jupyterhub-singleuser')}' was not found" in str(failed.value)
    assert "set the cmd or venv of profile 'empty-env' (spawner.profiles)" in str(failed.value)
