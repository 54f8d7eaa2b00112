"""Starting and stopping servers, and following a spawn's progress (server-sent events)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from commonroom.api.deps import DB, CallerDep, HubDep, find_user, require
from commonroom.auth.scopes import Target
from commonroom.servers.manager import ServerActionError
from commonroom.web.errors import APIError

router = APIRouter()

# How long a start or stop request waits before answering 202 (still going); JupyterHub's default is 10 s.
SLOW_ACTION_SECONDS = 10.0
KEEPALIVE_SECONDS = 8.0


def _target(name: str, server: str) -> Target:
    return Target(user=name, server=f"{name}/{server}")


async def _options(request: Request) -> dict[str, Any]:
    body = await request.body()
    if not body.strip():
        return {}
    try:
        options = json.loads(body)
    except ValueError:
        raise APIError(400, "Invalid JSON in body of request") from None
    if not isinstance(options, dict):
        raise APIError(400, "The body must be a JSON object of user options.")
    return options


async def _start(hub: HubDep, name: str, server: str, request: Request) -> Response:
    options = await _options(request)
    try:
        task = await hub.servers.start(name, server, options)
    except ServerActionError as exc:
        raise APIError(exc.status, exc.message) from None
    done, _ = await asyncio.wait({task}, timeout=SLOW_ACTION_SECONDS)
    if not done:
        return Response(status_code=202, media_type="text/plain")
    progress = hub.servers.progress(name, server)
    if progress and progress.events[-1].get("failed"):
        raise APIError(500, progress.events[-1]["message"])
    return Response(status_code=201, media_type="text/plain")


async def _stop(hub: HubDep, name: str, server: str) -> Response:
    try:
        task = await hub.servers.stop(name, server)
    except ServerActionError as exc:
        raise APIError(exc.status, exc.message) from None
    if task is not None:
        done, _ = await asyncio.wait({task}, timeout=SLOW_ACTION_SECONDS)
        if not done:
            return Response(status_code=202)
    return Response(status_code=204)


@router.post("/users/{name}/server", status_code=201)
async def start_default(name: str, request: Request, hub: HubDep, caller: CallerDep, db: DB) -> Response:
    require(caller, "start:servers", _target(name, ""))
    await find_user(db, name)
    return await _start(hub, name, "", request)


@router.delete("/users/{name}/server", status_code=204)
async def stop_default(name: str, hub: HubDep, caller: CallerDep, db: DB) -> Response:
    require(caller, "delete:servers", _target(name, ""))
    await find_user(db, name)
    return await _stop(hub, name, "")


async def _events(hub: HubDep, name: str, server: str) -> AsyncIterator[str]:
    progress = hub.servers.progress(name, server)
    if progress is None:
        return
    async for event in progress.follow(keepalive=KEEPALIVE_SECONDS):
        yield "\n\n" if event is None else f"data: {json.dumps(event)}\n\n"


@router.get("/users/{name}/server/progress")
async def progress_default(name: str, hub: HubDep, caller: CallerDep, db: DB) -> Response:
    require(caller, "read:servers", _target(name, ""))
    user = await find_user(db, name)
    row = next((s for s in user.servers if s.name == ""), None)
    log = hub.servers.progress(name, "")
    if row is None:
        raise APIError(404, f"{name} has no server")
    if row.running and (log is None or not log.finished):
        url = hub.servers.prefix(name, "")
        body = {"progress": 100, "ready": True, "message": f"Server ready at {url}", "url": url}
        return Response(f"data: {json.dumps(body)}\n\n", media_type="text/event-stream")
    if log is None or (row.pending is None and not log.finished):
        raise APIError(400, f"{name}'s server is not starting; start it first.")
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(_events(hub, name, ""), media_type="text/event-stream", headers=headers)
