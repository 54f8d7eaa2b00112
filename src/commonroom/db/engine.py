"""The async engine and session factory, and bringing the schema up to date at start.

SQLite runs in WAL mode so readers never wait for the writer, and the hub's writers take turns (db/writers.py);
PostgreSQL is used through asyncpg by giving a postgresql+asyncpg:// URL. Migrations run through Alembic on a sync connection borrowed from the async engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from commonroom.db.writers import queue_writers

MIGRATIONS = Path(__file__).parent / "migrations"


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{(data_dir / 'commonroom.sqlite').resolve()}"


def make_engine(url: str) -> AsyncEngine:
    engine = create_async_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    if url.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        queue_writers(engine)
        _skip_idle_rollbacks(engine)
    return engine


def _skip_idle_rollbacks(engine: AsyncEngine) -> None:
    """Roll back only a connection that has a transaction open.

    A read-only request never opens one (Python's sqlite3 begins at the first write), yet its session's end
    and the pool's check-in each roll back, and through aiosqlite each is a round trip to the connection's
    thread: two of a small request's few hops for nothing. sqlite3's own rollback does nothing without a
    transaction, so skipping it then changes nothing but the hop.
    """
    dialect = engine.sync_engine.dialect
    rollback = dialect.do_rollback

    def do_rollback(dbapi_connection: Any) -> None:
        if dbapi_connection.driver_connection.in_transaction:
            rollback(dbapi_connection)

    setattr(dialect, "do_rollback", do_rollback)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _upgrade(connection: Connection) -> None:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision (creating it on a new database)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)
