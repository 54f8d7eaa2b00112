"""The identity cache: one hub lookup per token per five minutes, shared by concurrent requests."""

from __future__ import annotations

import asyncio

import pytest

from commonroom.singleuser.tokencache import DEFAULT_TTL, TokenCache


class Hub:
    def __init__(self, answers: dict[str, str | None]) -> None:
        self.answers = answers
        self.asked: list[str] = []
        self.fail = False

    async def lookup(self, token: str) -> str | None:
        self.asked.append(token)
        await asyncio.sleep(0.01)
        if self.fail:
            raise ConnectionError("hub down")
        return self.answers.get(token)


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_concurrent_requests_share_one_lookup() -> None:
    hub = Hub({"t": "alice"})
    cache = TokenCache(hub.lookup)
    assert await asyncio.gather(*(cache.get("t") for _ in range(20))) == ["alice"] * 20
    assert await cache.get("t") == "alice"
    assert hub.asked == ["t"]


async def test_answers_expire() -> None:
    hub, clock = Hub({"t": "alice"}), Clock()
    cache = TokenCache(hub.lookup, clock=clock)
    await cache.get("t")
    clock.now += DEFAULT_TTL
    await cache.get("t")
    assert hub.asked == ["t", "t"]


async def test_rejections_and_failures_are_not_kept() -> None:
    hub = Hub({})
    cache = TokenCache(hub.lookup)
    assert await cache.get("unknown") is None
    assert await cache.get("unknown") is None
    hub.fail = True
    with pytest.raises(ConnectionError):
        await cache.get("t")
    hub.fail, hub.answers["t"] = False, "alice"
    assert await cache.get("t") == "alice"
    assert hub.asked == ["unknown", "unknown", "t", "t"]


async def test_forget() -> None:
    hub = Hub({"t": "alice"})
    cache = TokenCache(hub.lookup)
    await cache.get("t")
    cache.forget("t")
    await cache.get("t")
    assert hub.asked == ["t", "t"]


async def test_answers_not_to_keep_serve_one_burst_then_are_asked_again() -> None:
    """Someone a server is shared with is checked on each request, so a revoked share ends access at once."""
    hub = Hub({"owner": "alice", "guest": "bob"})
    cache = TokenCache(hub.lookup, keep=lambda name: name == "alice")
    assert await asyncio.gather(*(cache.get("guest") for _ in range(5))) == ["bob"] * 5
    await cache.get("guest")
    await cache.get("owner")
    await cache.get("owner")
    assert hub.asked == ["guest", "guest", "owner"]
