"""The hub's SQLite writers take turns instead of timing out, and nothing leaves the turn held.

A real SQLite file in WAL mode through the hub's own engine. Each writer below keeps its transaction open for a
while, as a request does across event-loop turns under load; together they hold the database far longer than
SQLite's busy_timeout (5 s), which is what made sign-ins fail with "database is locked".
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from commonroom.db.engine import make_engine, migrate, session_factory, sqlite_url
from commonroom.db.models import LoginFailure, User

WRITERS = 20
HOLD_SECONDS = 0.35  # x 20 writers = 7 s in all, beyond the 5 s busy_timeout


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(sqlite_url(tmp_path))
    await migrate(engine)
    yield engine
    await engine.dispose()


async def _slow_writer(sessions: async_sessionmaker[AsyncSession], key: str) -> None:
    async with sessions() as db:
        db.add(LoginFailure(key=key, count=1))
        await db.flush()  # the write lock is taken here...
        await asyncio.sleep(HOLD_SECONDS)  # ...and held across event-loop turns
        await db.commit()


async def _count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as db:
        return (await db.scalar(select(func.count()).select_from(LoginFailure))) or 0


async def test_many_writers_at_once_all_commit(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    await asyncio.gather(*(_slow_writer(sessions, f"user:w{i}") for i in range(WRITERS)))
    assert await _count(sessions) == WRITERS


async def test_reads_do_not_wait_for_a_writer(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    read_done = asyncio.Event()

    async def writer() -> None:
        async with sessions() as db:
            db.add(LoginFailure(key="user:holder", count=1))
            await db.flush()
            await asyncio.wait_for(read_done.wait(), 30)  # keeps the write turn until the read has finished
            await db.commit()

    async def reader() -> None:
        await asyncio.sleep(0.2)
        async with sessions() as db:
            await db.scalar(select(func.count()).select_from(User))
        read_done.set()

    await asyncio.gather(writer(), reader())
    assert await _count(sessions) == 1


async def test_failed_and_abandoned_writes_give_the_turn_back(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with sessions() as db:
        db.add(User(name="ann"))
        await db.commit()
    async with sessions() as db:  # fails, then rolled back
        db.add(User(name="ann"))
        with pytest.raises(IntegrityError):
            await db.flush()
        await db.rollback()
    async with sessions() as db:  # wrote, then closed without commit or rollback
        db.add(LoginFailure(key="user:gone", count=1))
        await db.flush()
    await asyncio.wait_for(_slow_writer(sessions, "user:next"), 30)
    assert await _count(sessions) == 1
