"""The change counter moves after a commit that wrote, and not for reads, rollbacks or activity times only;
a real SQLite file through the hub's engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from commonroom.db.changes import ChangeCounter, count_changes
from commonroom.db.engine import make_engine, session_factory


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, last_activity TEXT)"))
        await connection.execute(text("INSERT INTO t VALUES (1, 'a', NULL)"))
    yield engine
    await engine.dispose()


async def _run(engine: AsyncEngine, statement: str, commit: bool = True) -> None:
    async with session_factory(engine)() as db:
        await db.execute(text(statement))
        if commit:
            await db.commit()


async def test_writes_move_the_counter_after_their_commit(engine: AsyncEngine) -> None:
    counter: ChangeCounter = count_changes(engine)
    await _run(engine, "SELECT * FROM t")
    assert counter.value == 0
    await _run(engine, "UPDATE t SET name = 'b' WHERE id = 1", commit=False)  # rolled back
    assert counter.value == 0
    await _run(engine, "UPDATE t SET last_activity='x' WHERE t.id = 1")
    await _run(engine, "UPDATE t SET last_activity=CASE WHEN (t.last_activity IS NULL) THEN 'y' ELSE 'z' END")
    assert counter.value == 0
    await _run(engine, "UPDATE t SET last_activity='x', name='c' WHERE t.id = 1")
    assert counter.value == 1
    await _run(engine, "DELETE FROM t")
    assert counter.value == 2
