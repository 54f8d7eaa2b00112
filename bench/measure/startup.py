"""a. Cold start to API ready, and f. the hub's and its proxy's memory once started: a fresh hub process (and
proxy) is launched and timed until GET /hub/api/ answers 200 through the proxy. Starts alternate between hubs."""

from __future__ import annotations

import statistics
import time

from bench.figures import Figure, RowSpec, missing
from bench.hubs import Hub
from bench.processes import rss_mib

SETTLE_SECONDS = 1.0
"""Memory is read this long after the start, once start-up work has finished."""


def rows(population: str, users: str, repeats: int) -> list[RowSpec]:
    return [
        RowSpec(f"start.{population}", f"cold start to API ready, {users} users (median of {repeats})", "s"),
        RowSpec(f"rss.hub.{population}", f"hub RSS after start, {users} users", "MiB"),
        RowSpec(f"rss.proxy.{population}", f"proxy RSS after start, {users} users", "MiB"),
    ]


def cold_starts(hubs: list[Hub], population: str, repeats: int) -> dict[str, dict[str, Figure]]:
    """Start each hub `repeats` times (alternating which goes first) and leave them running after the last."""
    times: dict[str, list[float]] = {hub.name: [] for hub in hubs}
    for attempt in range(repeats):
        order = hubs if attempt % 2 == 0 else hubs[::-1]
        for hub in order:
            times[hub.name].append(hub.start())
            if attempt < repeats - 1:
                hub.stop()
    time.sleep(SETTLE_SECONDS)
    return {hub.name: {f"start.{population}": Figure(statistics.median(times[hub.name])), **_memory(hub, population)} for hub in hubs}


def _memory(hub: Hub, population: str) -> dict[str, Figure]:
    proxy = hub.proxy_pid()
    return {
        f"rss.hub.{population}": Figure(rss_mib(hub.hub_pid())),
        f"rss.proxy.{population}": Figure(rss_mib(proxy)) if proxy else missing("proxy process not found"),
    }
