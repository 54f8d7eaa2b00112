"""The hub's SQLite engine runs statements on the event loop's thread (no thread per connection), and still
behaves as a database should: isolation between sessions, rollback of what was not committed, SQLite's errors
as SQLAlchemy's. The database is a real SQLite file."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from commonroom.db.engine import make_engine, session_factory


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (a INTEGER PRIMARY KEY)"))
    yield engine
    await engine.dispose()


async def test_statements_run_on_the_event_loops_thread(engine: AsyncEngine) -> None:
    threads_before = threading.active_count()
    seen: list[int] = []
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert raw.driver_connection is not None
        raw.driver_connection._live.create_function("whose", 0, lambda: seen.append(threading.get_ident()) or 1)
        assert (await connection.execute(text("SELECT whose()"))).scalar() == 1
    assert seen == [threading.get_ident()]
    assert threading.active_count() == threads_before


async def test_sessions_are_isolated_and_an_uncommitted_write_is_rolled_back(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with sessions() as writer, sessions() as reader:
        await writer.execute(text("INSERT INTO t VALUES (1)"))
        assert (await reader.execute(text("SELECT count(*) FROM t"))).scalar() == 0
    async with sessions() as db:
        assert (await db.execute(text("SELECT count(*) FROM t"))).scalar() == 0
        await db.execute(text("INSERT INTO t VALUES (2)"))
        await db.commit()
    async with sessions() as db:
        assert (await db.execute(text("SELECT a FROM t"))).scalars().all() == [2]


async def test_sqlite_errors_arrive_as_sqlalchemy_errors(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as db:
        await db.execute(text("INSERT INTO t VALUES (3)"))
        with pytest.raises(IntegrityError, match="UNIQUE constraint failed"):
            await db.execute(text("INSERT INTO t VALUES (3)"))
