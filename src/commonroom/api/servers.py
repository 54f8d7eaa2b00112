"""Servers of a user, default and named: create, start, rename, stop, remove, and a spawn's progress (SSE)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from commonroom.api.deps import DB, CallerDep, HubDep, find_user, require
from commonroom.api.models import server_model
from commonroom.auth.scopes import Target
from commonroom.db.models import Server
from commonroom.servers.manager import ServerActionError
from commonroom.web.errors import APIError

router = APIRouter()

# How long a start or stop request waits before answering 202 (still going); JupyterHub's default is 10 s.
SLOW_ACTION_SECONDS = 10.0
KEEPALIVE_SECONDS = 8.0
T = TypeVar("T")


class ServerChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    display_name: str | None = Field(None, min_length=1, max_length=255)
    user_options: dict[str, Any] | None = None


def _target(name: str, server: str) -> Target:
    return Target(user=name, server=f"{name}/{server}")


async def _managed(action: Awaitable[T]) -> T:
    try:
        return await action
    except ServerActionError as exc:
        raise APIError(exc.status, exc.message, exc.headers) from None


async def _json_object(request: Request) -> dict[str, Any]:
    body = await request.body()
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except ValueError:
        raise APIError(400, "Invalid JSON in body of request") from None
    if not isinstance(value, dict):
        raise APIError(400, "The body must be a JSON object.")
    return value


def _options(body: dict[str, Any]) -> dict[str, Any]:
    """user_options from a ServerRequest: the 6.0 form {display_name?, user_options?} or a legacy bare object."""
    if "user_options" in body or "display_name" in body:
        options = body.get("user_options") or {}
        if not isinstance(options, dict):
            raise APIError(400, "user_options must be a JSON object.")
        return options
    return body


async def _row(db: DB, name: str, server: str) -> Server:
    user = await find_user(db, name)
    row = next((s for s in user.servers if s.name == server), None)
    if row is None:
        raise APIError(404, f"{name} has no server named {server!r}" if server else f"{name} has no server")
    return row


async def _start(hub: HubDep, name: str, server: str, request: Request) -> Response:
    options = _options(await _json_object(request))
    under_way = hub.servers.live.get((name, server))
    task = await _managed(hub.servers.start(name, server, options))
    if under_way is not None and under_way.task is task:
        return Response(status_code=202, media_type="text/plain")  # a spawn already pending: JupyterHub's 202
    done, _ = await asyncio.wait({task}, timeout=SLOW_ACTION_SECONDS)
    if not done:
        return Response(status_code=202, media_type="text/plain")
    progress = hub.servers.progress(name, server)
    if progress and progress.events[-1].get("failed"):
        raise APIError(500, progress.events[-1]["message"])
    return Response(status_code=201, media_type="text/plain")


async def _stop(hub: HubDep, name: str, server: str, remove: bool = False) -> Response:
    task = await _managed(hub.servers.stop(name, server))
    if task is not None:
        done, _ = await asyncio.wait({task}, timeout=SLOW_ACTION_SECONDS)
        if not done:
            if remove:
                task.add_done_callback(lambda _t: asyncio.ensure_future(hub.servers.remove(name, server)))
            return Response(status_code=202)
    if remove:
        await _managed(hub.servers.remove(name, server))
    return Response(status_code=204)


async def _events(hub: HubDep, name: str, server: str) -> AsyncIterator[str]:
    progress = hub.servers.progress(name, server)
    if progress is None:
        return
    async for event in progress.follow(keepalive=KEEPALIVE_SECONDS):
        yield "\n\n" if event is None else f"data: {json.dumps(event)}\n\n"


async def _progress(hub: HubDep, db: DB, name: str, server: str) -> Response:
    row = await _row(db, name, server)
    log = hub.servers.progress(name, server)
    if row.running and (log is None or not log.finished):
        url = hub.servers.prefix(name, server)
        body = {"progress": 100, "ready": True, "message": f"Server ready at {url}", "url": url}
        return Response(f"data: {json.dumps(body)}\n\n", media_type="text/event-stream")
    if log is None or (row.pending is None and not log.finished):
        raise APIError(400, f"{name}'s server is not starting; start it first.")
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(_events(hub, name, server), media_type="text/event-stream", headers=headers)


# ---- the default server ----------------------------------------------------------------------------------


@router.get("/users/{name}/server")
async def get_default(name: str, hub: HubDep, caller: CallerDep, db: DB) -> dict[str, Any]:
    require(caller, "read:servers", _target(name, ""))
    return server_model(await _row(db, name, ""), hub.config.hub.base_url)


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


@router.get("/users/{name}/server/progress")
async def progress_default(name: str, hub: HubDep, caller: CallerDep, db: DB) -> Response:
    require(caller, "read:servers", _target(name, ""))
    return await _progress(hub, db, name, "")


# ---- named servers ---------------------------------------------------------------------------------------


@router.get("/users/{name}/servers/{server}")
async def get_named(name: str, server: str, hub: HubDep, caller: CallerDep, db: DB) -> dict[str, Any]:
    require(caller, "read:servers", _target(name, server))
    return server_model(await _row(db, name, server), hub.config.hub.base_url)


@router.put("/users/{name}/servers/{server}", status_code=201)
async def create_named(name: str, server: str, request: Request, hub: HubDep, caller: CallerDep, db: DB) -> dict[str, Any]:
    require(caller, "start:servers", _target(name, server))
    await find_user(db, name)
    _options(await _json_object(request))
    await _managed(hub.servers.create(name, server))
    db.expire_all()
    return server_model(await _row(db, name, server), hub.config.hub.base_url)


@router.post("/users/{name}/servers/{server}", status_code=201)
async def start_named(name: str, server: str, request: Request, hub: HubDep, caller: CallerDep, db: DB) -> Response:
    require(caller, "start:servers", _target(name, server))
    await find_user(db, name)
    return await _start(hub, name, server, request)


@router.patch("/users/{name}/servers/{server}")
async def change_named(
    name: str, server: str, body: ServerChange, hub: HubDep, caller: CallerDep, db: DB
) -> dict[str, Any]:
    require(caller, "start:servers", _target(name, server))
    await _row(db, name, server)
    if body.display_name is not None and body.display_name != (body.name or server):
        raise APIError(400, "Display names other than the server's name are not stored yet; rename the server instead.")
    if body.user_options is not None:
        raise APIError(400, "user_options are set when a server starts: send them with POST to start it.")
    if body.name is not None:
        await _managed(hub.servers.rename(name, server, body.name))
    db.expire_all()
    return server_model(await _row(db, name, body.name or server), hub.config.hub.base_url)


@router.delete("/users/{name}/servers/{server}", status_code=204)
async def stop_named(name: str, server: str, request: Request, hub: HubDep, caller: CallerDep, db: DB) -> Response:
    require(caller, "delete:servers", _target(name, server))
    body = await _json_object(request)
    await _row(db, name, server)
    return await _stop(hub, name, server, remove=bool(body.get("remove")))


@router.get("/users/{name}/servers/{server}/progress")
async def progress_named(name: str, server: str, hub: HubDep, caller: CallerDep, db: DB) -> Response:
    require(caller, "read:servers", _target(name, server))
    return await _progress(hub, db, name, server)
