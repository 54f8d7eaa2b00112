"""Verified API tokens, remembered for a few seconds so a busy client costs no query per request.

Checking a token took three queries (the token with its owner, the owner's scopes, group members for
!group= filters) and most of a small request's time. A script polling the API, a service such as the idle
culler and every running server (activity, whoami) present the same token again and again.

An entry is trusted only while nothing has been committed since it was read (db/changes.py: any write
but activity times moves the counter), so a revoked token, a removed role or a deleted user takes effect on
the next request. Entries also expire after TTL_SECONDS, which bounds how long a change made by another
process (the command line) or an activity time shown for the caller itself can lag. The cached objects are
detached from any session: handlers read them but load what they change from their own session.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from commonroom.db.changes import ChangeCounter
from commonroom.timeutil import utcnow

if TYPE_CHECKING:
    from commonroom.web.identity import Caller

TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000


@dataclass
class _Entry:
    caller: Caller
    counter: int
    stored: float


class TokenCache:
    def __init__(self, counter: ChangeCounter) -> None:
        self.counter = counter
        self._entries: dict[str, _Entry] = {}

    def get(self, key: str) -> Caller | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        token = entry.caller.token
        expired = token is not None and token.expires_at is not None and token.expires_at <= utcnow()
        if entry.counter != self.counter.value or time.monotonic() - entry.stored > TTL_SECONDS or expired:
            del self._entries[key]
            return None
        return entry.caller

    def put(self, key: str, caller: Caller, counter_before: int) -> None:
        """Remember `caller`, read when the counter was `counter_before` (unless it has moved since)."""
        if counter_before != self.counter.value:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = _Entry(caller, counter_before, time.monotonic())

