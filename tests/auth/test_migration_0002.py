"""Migration 0002 (auth state, TOTP secret, recovery codes) goes down to 0001 and up again, keeping users."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, inspect, text

from commonroom.db.engine import MIGRATIONS


def test_down_and_up_again(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'hub.sqlite'}")
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0002")
        connection.execute(text("INSERT INTO users (name, admin, approved, created, user_info, auth_state) "
                                "VALUES ('ann', 0, 1, '2026-01-01', '{}', 'sealed')"))  # fmt: skip
        command.downgrade(cfg, "0001")
        assert "recovery_codes" not in inspect(connection).get_table_names()
        assert "auth_state" not in {c["name"] for c in inspect(connection).get_columns("users")}
        command.upgrade(cfg, "0002")
        assert connection.execute(text("SELECT name, auth_state FROM users")).all() == [("ann", None)]
    engine.dispose()
