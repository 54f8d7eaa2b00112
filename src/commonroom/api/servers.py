"""Servers of a user, default and named: create, start, rename, stop, remove, and a spawn's progress (SSE)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import contains_eager
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from commonroom.api.deps import DB, CallerDep, HubDep, find_user, require
from commonroom.api.models import server_model
from commonroom.auth.scopes import Target
from commonroom.db.models import Server, User
from commonroom.servers.manager import ServerActionError
from commonroom.web.errors import APIError

router = APIRouter()

KEEPALIVE_SECONDS = 8.0
T = TypeVar("T")


class ServerChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    display_name: str | None = Field(None, min_length=1, max_length=255)
    user_options: dict[str, Any] | None = None


def _display_name(body: dict[str, Any]) -> str | None:
    """The 6.0 form's display_name: 1-255 printable characters."""
    value = body.get("display_name")
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= 255 or not value.isprintable():
        raise APIError(400, "display_name must be 1 to 255 printable characters.")
    return value


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
    """The server with its user loaded (server_model reads it), or 404 for a missing user or server."""
    query = (
        select(Server).join(Server.user).where(User.name == name, Server.name == server)
        .options(contains_eager(Server.user))
    )  # fmt: skip
    row = (await db.execute(query)).scalar_one_or_none()
    if row is None:
        await find_user(db, name)
        raise APIError(404, f"{name} has no server named {server!r}" if server else f"{name} has no server")
    return row


async def _start(hub: HubDep, name: str, server: str, request: Request) -> Response:
    body = await _json_object(request)
    options, label = _options(body), _display_name(body)
    under_way = hub.servers.live.get((name, server))
    task = await _managed(hub.servers.start(name, server, options, label))
    if under_way is not None and under_way.task is task:
        return Response(status_code=202, media_type="text/plain")  # a spawn already pending: JupyterHub's 202
    done, _ = await asyncio.wait({task}, timeout=hub.config.hub.slow_spawn_timeout)
    if not done:
        return Response(status_code=202, media_type="text/plain")
    progress = hub.servers.progress(name, server)
    if progress and progress.events[-1].get("failed"):
        raise APIError(500, progress.events[-1]["message"])
    return Response(status_code=201, media_type="text/plain")


async def _stop(hub: HubDep, name: str, server: str, remove: bool = False) -> Response:
    task = await _managed(hub.servers.stop(name, server))
    if task is not None:
        done, _ = await asyncio.wait({task}, timeout=hub.config.hub.slow_stop_timeout)
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
    body = await _json_object(request)
    _options(body)
    await _managed(hub.servers.create(name, server, _display_name(body)))
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
    label = _display_name(body.model_dump(exclude_unset=True))
    if body.user_options is not None:
        raise APIError(400, "user_options are set when a server starts: send them with POST to start it.")
    if body.name is not None:
        await _managed(hub.servers.rename(name, server, body.name))
    if label is not None:
        await _managed(hub.servers.label(name, body.name or server, label))
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


@router.post("/users/{name}/admin-access", deprecated=True)
async def admin_access(name: str, caller: CallerDep, db: DB) -> Response:
    """Deprecated since JupyterHub 2.0 and a no-op there too: admins reach servers through access:servers."""
    require(caller, "servers", Target(user=name))
    await find_user(db, name)
    return Response(status_code=200)
