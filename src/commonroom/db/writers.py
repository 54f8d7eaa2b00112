"""One SQLite write transaction at a time inside the hub, in the order they asked.

SQLite lets one connection write at a time; the others poll for the lock (busy_timeout) and give up with
"database is locked" after it. A hub transaction spans several event-loop turns (each statement is a hop to
its connection's thread), so under load — a class of 50 signing in at once — a waiting writer could keep
losing the lock to newcomers until its timeout ran out. Here writers queue on one asyncio lock instead:
first come, first served, no polling. Reads never wait (WAL), and the lock is taken only at a
transaction's first write, so nothing holds it while a password is hashed or a reply is awaited. Other
processes (the command line) still meet busy_timeout, which stays as the fallback — also for a writer that
waited QUEUE_SECONDS in the queue, so a transaction that never ends cannot stall every other writer for good.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import await_only

# The statements before which Python's sqlite3 module opens a transaction (its "DML" test).
WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_HOLDS = "commonroom_holds_writer_lock"
QUEUE_SECONDS = 60.0


class WriterQueue:
    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.owner: asyncio.Task[Any] | None = None

    def before_execute(self, conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if conn.info.get(_HOLDS) or not WRITE.match(statement):
            return
        task = asyncio.current_task()
        if task is not None and task is self.owner:
            # The same task writing through a second connection while its first holds the lock would wait
            # for itself forever; leave that case to SQLite's busy_timeout as before.
            return
        try:
            await_only(asyncio.wait_for(self.lock.acquire(), QUEUE_SECONDS))
        except TimeoutError:
            return
        self.owner = task
        conn.info[_HOLDS] = True

    def release(self, info: dict[Any, Any]) -> None:
        if info.pop(_HOLDS, False):
            self.owner = None
            self.lock.release()

    def on_end(self, conn: Connection) -> None:
        self.release(conn.info)

    def on_pool_entry(self, _dbapi_connection: Any, record: ConnectionPoolEntry, *_: Any) -> None:
        self.release(record.info)

    def on_reset(self, dbapi_connection: Any, record: ConnectionPoolEntry, _reset_state: Any) -> None:
        """The pool's reset event, with the three-argument signature SQLAlchemy 2 expects."""
        self.release(record.info)


def queue_writers(engine: AsyncEngine) -> WriterQueue:
    """Make the engine's write transactions take turns (SQLite only; PostgreSQL has row locks)."""
    queue = WriterQueue()
    sync_engine = engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", queue.before_execute)
    # Released as the transaction ends: the COMMIT that follows immediately may overlap the next writer's first
    # statement by a moment, which busy_timeout absorbs.
    event.listen(sync_engine, "commit", queue.on_end)
    event.listen(sync_engine, "rollback", queue.on_end)
    # A connection returned, reset or dropped without a Connection-level end (an error) must not keep the lock.
    event.listen(sync_engine.pool, "reset", queue.on_reset)
    for name in ("checkin", "invalidate", "close"):
        event.listen(sync_engine.pool, name, queue.on_pool_entry)
    return queue
