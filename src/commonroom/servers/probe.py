"""The readiness probe: a server is up once GET {prefix}api answers with any status below 500."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx


FIRST_DELAY = 0.02
MAX_DELAY = 0.1
"""A refused connection costs the hub next to nothing, while every moment between the server listening and the
next probe is added to the person's wait: a forked server answers ~0.4 s after it starts."""


class ProbeFailed(Exception):
    pass


async def wait_until_up(
    client: httpx.AsyncClient,
    url: str,
    timeout: float,
    still_alive: Callable[[], Awaitable[bool]],
) -> None:
    """Probe `url` with short back-off until it answers, the process dies, or `timeout` passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = FIRST_DELAY
    last_error = "no answer"
    while loop.time() < deadline:
        try:
            response = await client.get(url, timeout=max(0.5, min(5.0, deadline - loop.time())))
            if response.status_code < 500:
                return
            last_error = f"HTTP {response.status_code}"
        except httpx.TransportError as exc:
            last_error = type(exc).__name__
        if not await still_alive():
            raise ProbeFailed("the server process exited before it answered")
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, MAX_DELAY)
    raise ProbeFailed(f"the server did not answer within {timeout:g} s (last attempt: {last_error})")
