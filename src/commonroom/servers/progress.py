"""Spawn progress as a replayable log: late subscribers (a progress page opened mid-spawn, an API client)
see every event from the start, then follow new ones until the spawn ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

Event = dict[str, Any]


class ProgressLog:
    def __init__(self) -> None:
        self.events: list[Event] = [{"progress": 0, "message": "Server requested"}]
        self.finished = False
        self._changed = asyncio.Event()

    def add(self, message: str, progress: int | None = None) -> None:
        event: Event = {"message": message}
        if progress is not None:
            event["progress"] = progress
        self._append(event)

    def ready(self, url: str) -> None:
        self._append(
            {
                "progress": 100,
                "ready": True,
                "message": f"Server ready at {url}",
                "html_message": f'Server ready at <a href="{url}">{url}</a>',
                "url": url,
            },
            final=True,
        )

    def failed(self, reason: str | None) -> None:
        """The spawn ended without a server: `reason` says why, None when it was cancelled."""
        message = f"Spawn failed: {reason}" if reason else "Spawn cancelled"
        self._append({"progress": 100, "failed": True, "message": message}, final=True)

    def _append(self, event: Event, final: bool = False) -> None:
        if self.finished:
            return
        self.events.append(event)
        self.finished = final
        self._changed.set()
        self._changed = asyncio.Event()

    async def follow(self, keepalive: float | None = None) -> AsyncIterator[Event | None]:
        """Every event so far, then new ones until the spawn ends; None after `keepalive` seconds of quiet."""
        index = 0
        while True:
            while index < len(self.events):
                yield self.events[index]
                index += 1
            if self.finished:
                return
            try:
                await asyncio.wait_for(self._changed.wait(), keepalive)
            except TimeoutError:
                yield None
