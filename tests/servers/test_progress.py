import asyncio

from commonroom.servers.progress import ProgressLog


async def test_late_follower_sees_everything_then_stops_at_ready() -> None:
    log = ProgressLog()
    log.add("Creating your account", 10)
    seen: list[dict[str, object] | None] = []

    async def follow() -> None:
        async for event in log.follow():
            seen.append(event)

    task = asyncio.create_task(follow())
    await asyncio.sleep(0)
    log.add("Starting", 50)
    log.ready("/user/alice/")
    await asyncio.wait_for(task, 2)
    messages = [e["message"] for e in seen if e]
    assert messages == ["Server requested", "Creating your account", "Starting", "Server ready at /user/alice/"]
    assert seen[-1] and seen[-1]["ready"] is True and seen[-1]["url"] == "/user/alice/"


async def test_nothing_after_the_end() -> None:
    log = ProgressLog()
    log.failed("no such command")
    log.add("late")
    events = [e async for e in log.follow()]
    assert events[-1] == {"progress": 100, "failed": True, "message": "Spawn failed: no such command"}


async def test_keepalive_yields_none_while_quiet() -> None:
    log = ProgressLog()
    follower = log.follow(keepalive=0.01).__aiter__()
    assert (await anext(follower))["message"] == "Server requested"  # type: ignore[index]
    assert await anext(follower) is None
    log.ready("/user/a/")
    assert (await anext(follower))["ready"] is True  # type: ignore[index]


async def test_cancel_is_reported_as_such() -> None:
    log = ProgressLog()
    log.failed(None)
    assert [e async for e in log.follow()][-1] == {"progress": 100, "failed": True, "message": "Spawn cancelled"}
