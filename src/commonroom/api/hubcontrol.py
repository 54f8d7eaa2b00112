"""The hub's own controls: the proxy's route table (read, resync), shutdown, and the deprecated token lookup."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, HttpUrl
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from commonroom.api.deps import DB, CallerDep, HubDep, require
from commonroom.api.models import user_model
from commonroom.api.pagination import page_of, reply
from commonroom.auth import tokens
from commonroom.proxy.client import ProxyApiError
from commonroom.servers import routes
from commonroom.users import views
from commonroom.web.errors import APIError
from commonroom.web.identity import SESSION_COOKIE, session_user

log = logging.getLogger(__name__)
router = APIRouter()


class ShutdownRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    servers: bool = True
    proxy: bool = True


@router.get("/proxy")
async def get_routes(request: Request, hub: HubDep, caller: CallerDep) -> Any:
    """The proxy's routes in JupyterHub's shape {routespec: {routespec, target, data}}."""
    require(caller, "proxy")
    page = page_of(request)
    table = await hub.proxy.get_routes()
    everything = {
        spec: {"routespec": spec, "target": data.get("target"), "data": {k: v for k, v in data.items() if k != "target"}}
        for spec, data in sorted(table.items())
    }
    chosen = dict(list(everything.items())[page.offset : page.offset + page.limit]) if page.wanted else everything
    return reply(request, page, chosen, len(everything))


@router.post("/proxy")
async def resync_routes(hub: HubDep, caller: CallerDep) -> Response:
    require(caller, "proxy")
    await routes.sync(hub.servers, hub.hub_target)
    return Response(status_code=200)


class ProxyChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    api_url: HttpUrl | None = None
    auth_token: str | None = Field(None, pattern=r"^[\x21-\x7e]{1,1024}$")  # it goes into an HTTP header


@router.patch("/proxy")
async def repoint_proxy(body: ProxyChange, hub: HubDep, caller: CallerDep) -> Response:
    """Point the hub at another proxy (api_url and/or auth_token), then write every route to it."""
    require(caller, "proxy")
    if body.api_url is None and body.auth_token is None:
        raise APIError(400, 'Send "api_url" and/or "auth_token" of the proxy the hub should use.')
    api_url = str(body.api_url).rstrip("/") if body.api_url else hub.proxy.api_url
    try:
        await hub.repoint_proxy(api_url, body.auth_token or hub.proxy.token)
    except ProxyApiError as exc:
        raise APIError(400, f"The hub keeps its current proxy: the new one did not answer ({exc}).") from None
    return Response(status_code=200)


async def _shut_down(hub: Any, body: ShutdownRequest) -> None:
    try:
        await hub.stop_everything(servers=body.servers, proxy=body.proxy)
    finally:
        os.kill(os.getpid(), signal.SIGTERM)


_background: set[asyncio.Task[None]] = set()


@router.post("/shutdown", status_code=202)
async def shutdown(hub: HubDep, caller: CallerDep, body: ShutdownRequest | None = None) -> JSONResponse:
    require(caller, "shutdown")
    choice = body or ShutdownRequest()
    log.warning("shutdown requested by %s (servers=%s, proxy=%s)", caller.name, choice.servers, choice.proxy)
    task = asyncio.create_task(_shut_down(hub, choice))
    _background.add(task)
    task.add_done_callback(_background.discard)
    return JSONResponse({"message": "Shutting down Hub"}, status_code=202)


@router.get("/authorizations/token/{token}", deprecated=True)
async def token_owner(token: str, hub: HubDep, caller: CallerDep, db: DB) -> dict[str, Any]:
    """Deprecated: the model of a token's owner. Only callers that authenticate with a token header may ask."""
    if caller.via != "token":
        raise APIError(403, "Authenticate with an Authorization: token header to look up tokens.")
    row = await tokens.find(db, token)
    if row is None:
        raise APIError(404, "No such token (it may have expired or been revoked).")
    return user_model(caller, views.of(row.user), hub.config.hub.base_url)


@router.get("/authorizations/cookie/{cookie_name}/{cookie_value}", deprecated=True)
async def cookie_owner(cookie_name: str, cookie_value: str, hub: HubDep, caller: CallerDep, db: DB) -> dict[str, Any]:
    """Deprecated: the model of the person a hub session cookie belongs to; token callers only, as above."""
    if caller.via != "token":
        raise APIError(403, "Authenticate with an Authorization: token header to look up cookies.")
    if cookie_name != SESSION_COOKIE:
        raise APIError(404, f"The hub's session cookie is {SESSION_COOKIE!r}, not {cookie_name!r}.")
    user = await session_user(db, cookie_value)
    if user is None:
        raise APIError(404, "No such session (it may have expired or been signed out).")
    return user_model(caller, views.of(user), hub.config.hub.base_url)


@router.post("/authorizations/token", include_in_schema=False)
async def token_by_password() -> Response:
    raise APIError(404, "POST /authorizations/token was removed in JupyterHub 2.0; create tokens with POST /users/{name}/tokens.")
