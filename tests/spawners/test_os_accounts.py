"""OS accounts: naming (pure), and as root real accounts made with useradd and servers that run as them."""

from __future__ import annotations

import asyncio
import os
import pwd
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest
from pydantic import ValidationError
from spawner_harness import TEST_PREFIX, Harness, fetch, needs_root

from commonroom.config.models import LocalSpawnerConfig
from commonroom.spawners.accounts import MAX_NAME_LENGTH, account_name, create_account, find_account
from commonroom.spawners.base import SpawnError


def test_short_names_are_prefix_plus_user() -> None:
    assert account_name("cr-", "alice.b_c-d") == "cr-alice.b_c-d"
    assert account_name("cr-", "a" * 29) == "cr-" + "a" * 29


def test_long_names_are_shortened_with_a_hash_and_stay_distinct() -> None:
    first, second = account_name("cr-", "a" * 31 + "x"), account_name("cr-", "a" * 31 + "y")

    assert len(first) == len(second) == MAX_NAME_LENGTH
    assert first != second and first.startswith("cr-aaaa")
    assert account_name("cr-", "a" * 31 + "x") == first


def test_a_name_that_no_account_may_have_is_refused() -> None:
    with pytest.raises(SpawnError, match="account_prefix"):
        account_name("", "1alice")


def test_the_prefix_is_checked_when_the_config_is_read() -> None:
    with pytest.raises(ValidationError, match="must start with a lowercase letter"):
        LocalSpawnerConfig(account_prefix="Cr-")
    assert LocalSpawnerConfig(account_prefix="").account_prefix == ""


@needs_root
async def test_an_account_is_made_once_with_no_password(harness: Harness) -> None:
    user = harness.new_person()
    name = account_name(TEST_PREFIX, user)
    assert await find_account(name, user) is None

    made = await create_account(name, user, harness.home_root)

    assert made.home == harness.home_root / name and made.shell == "/bin/bash"
    assert made.gid in made.groups and made.uid >= 1000
    assert await create_account(name, user, harness.home_root) == made
    status = await asyncio.to_thread(
        subprocess.run, ["passwd", "--status", name], capture_output=True, text=True, check=True
    )
    assert status.stdout.split()[1] == "L"


@needs_root
async def test_concurrent_first_spawns_do_not_race(harness: Harness) -> None:
    users = [harness.new_person() for _ in range(3)]
    names = [account_name(TEST_PREFIX, user) for user in users]

    made = await asyncio.gather(
        *(create_account(name, user, harness.home_root) for name, user in zip(names + names, users + users))
    )

    assert [a.uid for a in made[:3]] == [a.uid for a in made[3:]]
    assert len({a.uid for a in made}) == 3


@needs_root
async def test_an_account_made_for_someone_else_is_not_shared(harness: Harness) -> None:
    owner = harness.new_person()
    name = account_name(TEST_PREFIX, owner)
    await create_account(name, owner, harness.home_root)

    with pytest.raises(SpawnError, match=f"made for Commonroom user '{owner}', not for you"):
        await find_account(name, "mallory")


def _free_uids(count: int) -> range:
    """`count` consecutive uids no account has, from a window people's accounts rarely reach."""
    taken = {entry.pw_uid for entry in pwd.getpwall()}
    start = next(uid for uid in range(41000, 50000) if not taken & set(range(uid, uid + count)))
    return range(start, start + count)


@needs_root
async def test_new_accounts_get_uids_from_the_configured_range(harness: Harness) -> None:
    uids = _free_uids(2)
    user = harness.new_person()

    made = await create_account(account_name(TEST_PREFIX, user), user, harness.home_root, uids)

    assert made.uid in uids


@needs_root
async def test_a_full_uid_range_is_explained(harness: Harness) -> None:
    first = harness.new_person()
    made = await create_account(account_name(TEST_PREFIX, first), first, harness.home_root, _free_uids(1))
    full = range(made.uid, made.uid + 1)
    second = harness.new_person()

    with pytest.raises(SpawnError, match=f"every uid Commonroom may give people \\(uids {made.uid}-{made.uid}\\) is taken"):
        await create_account(account_name(TEST_PREFIX, second), second, harness.home_root, full)
    assert await find_account(account_name(TEST_PREFIX, second), second) is None


@needs_root
async def test_an_existing_account_outside_the_range_is_not_used(harness: Harness) -> None:
    user = harness.new_person()
    name = account_name(TEST_PREFIX, user)
    made = await create_account(name, user, harness.home_root, _free_uids(1))
    elsewhere = _free_uids(1)

    with pytest.raises(SpawnError, match=f"already exists with uid {made.uid}, outside the range"):
        await find_account(name, user, elsewhere)


def test_the_uid_range_is_checked_when_the_config_is_read() -> None:
    assert LocalSpawnerConfig(uid_min=20000, uid_max=20009).uids == range(20000, 20010)
    with pytest.raises(ValidationError, match="uid_min \\(3000\\) must not be above uid_max \\(2000\\)"):
        LocalSpawnerConfig(uid_min=3000, uid_max=2000)
    with pytest.raises(ValidationError, match="greater than or equal to 1000"):
        LocalSpawnerConfig(uid_min=0)


@needs_root
async def test_system_accounts_are_never_used() -> None:
    with pytest.raises(SpawnError, match="'daemon' is a system account"):
        await find_account("daemon", "daemon")


@needs_root
async def test_a_useradd_failure_is_explained(harness: Harness) -> None:
    with pytest.raises(SpawnError, match="useradd exited with status 3 and said: .*invalid user name"):
        await create_account("bad name", "bad", harness.home_root)


@needs_root
async def test_the_server_runs_as_the_person_and_cannot_read_the_hub(harness: Harness) -> None:
    hub_data = Path(tempfile.mkdtemp(dir=harness.home_root))
    assert stat.S_IMODE(hub_data.stat().st_mode) == 0o700
    welcome = harness.tmp / "welcome"
    welcome.mkdir()
    (welcome / "Welcome.ipynb").write_text("{}")
    user = harness.new_person()
    config = harness.config(
        welcome_dir=welcome, environment={"PROBE_DIR": str(hub_data)}, local={"os_accounts": "always"}
    )
    spawner = harness.spawner(config, user=user)
    events: list[str] = []

    async def follow() -> None:
        events.extend([event.message async for event in spawner.progress()])

    follower = asyncio.create_task(follow())
    url = await spawner.start()
    await follower
    report = await fetch(url)

    account = pwd.getpwnam(account_name(TEST_PREFIX, user))
    home = Path(account.pw_dir)
    assert events[0] == "Creating your account"
    assert (report["uid"], report["gid"]) == (account.pw_uid, account.pw_gid)
    assert report["groups"] == sorted(os.getgrouplist(account.pw_name, account.pw_gid))
    assert report["env"]["USER"] == account.pw_name and report["env"]["HOME"] == str(home) == report["cwd"]
    assert report["probe"] == "PermissionError"
    info = home.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (account.pw_uid, account.pw_gid, 0o700)
    assert (home / "Welcome.ipynb").stat().st_uid == account.pw_uid
    log = Path(spawner.state["log"]).stat()
    assert (log.st_uid, stat.S_IMODE(log.st_mode)) == (0, 0o600)
    assert spawner.state["account"] == account.pw_name

    await spawner.stop()
    await spawner.start()
    assert "Creating your account" not in [event.message async for event in spawner.progress()]
