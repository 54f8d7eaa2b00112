"""The async engine and session factory, and bringing the schema up to date at start.

SQLite runs in WAL mode so readers never wait for the writer, on the event loop's thread (db/inline_sqlite.py),
and the hub's writers take turns (db/writers.py);
PostgreSQL is used through asyncpg by giving a postgresql+asyncpg:// URL. Migrations run through Alembic on a sync connection borrowed from the async engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from commonroom.db.inline_sqlite import InlineSQLite
from commonroom.db.writers import queue_writers

MIGRATIONS = Path(__file__).parent / "migrations"


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{(data_dir / 'commonroom.sqlite').resolve()}"


def make_engine(url: str) -> AsyncEngine:
    if not url.startswith("sqlite"):
        return create_async_engine(url, pool_pre_ping=True)
    engine = create_async_engine(url, module=InlineSQLite())
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    queue_writers(engine)
    return engine


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


class DatabaseUnavailable(Exception):
    """The database cannot be opened; the message names it (without its password), the reason, and what to check."""


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision (creating it on a new database)."""
    try:
        connection = await engine.connect()
    except (OSError, SQLAlchemyError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        where = engine.url.render_as_string(hide_password=True)
        raise DatabaseUnavailable(
            f"cannot open the database {where}: {reason}. Check [hub] database_url, that the database server is "
            "running and reachable from here, and that its user may connect and create tables."
        ) from None
    try:
        async with connection.begin():
            await connection.run_sync(_upgrade)
    finally:
        await connection.close()
