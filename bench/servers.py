"""Starting and stopping a person's default server through the JupyterHub REST API (both hubs speak it):
POST answers 201 when the server is ready, or 202 and the progress stream says when; DELETE answers 204 when
it is stopped, or 202 and the user model says when."""

from __future__ import annotations

import asyncio
import json
import time

import httpx


class ServerActionFailed(RuntimeError):
    pass


async def start_server(api: httpx.AsyncClient, name: str, timeout: float = 120) -> float:
    """Seconds from the start request to the server being ready."""
    began = time.monotonic()
    response = await api.post(f"/users/{name}/server")
    if response.status_code == 202:
        await wait_ready(api, name, timeout)
    elif response.status_code != 201:
        raise ServerActionFailed(f"start {name}: {response.status_code} {response.text[:200]}")
    return time.monotonic() - began


async def wait_ready(api: httpx.AsyncClient, name: str, timeout: float = 120) -> None:
    """Follow the spawn's progress stream until its ready event."""
    await asyncio.wait_for(_ready_event(api, name), timeout)


async def _ready_event(api: httpx.AsyncClient, name: str) -> None:
    async with api.stream("GET", f"/users/{name}/server/progress") as stream:
        async for line in stream.aiter_lines():
            if not line.startswith("data:"):
                continue
            event = json.loads(line[5:])
            if event.get("failed"):
                raise ServerActionFailed(f"start {name}: {event.get('message')}")
            if event.get("ready"):
                return
    raise ServerActionFailed(f"start {name}: the progress stream ended without a ready event")


async def stop_server(api: httpx.AsyncClient, name: str, timeout: float = 60) -> float:
    """Seconds from the stop request to the server being gone."""
    began = time.monotonic()
    response = await api.delete(f"/users/{name}/server")
    if response.status_code == 202:
        await asyncio.wait_for(_gone(api, name), timeout)
    elif response.status_code != 204:
        raise ServerActionFailed(f"stop {name}: {response.status_code} {response.text[:200]}")
    return time.monotonic() - began


async def _gone(api: httpx.AsyncClient, name: str) -> None:
    while True:
        user = (await api.get(f"/users/{name}")).json()
        if "" not in (user.get("servers") or {}):
            return
        await asyncio.sleep(0.02)


async def user_token(api: httpx.AsyncClient, name: str) -> str:
    """A new API token of `name`'s own, made with the admin token."""
    response = await api.post(f"/users/{name}/tokens", json={"note": "bench"})
    if response.status_code != 201:
        raise ServerActionFailed(f"token for {name}: {response.status_code} {response.text[:200]}")
    return str(response.json()["token"])
