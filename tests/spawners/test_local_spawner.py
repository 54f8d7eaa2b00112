"""LocalProcessSpawner with real processes, running as the hub's own user (os_accounts = "never")."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import stat
import sys
from pathlib import Path

import pytest
from spawner_harness import Harness, fetch, port_is_closed, python_cmd

from commonroom.spawners.base import ProgressEvent, SpawnError
from commonroom.spawners.local import uses_os_accounts


async def test_start_answers_then_stop_closes_the_port(harness: Harness) -> None:
    spawner = harness.spawner()
    assert await spawner.poll() == 0
    url = await spawner.start()
    port = spawner.state["port"]
    assert url == f"http://127.0.0.1:{port}"
    assert (await fetch(url + "/user/alice/api"))["cwd"] == str(harness.tmp / "homes" / "alice")
    assert await spawner.poll() is None
    assert spawner.failure_detail() == ""

    await spawner.stop()

    assert await spawner.poll() == -signal.SIGTERM
    assert port_is_closed(port)
    assert spawner.state == {}
    await spawner.stop()


async def test_progress_follows_start_until_it_ends(harness: Harness) -> None:
    spawner = harness.spawner()
    seen: list[ProgressEvent] = []

    async def follow() -> None:
        async for event in spawner.progress():
            seen.append(event)

    follower = asyncio.create_task(follow())
    await asyncio.wait_for(spawner.start(), 10)
    await asyncio.wait_for(follower, 1)

    messages = [event.message for event in seen]
    assert messages == ["Preparing your home directory", f"Starting your server (pid {spawner.state['pid']})"]
    assert [event async for event in spawner.progress()] == []


async def test_environment_is_the_contract_and_nothing_of_the_hub(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_ONLY_SECRET", "do-not-leak")
    contract = {
        "JUPYTERHUB_API_TOKEN": "tok",
        "JUPYTERHUB_USER": "alice",
        "JUPYTERHUB_SERVICE_PREFIX": "/user/alice/",
    }
    config = harness.config(environment={"SITE_WIDE": "yes"})
    spawner = harness.spawner(config, env=contract)
    url = await spawner.start()

    env = (await fetch(url))["env"]

    assert {k: env[k] for k in contract} == contract
    assert env["SITE_WIDE"] == "yes"
    assert env["JUPYTERHUB_SERVICE_URL"] == f"{url}/user/alice/"
    assert env["HOME"] == str(harness.tmp / "homes" / "alice")
    assert env["SHELL"] == "/bin/bash" and env["USER"]
    assert env["PATH"].split(":")[0] == str(Path(sys.executable).parent)
    assert "HUB_ONLY_SECRET" not in env


async def test_a_new_spawner_instance_finds_the_server_from_its_state(harness: Harness) -> None:
    first = harness.spawner()
    await first.start()
    again = harness.spawner(state=dict(first.state))

    assert await again.poll() is None
    await again.stop()

    assert await again.poll() is not None
    assert port_is_closed(first.state["port"])
    assert await first.poll() is not None


async def test_a_restarted_hub_process_polls_and_stops_servers_it_did_not_start(harness: Harness) -> None:
    config = harness.config()
    started = await harness.start_elsewhere(config, "alice")
    assert await fetch(started["url"])
    spawner = harness.spawner(config, state=started["state"])

    assert await spawner.poll() is None
    await spawner.stop()

    assert await spawner.poll() == 0
    assert port_is_closed(started["state"]["port"])


async def test_a_recycled_pid_is_not_mistaken_for_the_server(harness: Harness) -> None:
    real = harness.spawner()
    url = await real.start()
    stale = harness.spawner(state={**real.state, "start_ticks": real.state["start_ticks"] - 1})

    assert await stale.poll() == 0
    await stale.stop(now=True)

    assert await real.poll() is None
    assert await fetch(url)


async def test_a_missing_command_says_how_to_fix_the_config(harness: Harness) -> None:
    spawner = harness.spawner(harness.config(cmd=["no-such-singleuser-command"]))

    with pytest.raises(SpawnError, match="'no-such-singleuser-command' was not found on PATH.*spawner.cmd"):
        await spawner.start()
    assert spawner.state == {}


async def test_a_command_that_is_not_executable_is_refused(harness: Harness) -> None:
    script = harness.tmp / "server.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o644)
    spawner = harness.spawner(harness.config(cmd=[str(script)]))

    with pytest.raises(SpawnError, match="is not an executable file"):
        await spawner.start()


async def test_a_server_that_dies_at_start_fails_with_its_log(harness: Harness) -> None:
    code = "import sys\nfor i in range(30): print('line', i)\nprint('cannot bind', flush=True)\nsys.exit(3)"
    spawner = harness.spawner(harness.config(cmd=python_cmd(code)))

    with pytest.raises(SpawnError) as failure:
        await spawner.start()

    message = str(failure.value)
    assert message.startswith("Your server exited with status 3 right after starting.")
    assert message.endswith("line 29\ncannot bind")
    assert "line 9\n" not in message
    assert spawner.state == {}


async def test_the_start_watch_ends_once_the_server_listens(harness: Harness) -> None:
    """The server exits with 3 when someone connects, or 0.3 s after it listens: start() must count it as
    started once it listens (the HTTP probe takes over from there), where watching the whole first half second
    would have called it dead at start."""
    code = (
        "import os, socket, sys, urllib.parse\n"
        "port = urllib.parse.urlsplit(os.environ['JUPYTERHUB_SERVICE_URL']).port\n"
        "server = socket.create_server(('127.0.0.1', port))\n"
        "server.settimeout(0.3)\n"
        "try:\n    server.accept()\nexcept TimeoutError:\n    pass\n"
        "sys.exit(3)"
    )
    spawner = harness.spawner(harness.config(cmd=python_cmd(code)))

    url = await spawner.start()

    assert url.startswith("http://127.0.0.1:")
    await spawner.stop(now=True)


async def test_nothing_the_server_started_is_left_after_a_failed_start(harness: Harness) -> None:
    code = (
        "import subprocess, sys\n"
        "kid = subprocess.Popen(['sleep', '30'])\n"
        "print('kid', kid.pid, flush=True)\n"
        "sys.exit(3)"
    )
    spawner = harness.spawner(harness.config(cmd=python_cmd(code)))

    with pytest.raises(SpawnError, match=r"kid \d+") as failure:
        await spawner.start()

    match = re.search(r"kid (\d+)", str(failure.value))
    assert match is not None
    await _until_not_running(int(match[1]))


async def _until_not_running(pid: int) -> None:
    for _ in range(40):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return
        if state == "Z":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"process {pid} is still running")


async def test_the_previous_log_is_kept_for_one_restart(harness: Harness) -> None:
    spawner = harness.spawner()
    await spawner.start()
    log = Path(spawner.state["log"])
    await spawner.stop()

    await spawner.start()

    assert log.with_name(log.name + ".1").read_text().startswith("tiny server on")


async def test_a_crash_is_explained_by_failure_detail(harness: Harness) -> None:
    spawner = harness.spawner()
    await spawner.start()
    os.kill(spawner.state["pid"], signal.SIGKILL)
    await asyncio.sleep(0.2)

    assert await spawner.poll() == -signal.SIGKILL
    detail = spawner.failure_detail()
    assert "killed (signal 9, possibly out of memory)" in detail
    assert "tiny server on" in detail
    await spawner.stop()
    assert spawner.failure_detail() == detail


async def test_a_server_that_ignores_sigterm_is_killed_after_the_grace_period(harness: Harness) -> None:
    code = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(60)"
    spawner = harness.spawner(harness.config(cmd=python_cmd(code), local={"stop_grace_seconds": 0.3}))
    await spawner.start()
    loop = asyncio.get_running_loop()

    began = loop.time()
    await spawner.stop()

    assert 0.3 <= loop.time() - began < 3
    assert await spawner.poll() == -signal.SIGKILL


async def test_the_welcome_folder_seeds_a_new_home_once_and_homes_persist(harness: Harness) -> None:
    welcome = harness.tmp / "welcome"
    (welcome / "notebooks").mkdir(parents=True)
    (welcome / "notebooks" / "Welcome.ipynb").write_text("{}")
    spawner = harness.spawner(harness.config(welcome_dir=welcome))
    await spawner.start()
    home = harness.tmp / "homes" / "alice"
    notebook = home / "notebooks" / "Welcome.ipynb"
    assert notebook.read_text() == "{}"
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    notebook.write_text("my work")
    (welcome / "added-later.txt").write_text("new")
    await spawner.stop()

    await spawner.start()

    assert notebook.read_text() == "my work"
    assert not (home / "added-later.txt").exists()


async def test_named_servers_share_the_home_and_keep_separate_logs(harness: Harness) -> None:
    default, named = harness.spawner(), harness.spawner(server_name="gpu box")
    await asyncio.gather(default.start(), named.start())

    assert named.state["log"].endswith("/alice@gpu%20box.log")
    assert default.state["log"].endswith("/alice.log")
    assert (await fetch(f"http://127.0.0.1:{named.state['port']}"))["cwd"] == str(harness.tmp / "homes" / "alice")
    log = Path(default.state["log"])
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


async def test_relative_folders_are_a_hub_bug_not_a_person_problem(harness: Harness) -> None:
    spawner = harness.spawner(harness.config(local={"homes_dir": "homes"}))

    with pytest.raises(SpawnError, match="homes_dir = 'homes' is relative"):
        await spawner.start()


def test_os_accounts_setting() -> None:
    assert uses_os_accounts("auto", 0) and uses_os_accounts("always", 0)
    assert not uses_os_accounts("auto", 1000) and not uses_os_accounts("never", 0)
    with pytest.raises(SpawnError, match="'always' needs the hub to run as root"):
        uses_os_accounts("always", 1000)
