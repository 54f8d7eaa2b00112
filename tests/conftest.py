"""Fixtures every test may use: free loopback ports, a PostgreSQL server (one per test worker), and guards
that fail a test which leaks a process or an environment variable."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support import postgres as pg
from tests.support.hubprocess import FIXTURE_PROCESSES
from tests.support.ports import free_port

__all__ = ["free_port"]


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg.Postgres]:
    assert pg.available(), "PostgreSQL is not installed: `scripts/setup --test` installs Debian's postgresql"
    server = pg.Postgres()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Runs a module's hub on both databases: "" is the SQLite default, the other a new PostgreSQL database."""
    if request.param == "sqlite":
        return ""
    return str(request.getfixturevalue("postgres").new_database(tmp_path_factory.mktemp("db").name))


def _children() -> set[int]:
    me = os.getpid()
    found: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me and fields[0] != "Z":
            found.add(int(entry))
    return found


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    """Fail a test that leaves a child process running or changes os.environ."""
    env_before = dict(os.environ)
    children_before = _children()
    yield
    leaked = _children() - children_before - FIXTURE_PROCESSES
    changed = {
        k for k in set(env_before) | set(os.environ) if env_before.get(k) != os.environ.get(k) and k != "PYTEST_CURRENT_TEST"
    }
    assert not changed, f"test changed environment variables: {sorted(changed)}"
    assert not leaked, f"test left child processes running: {sorted(leaked)}"
