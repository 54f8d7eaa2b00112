"""A counter that moves after every commit that changed something other than activity times.

Caches of what the database says (the verified-token cache, web/token_cache.py) remember the counter's value
when they read and trust an entry only while it has not moved. The counter moves after the COMMIT returns, so
a reader that starts after the change sees it in the database, and one that read before it sees the counter
move. Statements that only record activity (`UPDATE t SET last_activity=...`, sent all day by every running
server) do not move it: that would empty the caches for nothing.

Only this process's writes are seen; another process's (the command line's) reach the caches when their
entries expire.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from commonroom.db.writers import WRITE

_ACTIVITY_ONLY = re.compile(r"\s*UPDATE \w+ SET last_activity=(?:(?!, \w+=).)*(?: WHERE .*)?$", re.DOTALL)


class ChangeCounter:
    def __init__(self) -> None:
        self.value = 0
        self._writing: set[int] = set()
        """ids of the pooled connections (what do_commit is given) whose open transaction changed something."""

    def before_execute(self, conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if WRITE.match(statement) and not _ACTIVITY_ONLY.match(statement):
            self._writing.add(id(conn.connection))

    def committed(self, dbapi_connection: Any) -> None:
        if id(dbapi_connection) in self._writing:
            self._writing.discard(id(dbapi_connection))
            self.value += 1

    def rolled_back(self, dbapi_connection: Any) -> None:
        self._writing.discard(id(dbapi_connection))


def count_changes(engine: AsyncEngine) -> ChangeCounter:
    """Attach a counter to the engine: every dialect commits and rolls back through do_commit/do_rollback."""
    counter = ChangeCounter()
    event.listen(engine.sync_engine, "before_cursor_execute", counter.before_execute)
    dialect = engine.sync_engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection: Any) -> None:
        try:
            commit(dbapi_connection)
        finally:
            counter.committed(dbapi_connection)

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            counter.rolled_back(dbapi_connection)

    setattr(dialect, "do_commit", do_commit)
    setattr(dialect, "do_rollback", do_rollback)
    return counter
