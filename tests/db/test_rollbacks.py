"""A session that only read ends without a rollback round trip; one that wrote and did not commit is rolled back.

The round trips are counted at aiosqlite's Connection.rollback (the hop to the connection's thread); the
database is a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from commonroom.db.engine import make_engine, session_factory


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (a INTEGER)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def rollbacks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    plain = aiosqlite.Connection.rollback

    async def counted(self: aiosqlite.Connection) -> Any:
        calls.append(1)
        return await plain(self)

    monkeypatch.setattr(aiosqlite.Connection, "rollback", counted)
    return calls


async def test_a_read_only_session_ends_without_a_rollback(engine: AsyncEngine, rollbacks: list[int]) -> None:
    async with session_factory(engine)() as db:
        assert (await db.execute(text("SELECT count(*) FROM t"))).scalar() == 0
    assert rollbacks == []


async def test_an_uncommitted_write_is_still_rolled_back(engine: AsyncEngine, rollbacks: list[int]) -> None:
    sessions = session_factory(engine)
    async with sessions() as db:
        await db.execute(text("INSERT INTO t VALUES (1)"))
    assert rollbacks, "the open write transaction was not rolled back"
    async with sessions() as db:
        assert (await db.execute(text("SELECT count(*) FROM t"))).scalar() == 0
