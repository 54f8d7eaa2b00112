"""The migrations build exactly the schema the models declare, and 0003 goes down and up keeping data, on
both databases the hub runs on: a SQLite file and a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from commonroom.db.engine import MIGRATIONS, make_engine
from commonroom.db.models import Base


def _alembic(connection: Connection) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}"
    return str(request.getfixturevalue("postgres").new_database(f"migrations_{tmp_path.name}".lower()))


async def _run(url: str, steps: Callable[[Connection], None]) -> None:
    """The steps on one connection of the hub's own engine, in one transaction, as the hub migrates at start."""
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(steps)
    finally:
        await engine.dispose()


async def test_head_matches_the_models(url: str) -> None:
    differences: list[object] = []

    def steps(connection: Connection) -> None:
        command.upgrade(_alembic(connection), "head")
        differences.extend(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    await _run(url, steps)
    assert differences == []


async def test_0003_down_and_up_again(url: str) -> None:
    def steps(connection: Connection) -> None:
        cfg = _alembic(connection)
        command.upgrade(cfg, "0003")
        connection.execute(text("INSERT INTO users (name, admin, approved, created, user_info) "
                                "VALUES ('ann', false, true, '2026-01-01', '{}')"))  # fmt: skip
        connection.execute(text("INSERT INTO api_tokens (user_id, prefix, hashed, scopes, note, created) "
                                "VALUES (1, 'abcd', 'h', '[]', 'kept', '2026-01-01')"))  # fmt: skip
        command.downgrade(cfg, "0002")
        assert not {"groups", "roles", "services", "shares"} & set(inspect(connection).get_table_names())
        command.upgrade(cfg, "head")
        assert connection.execute(text("SELECT note, service_id FROM api_tokens")).all() == [("kept", None)]

    await _run(url, steps)
