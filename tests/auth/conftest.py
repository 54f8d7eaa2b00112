"""A fresh, migrated in-memory database for the authentication tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from commonroom.db.engine import make_engine, migrate, session_factory


@pytest.fixture
async def db() -> AsyncIterator[AsyncSession]:
    engine = make_engine("sqlite+aiosqlite:///:memory:")
    await migrate(engine)
    async with session_factory(engine)() as session:
        yield session
    await engine.dispose()
