"""The migrations build exactly the schema the models declare, and 0003 goes down and up keeping data."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text

from commonroom.db.engine import MIGRATIONS
from commonroom.db.models import Base


def _alembic(connection: object) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def _engine(tmp_path: Path) -> Engine:
    return create_engine(f"sqlite:///{tmp_path / 'hub.sqlite'}")


def test_head_matches_the_models(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with engine.begin() as connection:
        command.upgrade(_alembic(connection), "head")
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_0003_down_and_up_again(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with engine.begin() as connection:
        cfg = _alembic(connection)
        command.upgrade(cfg, "0003")
        connection.execute(text("INSERT INTO users (name, admin, approved, created, user_info) "
                                "VALUES ('ann', 0, 1, '2026-01-01', '{}')"))  # fmt: skip
        connection.execute(text("INSERT INTO api_tokens (user_id, prefix, hashed, scopes, note, created) "
                                "VALUES (1, 'abcd', 'h', '[]', 'kept', '2026-01-01')"))  # fmt: skip
        command.downgrade(cfg, "0002")
        assert not {"groups", "roles", "services", "shares"} & set(inspect(connection).get_table_names())
        command.upgrade(cfg, "head")
        assert connection.execute(text("SELECT note, service_id FROM api_tokens")).all() == [("kept", None)]
    engine.dispose()
