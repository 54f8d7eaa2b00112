"""f. Memory of one idle single-user server, and d. kernel websocket round trips ("1+1" execute_request →
execute_reply) through the hub's proxy, authenticated with the server owner's own API token."""

from __future__ import annotations

import asyncio
import time

import httpx

from bench import kernelws
from bench.context import Run
from bench.figures import Figure, RowSpec, missing, pct_ms
from bench.hubs import Hub
from bench.processes import pss_mib
from bench.servers import start_server, stop_server, user_token

OWNER = "kernel-owner"
IDLE_SECONDS = 2.0


def rows(run: Run) -> list[RowSpec]:
    return [
        RowSpec("server.pss", "idle single-user server memory, PSS (JupyterLab, no kernel)", "MiB"),
        RowSpec("ws.p50", f"kernel websocket round trip through the proxy, p50 of {run.size.ws_round_trips}", "ms"),
        RowSpec("ws.p99", "kernel websocket round trip through the proxy, p99", "ms"),
    ]


def users(run: Run) -> list[str]:
    return [OWNER]


def measure(run: Run, hub: Hub) -> dict[str, Figure]:
    async def started() -> str:
        async with hub.async_api() as api:
            await start_server(api, OWNER)
            return await user_token(api, OWNER)

    async def stopped() -> None:
        async with hub.async_api() as api:
            await stop_server(api, OWNER)

    token = asyncio.run(started())
    try:
        time.sleep(IDLE_SECONDS)
        figures = {"server.pss": _server_memory(hub, OWNER)}
        figures.update(_round_trips(hub, token, run.size.ws_round_trips))
        return figures
    finally:
        asyncio.run(stopped())


def _server_memory(hub: Hub, name: str) -> Figure:
    pids = hub.server_pids(name)
    return Figure(pss_mib(*pids)) if pids else missing("server process not found")


def _round_trips(hub: Hub, token: str, count: int) -> dict[str, Figure]:
    headers = {"Authorization": f"token {token}"}
    base = f"{hub.origin}/user/{OWNER}/api/kernels"
    created = httpx.post(base, headers=headers, json={"name": "python3"}, timeout=60)
    if created.status_code != 201:
        return dict.fromkeys(("ws.p50", "ws.p99"), missing(f"kernel start answered {created.status_code}"))
    kernel = created.json()["id"]
    try:
        ws_url = f"{base.replace('http://', 'ws://')}/{kernel}/channels"
        samples = kernelws.round_trips(ws_url, headers, count)
    finally:
        httpx.delete(f"{base}/{kernel}", headers=headers, timeout=30)
    return {"ws.p50": pct_ms(samples, 50), "ws.p99": pct_ms(samples, 99)}
