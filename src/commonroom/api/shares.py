"""Shares and share codes (JupyterHub 5's API): who else may use one of my servers, and links to accept.

Share lists are always paginated (offset, limit and the {items, _pagination} reply), as in JupyterHub.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from commonroom import urls
from commonroom.api.deps import (
    DB,
    CallerDep,
    HubDep,
    directory_errors,
    find_user,
    require,
)
from commonroom.api.groups import group_target
from commonroom.api.pagination import page_of, reply
from commonroom.auth.scopes import Target
from commonroom.db.models import Group, Server, Share, ShareCode, User
from commonroom.sharing import store
from commonroom.sharing.store import CODE_EXPIRY_RANGE
from commonroom.timeutil import isoformat
from commonroom.users import groups
from commonroom.web.errors import NOT_FOUND_OR_NO_ACCESS, APIError
from commonroom.web.identity import Caller

router = APIRouter()


class ShareRequest(BaseModel):
    """{"user": name} or {"group": name}, and optionally the scopes (default: access to the server)."""

    model_config = ConfigDict(extra="forbid")
    user: str | None = None
    group: str | None = None
    scopes: list[str] | None = None

    @model_validator(mode="after")
    def _one_recipient(self) -> ShareRequest:
        if (self.user is None) == (self.group is None):
            raise ValueError('name exactly one recipient: {"user": "name"} or {"group": "name"}')
        return self


class CodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scopes: list[str] | None = None
    expires_in: int = Field(86400, ge=CODE_EXPIRY_RANGE[0], le=CODE_EXPIRY_RANGE[1], description="Seconds (60 to a year).")


def _server_target(owner: str, server: str) -> Target:
    return Target(user=owner, server=f"{owner}/{server}")


def server_summary(server: Server, base_url: str) -> dict[str, Any]:
    return {
        "user": {"name": server.user.name},
        "name": server.name,
        "url": urls.user_prefix(base_url, server.user.name, server.name),
        "full_url": None,
        "ready": server.running,
    }


def share_model(share: Share, base_url: str) -> dict[str, Any]:
    return {
        "server": server_summary(share.server, base_url),
        "scopes": share.scopes,
        "user": {"name": share.user.name} if share.user else None,
        "group": {"name": share.group.name} if share.group else None,
        "kind": "user" if share.user else "group",
        "created_at": isoformat(share.created),
    }


def code_model(code: ShareCode, base_url: str) -> dict[str, Any]:
    return {
        "server": server_summary(code.server, base_url),
        "scopes": code.scopes,
        "id": f"sc_{code.id}",
        "created_at": isoformat(code.created),
        "expires_at": isoformat(code.expires_at),
        "exchange_count": code.exchange_count,
        "last_exchanged_at": isoformat(code.last_exchanged_at),
    }


async def _paged(request: Request, hub: HubDep, db: AsyncSession, **which: Any) -> Any:
    """Share lists are always paginated, as in JupyterHub."""
    page = dataclasses.replace(page_of(request), wanted=True)
    rows, total = await store.shares_of(db, offset=page.offset, limit=page.limit, **which)
    return reply(request, page, [share_model(s, hub.config.hub.base_url) for s in rows], total)


async def _server(db: AsyncSession, owner: str, server: str) -> Server:
    with directory_errors():
        return await store.server_of(db, await find_user(db, owner), server)


def _check_grantable(caller: Caller, server: Server, scopes: list[str]) -> None:
    """The granter must hold what it shares, on that server (an administrator sharing someone's server too)."""
    target = _server_target(server.user.name, server.name)
    for scope in scopes:
        require(caller, scope.partition("!")[0], target)


async def _recipient(
    db: AsyncSession, caller: Caller, body: ShareRequest, check: bool = True
) -> tuple[User | None, Group | None]:
    """The user or group named. Sharing needs the right to see its name (read:users:name / read:groups:name);
    revoking (check=False) does not, since the share itself shows the name, and an unknown name finds nothing."""
    if body.user is not None:
        if check:
            require(caller, "read:users:name", Target(user=body.user))
        return await find_user(db, body.user), None
    assert body.group is not None
    if check:
        require(caller, "read:groups:name", group_target(body.group))
    return None, await _group_row(db, body.group)


@router.get("/shares/{owner}")
async def list_owner_shares(owner: str, request: Request, hub: HubDep, caller: CallerDep, db: DB) -> Any:
    require(caller, "read:shares", Target(user=owner))
    return await _paged(request, hub, db, owner=await find_user(db, owner))


@router.get("/shares/{owner}/{server:path}")
async def list_server_shares(owner: str, server: str, request: Request, hub: HubDep, caller: CallerDep, db: DB) -> Any:
    require(caller, "read:shares", _server_target(owner, server))
    return await _paged(request, hub, db, server=await _server(db, owner, server))


@router.post("/shares/{owner}/{server:path}")
async def share(owner: str, server: str, body: ShareRequest, hub: HubDep, caller: CallerDep, db: DB) -> dict[str, Any]:
    require(caller, "shares", _server_target(owner, server))
    row = await _server(db, owner, server)
    with directory_errors():
        scopes = store.share_scopes(row, body.scopes)
    _check_grantable(caller, row, scopes)
    user, group = await _recipient(db, caller, body)
    with directory_errors():
        made = await store.grant(db, row, scopes, user, group)
    await db.commit()
    return share_model(made, hub.config.hub.base_url)


@router.patch("/shares/{owner}/{server:path}")
async def revoke_share(owner: str, server: str, body: ShareRequest, hub: HubDep, caller: CallerDep, db: DB) -> dict[str, Any]:
    """Take scopes away (all when none are named); {} when the share is gone."""
    require(caller, "shares", _server_target(owner, server))
    row = await _server(db, owner, server)
    try:
        user, group = await _recipient(db, caller, body, check=False)
    except APIError:
        return {}
    rows, _ = await store.shares_of(db, server=row, user=user, group=group)
    if not rows:
        return {}
    with directory_errors():
        scopes = store.share_scopes(row, body.scopes) if body.scopes else None
    left = await store.revoke(db, rows[0], scopes)
    await db.commit()
    return share_model(left, hub.config.hub.base_url) if left else {}


@router.delete("/shares/{owner}/{server:path}", status_code=204)
async def unshare_all(owner: str, server: str, caller: CallerDep, db: DB) -> Response:
    require(caller, "shares", _server_target(owner, server))
    row = await _server(db, owner, server)
    rows, _ = await store.shares_of(db, server=row, limit=1_000_000)
    for share_row in rows:
        await store.revoke(db, share_row, None)
    await db.commit()
    return Response(status_code=204)


@router.get("/share-codes/{owner}")
async def list_owner_codes(owner: str, request: Request, hub: HubDep, caller: CallerDep, db: DB) -> Any:
    require(caller, "read:shares", Target(user=owner))
    return _code_page(request, hub, await store.codes_of(db, await find_user(db, owner)))


@router.get("/share-codes/{owner}/{server:path}")
async def list_server_codes(owner: str, server: str, request: Request, hub: HubDep, caller: CallerDep, db: DB) -> Any:
    require(caller, "read:shares", _server_target(owner, server))
    row = await _server(db, owner, server)
    return _code_page(request, hub, await store.codes_of(db, row.user, row))


def _code_page(request: Request, hub: HubDep, codes: list[ShareCode]) -> Any:
    page = dataclasses.replace(page_of(request), wanted=True)
    items = [code_model(c, hub.config.hub.base_url) for c in codes[page.offset : page.offset + page.limit]]
    return reply(request, page, items, len(codes))


@router.post("/share-codes/{owner}/{server:path}")
async def new_code(owner: str, server: str, hub: HubDep, caller: CallerDep, db: DB, body: CodeRequest | None = None) -> JSONResponse:
    require(caller, "shares", _server_target(owner, server))
    body = body or CodeRequest()
    row = await _server(db, owner, server)
    with directory_errors():
        scopes = store.share_scopes(row, body.scopes)
    _check_grantable(caller, row, scopes)
    code_row, code = await store.new_code(db, row, scopes, body.expires_in)
    await db.commit()
    accept = f"{urls.hub_path(hub.config.hub.base_url, 'accept-share')}?code={quote(code)}"
    public = hub.config.hub.public_url.rstrip("/")
    model = {**code_model(code_row, hub.config.hub.base_url), "code": code, "accept_url": accept,
             "full_accept_url": f"{public}{accept}" if public else None}  # fmt: skip
    return JSONResponse(model)


@router.delete("/share-codes/{owner}/{server:path}", status_code=204)
async def delete_codes(owner: str, server: str, caller: CallerDep, db: DB,
                       code: str | None = None, id: str | None = None) -> Response:
    require(caller, "shares", _server_target(owner, server))
    row = await _server(db, owner, server)
    found = await store.codes_of(db, row.user, row)
    if code is not None:
        match = await store.find_code(db, code)
        found = [c for c in found if match is not None and c.id == match.id]
    elif id is not None:
        found = [c for c in found if f"sc_{c.id}" == id]
    if (code is not None or id is not None) and not found:
        raise APIError(404, "No such share code for this server (it may have expired).")
    for code_row in found:
        await db.delete(code_row)
    await db.commit()
    return Response(status_code=204)


@router.get("/users/{name}/shared")
async def shared_with_user(name: str, request: Request, hub: HubDep, caller: CallerDep, db: DB) -> Any:
    require(caller, "read:users:shares", Target(user=name))
    return await _paged(request, hub, db, user=await find_user(db, name))


@router.get("/groups/{name}/shared")
async def shared_with_group(name: str, request: Request, hub: HubDep, caller: CallerDep, db: DB) -> Any:
    require(caller, "read:groups:shares", group_target(name))
    return await _paged(request, hub, db, group=await _group_row(db, name))


async def _received(db: AsyncSession, owner: str, server: str, user: User | None = None, group: Group | None = None) -> Share:
    rows, _ = await store.shares_of(db, server=await _server(db, owner, server), user=user, group=group)
    if not rows:
        raise APIError(404, NOT_FOUND_OR_NO_ACCESS)
    return rows[0]


@router.get("/users/{name}/shared/{owner}/{server:path}")
async def user_share(name: str, owner: str, server: str, hub: HubDep, caller: CallerDep, db: DB) -> dict[str, Any]:
    require(caller, "read:users:shares", Target(user=name))
    return share_model(await _received(db, owner, server, user=await find_user(db, name)), hub.config.hub.base_url)


@router.delete("/users/{name}/shared/{owner}/{server:path}", status_code=204)
async def leave_user_share(name: str, owner: str, server: str, caller: CallerDep, db: DB) -> Response:
    """The recipient gives a share back."""
    require(caller, "users:shares", Target(user=name))
    await store.revoke(db, await _received(db, owner, server, user=await find_user(db, name)), None)
    await db.commit()
    return Response(status_code=204)


async def _group_row(db: AsyncSession, name: str) -> Group:
    group = await groups.find(db, name)
    if group is None:
        raise APIError(404, NOT_FOUND_OR_NO_ACCESS)
    return group


@router.get("/groups/{name}/shared/{owner}/{server:path}")
async def group_share(name: str, owner: str, server: str, hub: HubDep, caller: CallerDep, db: DB) -> dict[str, Any]:
    require(caller, "read:groups:shares", group_target(name))
    return share_model(await _received(db, owner, server, group=await _group_row(db, name)), hub.config.hub.base_url)


@router.delete("/groups/{name}/shared/{owner}/{server:path}", status_code=204)
async def leave_group_share(name: str, owner: str, server: str, caller: CallerDep, db: DB) -> Response:
    require(caller, "groups:shares", group_target(name))
    await store.revoke(db, await _received(db, owner, server, group=await _group_row(db, name)), None)
    await db.commit()
    return Response(status_code=204)
