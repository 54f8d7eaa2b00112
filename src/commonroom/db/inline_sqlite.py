"""SQLite under the async engine without a thread per connection.

aiosqlite gives each connection a thread and sends it every call: queue the call, wake the thread, hand the
result back with call_soon_threadsafe, wait for the event loop to come round. The hub's statements are
indexed lookups SQLite answers in tens of microseconds, so those round trips (several per statement) were
most of a small request's time, and a transaction stayed open across many event-loop turns while other
requests ran. Here the same sqlite3 calls run on the event loop's thread, inside SQLAlchemy's greenlet, as
its synchronous driver would: no hop, and a transaction's statements run back to back.

The price is that a statement that waits holds up the loop. In WAL mode readers never wait, and the hub's
own writers queue on an asyncio lock before they touch SQLite (db/writers.py), so only another process's
write (the command line's, a few milliseconds) can make one wait, for at most busy_timeout.

The adapter is SQLAlchemy's own for aiosqlite, given an object with aiosqlite's interface whose coroutines
finish without suspending; no SQL dialect code is ours.
"""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.util import await_only


class _Cursor:
    """An sqlite3 cursor behind aiosqlite's awaitable cursor interface."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> _Cursor:
        return self

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, operation: str, parameters: Any = ()) -> _Cursor:
        self._cursor.execute(operation, parameters)
        return self

    async def executemany(self, operation: str, seq_of_parameters: Any) -> _Cursor:
        self._cursor.executemany(operation, seq_of_parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _Connection:
    """An sqlite3 connection behind aiosqlite's awaitable connection interface."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection: sqlite3.Connection | None = connection
        """Named as aiosqlite names it: SQLAlchemy's adapter reads it to tell a closed connection."""

    @property
    def _live(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    @property
    def isolation_level(self) -> str | None:
        return self._live.isolation_level

    def cursor(self) -> _Cursor:
        return _Cursor(self._live.cursor())

    async def commit(self) -> None:
        self._live.commit()

    async def rollback(self) -> None:
        self._live.rollback()

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._live.create_function(*args, **kw)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


async def _connect(*args: Any, **kw: Any) -> _Connection:
    return _Connection(sqlite3.connect(*args, **kw))


class _AdaptedConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    @property
    def isolation_level(self) -> str | None:
        return self._connection.isolation_level  # type: ignore[no-any-return]

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._connection._live.isolation_level = value


class InlineSQLite(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module the aiosqlite dialect is given (create_async_engine's `module`)."""

    def __init__(self) -> None:
        shim = SimpleNamespace(
            connect=_connect, Connection=_Connection, __version__=sqlite3.sqlite_version,
            **{name: getattr(sqlite3, name) for name in (
                "DatabaseError", "Error", "IntegrityError", "NotSupportedError", "OperationalError",
                "ProgrammingError", "sqlite_version", "sqlite_version_info",
            )},
        )  # fmt: skip
        super().__init__(shim, sqlite3)  # type: ignore[arg-type]

    def connect(self, *args: Any, **kw: Any) -> _AdaptedConnection:
        kw.pop("async_creator_fn", None)
        return _AdaptedConnection(self, await_only(_connect(*args, **kw)))  # type: ignore[arg-type]
