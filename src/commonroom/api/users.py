"""Who am I, and users: list (filtered, sorted, paginated), create, change, delete."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from commonroom.api.deps import DB, CallerDep, HubDep, find_user, require
from commonroom.api.groups import join_only
from commonroom.api.models import service_model, user_model
from commonroom.api.pagination import page_of, reply
from commonroom.api.roles import assign
from commonroom.auth.scopes import Target, split
from commonroom.users import directory, views
from commonroom.users.directory import DirectoryError
from commonroom.web.errors import NOT_FOUND_OR_NO_ACCESS, APIError
from commonroom.web.json_reply import FastJSONResponse
from commonroom.web.identity import Caller

router = APIRouter()

READERS = ("read:users", "read:users:name", "read:servers", "read:users:groups", "read:users:activity")


class NewUsers(BaseModel):
    model_config = ConfigDict(extra="forbid")
    usernames: list[str] = Field(min_length=1)
    admin: bool = False


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    admin: bool = False


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    admin: bool | None = None
    groups: list[str] | None = Field(None, description="The groups the user is in afterwards (all of them).")
    roles: list[str] | None = Field(None, description="The roles the user holds afterwards (you must hold new ones).")


def _check_admin_grant(caller: Caller, admin: bool | None) -> None:
    if admin and not caller.admin:
        raise APIError(403, "Only administrators may make other users administrators.")


def _listable(caller: Caller) -> frozenset[str] | None:
    """Who the caller may list: everyone (None), or the users its list:users!user= scopes name; 403 for
    other filters or none at all, as in JupyterHub (groups do not exist yet)."""
    filters = [split(s)[1] for s in caller.scopes if split(s)[0] == "list:users"]
    if None in filters:
        return None
    if not filters:
        require(caller, "list:users")
    if any(not f or not f.startswith("user=") for f in filters):
        raise APIError(403, "list:users is held only with filters other than !user=; ask for list:users.")
    return frozenset(f.removeprefix("user=") for f in filters if f)


@router.get("/user")
async def whoami(hub: HubDep, caller: CallerDep) -> dict[str, Any]:
    base_url = hub.config.hub.base_url
    service = caller.service
    model = service_model(service, base_url) if service else user_model(caller, views.of(caller.user), base_url)
    model["scopes"] = sorted(caller.scopes)
    model["token_id"] = f"a{caller.token.id}" if caller.token else None
    model["session_id"] = caller.token.session_id if caller.token else None
    return model


@router.get("/users")
async def list_users(
    request: Request,
    hub: HubDep,
    caller: CallerDep,
    db: DB,
    state: str | None = None,
    name_filter: str | None = None,
    sort: str | None = None,
    include_stopped_servers: str | None = None,
    offset: str | None = Query(None, description="Index of the first user (integer, default 0)."),
    limit: str | None = Query(None, description="Users per page (integer, 1 to 200)."),
) -> FastJSONResponse:
    page = page_of(request)
    try:
        listing = directory.parse_listing(state, name_filter, sort)
    except DirectoryError as exc:
        raise APIError(exc.status, exc.message) from None
    listing = dataclasses.replace(listing, only=_listable(caller))
    rows, total = await directory.list_users(db, listing, page.offset, page.limit)
    stopped = include_stopped_servers is not None and include_stopped_servers.lower() not in ("0", "false")
    items = [user_model(caller, u, hub.config.hub.base_url, stopped) for u in rows]
    return reply(request, page, items, total)


@router.post("/users", status_code=201)
async def create_users(body: NewUsers, hub: HubDep, caller: CallerDep, db: DB) -> FastJSONResponse:
    require(caller, "admin:users")
    _check_admin_grant(caller, body.admin)
    try:
        created = await directory.create(db, body.usernames, body.admin)
    except DirectoryError as exc:
        raise APIError(exc.status, exc.message) from None
    await db.commit()
    models = [user_model(caller, views.of(u), hub.config.hub.base_url) for u in created]
    return FastJSONResponse(models, status_code=201)


@router.get("/users/{name}")
async def get_user(name: str, hub: HubDep, caller: CallerDep, db: DB) -> FastJSONResponse:
    require(caller, READERS, Target(user=name))
    user = await views.one(db, name)
    if user is None:
        raise APIError(404, NOT_FOUND_OR_NO_ACCESS)
    key = hub.secrets.encryption_key
    return FastJSONResponse(user_model(caller, user, hub.config.hub.base_url, auth_state_key=key))


@router.post("/users/{name}", status_code=201)
async def create_user(
    name: str, hub: HubDep, caller: CallerDep, db: DB, body: NewUser | None = None
) -> FastJSONResponse:
    require(caller, "admin:users", Target(user=name))
    admin = body.admin if body else False
    _check_admin_grant(caller, admin)
    try:
        if await directory.find(db, directory.checked_name(name)) is not None:
            raise APIError(409, f"User {name} already exists")
        created = await directory.create(db, [name], admin)
    except DirectoryError as exc:
        raise APIError(exc.status, exc.message) from None
    await db.commit()
    return FastJSONResponse(user_model(caller, views.of(created[0]), hub.config.hub.base_url), status_code=201)


@router.patch("/users/{name}")
async def change_user(name: str, body: UserChange, hub: HubDep, caller: CallerDep, db: DB) -> dict[str, Any]:
    require(caller, "admin:users", Target(user=name))
    user = await find_user(db, name)
    _check_admin_grant(caller, body.admin)
    try:
        if body.name is not None:
            await directory.rename(db, user, body.name)
    except DirectoryError as exc:
        raise APIError(exc.status, exc.message) from None
    if body.groups is not None:
        await join_only(db, caller, user, body.groups)
    if body.roles is not None:
        await assign(db, caller, user, body.roles)
    if body.admin is not None:
        if caller.is_user(user) and not body.admin:
            raise APIError(400, "You cannot remove your own admin rights; ask another administrator.")
        user.admin = body.admin
    await db.commit()
    return user_model(caller, views.of(user), hub.config.hub.base_url)


@router.delete("/users/{name}", status_code=204)
async def delete_user(name: str, hub: HubDep, caller: CallerDep, db: DB) -> Response:
    require(caller, "delete:users", Target(user=name))
    user = await find_user(db, name)
    if caller.is_user(user):
        raise APIError(400, "You cannot delete yourself; ask another administrator.")
    active = [s.name for s in user.servers if s.target is not None or s.pending is not None]
    tasks = [t for t in [await hub.servers.stop(name, s) for s in active] if t is not None]
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
    await db.refresh(user)
    await db.delete(user)
    await db.commit()
    return Response(status_code=204)
