"""Answers about tokens, kept for a few minutes so the hub is asked once per token, not once per request.

JupyterLab opens with a burst of twenty-odd requests carrying the same cookie; they share one lookup while it
is in flight, and its answer for the next five minutes. Entries are keyed by the token's SHA-256, so the
tokens themselves are not kept in memory longer than a request needs them. Only found identities are
kept: a token the hub rejects, or a lookup that failed, is asked about again next time.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

DEFAULT_TTL = 300.0
MAX_ENTRIES = 10_000


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _Entry(Generic[T]):
    answer: asyncio.Future[T | None]
    expires_at: float


class TokenCache(Generic[T]):
    """lookup(token) results by token digest, for `ttl` seconds."""

    def __init__(
        self,
        lookup: Callable[[str], Awaitable[T | None]],
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
        keep: Callable[[T], bool] = lambda _answer: True,
    ) -> None:
        """keep(answer) False: the answer serves the requests already waiting for it, and is then asked for
        again (someone a server was shared with: a revoked share must end their access at once)."""
        self._lookup = lookup
        self._keep = keep
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, _Entry[T]] = {}

    async def get(self, token: str) -> T | None:
        """The cached answer for token, asking lookup when there is none; lookup's exceptions pass through."""
        key = token_digest(token)
        entry = self._entries.get(key)
        if entry is None or entry.expires_at <= self._clock():
            entry = _Entry(asyncio.ensure_future(self._lookup(token)), self._clock() + self._ttl)
            self._make_room()
            self._entries[key] = entry
        try:
            answer = await asyncio.shield(entry.answer)
        except Exception:
            self._drop(key, entry)
            raise
        if answer is None or not self._keep(answer):
            self._drop(key, entry)
        return answer

    def forget(self, token: str) -> None:
        """Ask the hub again next time, e.g. after the token was used to sign out."""
        self._entries.pop(token_digest(token), None)

    def _drop(self, key: str, entry: _Entry[T]) -> None:
        if self._entries.get(key) is entry:
            del self._entries[key]

    def _make_room(self) -> None:
        if len(self._entries) < MAX_ENTRIES:
            return
        now = self._clock()
        for key in [k for k, e in self._entries.items() if e.expires_at <= now]:
            del self._entries[key]
        while len(self._entries) >= MAX_ENTRIES:
            del self._entries[next(iter(self._entries))]
