"""b. Spawn latency (start request → ready) for one server and for several at once, and stop latency, all
through the REST API with the admin token."""

from __future__ import annotations

import asyncio
import statistics
import time

from bench.context import Run
from bench.figures import Figure, RowSpec, missing, ms
from bench.hubs import Hub
from bench.servers import start_server, stop_server

SOLO = "spawn-solo"


def rows(run: Run) -> list[RowSpec]:
    n = run.size.spawn_at_once
    return [
        RowSpec("spawn.one", "start 1 server: request → ready (median)", "s"),
        RowSpec("stop.one", "stop 1 server: request → stopped (median)", "ms"),
        RowSpec("spawn.many", f"start {n} servers at once: until the last is ready", "s"),
        RowSpec("spawn.many.p50", f"start {n} servers at once: p50 per server", "s"),
        RowSpec("stop.many", f"stop {n} servers at once: until the last is stopped", "ms"),
    ]


def users(run: Run) -> list[str]:
    return [SOLO, *(f"spawn-{i:02d}" for i in range(run.size.spawn_at_once))]


def measure(run: Run, hub: Hub) -> dict[str, Figure]:
    return asyncio.run(_measure(run, hub))


async def _measure(run: Run, hub: Hub) -> dict[str, Figure]:
    async with hub.async_api() as api:
        starts, stops = [], []
        for _ in range(run.size.spawn_cycles):
            starts.append(await start_server(api, SOLO))
            stops.append(await stop_server(api, SOLO))
        group = users(run)[1:]
        began = time.monotonic()
        each = await asyncio.gather(*(start_server(api, name) for name in group), return_exceptions=True)
        all_started = time.monotonic() - began
        began = time.monotonic()
        stopped = await asyncio.gather(*(stop_server(api, name) for name in group), return_exceptions=True)
        all_stopped = time.monotonic() - began
    figures = {"spawn.one": Figure(statistics.median(starts)), "stop.one": Figure(ms(statistics.median(stops)))}
    started_ok = [seconds for seconds in each if isinstance(seconds, float)]
    if len(started_ok) == len(group):
        figures.update({"spawn.many": Figure(all_started), "spawn.many.p50": Figure(statistics.median(started_ok))})
    else:
        figures.update(dict.fromkeys(("spawn.many", "spawn.many.p50"), _failed(each, len(group), "started")))
    if len(started_ok) < len(group):
        figures["stop.many"] = missing("not every server had started, so the stop is not comparable")
    elif all(isinstance(seconds, float) for seconds in stopped):
        figures["stop.many"] = Figure(ms(all_stopped))
    else:
        figures["stop.many"] = _failed(stopped, len(group), "stopped")
    return figures


def _failed(results: list[float | BaseException], total: int, what: str) -> Figure:
    errors = [r for r in results if isinstance(r, BaseException)]
    return missing(f"{len(errors)} of {total} not {what}: {type(errors[0]).__name__}: {str(errors[0])[:100]}")
