"""The hub's cache of verified tokens: a hit costs no query, and any committed change but activity times (a
revoked token, a lost admin flag) is seen on the next check. A real SQLite file through the hub's engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import delete, event, update
from sqlalchemy.ext.asyncio import AsyncEngine

from commonroom.auth import tokens
from commonroom.db.changes import count_changes
from commonroom.db.engine import make_engine, migrate, session_factory
from commonroom.db.models import APIToken, User
from commonroom.web.identity import from_token
from commonroom.web.token_cache import TokenCache


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}")
    await migrate(engine)
    yield engine
    await engine.dispose()


async def test_a_cached_token_costs_no_query_until_something_changes(engine: AsyncEngine) -> None:
    cache = TokenCache(count_changes(engine))
    sessions = session_factory(engine)
    async with sessions() as db:
        ada = User(name="ada", admin=True, approved=True)
        db.add(ada)
        await db.flush()
        _, secret = await tokens.issue(db, ada)
        await db.commit()
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    async def check() -> bool | None:
        async with sessions() as db:
            caller = await from_token(db, secret, cache)
            return None if caller is None else caller.admin

    assert await check() is True
    first = len(statements)
    assert first > 0
    assert await check() is True
    assert len(statements) == first, "the second check went to the database"
    async with sessions() as db:  # activity alone keeps the entry
        await db.execute(update(User).where(User.name == "ada").values(last_activity=None))
        await db.commit()
    assert await check() is True
    async with sessions() as db:
        await db.execute(update(User).where(User.name == "ada").values(admin=False))
        await db.commit()
    assert await check() is False, "a lost admin flag was not seen"
    async with sessions() as db:
        await db.execute(delete(APIToken))
        await db.commit()
    assert await check() is None, "a revoked token was still accepted"
