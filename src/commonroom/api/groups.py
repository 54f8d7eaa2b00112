"""Groups: list (paginated), create one or many, read, delete, change members and properties."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from commonroom.api.deps import DB, CallerDep, directory_errors, require
from commonroom.api.pagination import page_of, reply
from commonroom.api.roles import assign, check_within
from commonroom.auth.scopes import Access, Target, split
from commonroom.db.models import Group, User, group_members
from commonroom.users import groups
from commonroom.web.errors import NOT_FOUND_OR_NO_ACCESS, APIError
from commonroom.web.identity import Caller

router = APIRouter()

READERS = ("read:groups", "read:groups:name", "read:roles:groups")


class NewGroups(BaseModel):
    model_config = ConfigDict(extra="forbid")
    groups: list[str] = Field(min_length=1, max_length=1000)
    users: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list, description="Roles the new groups hold (you must hold their scopes).")


class NewGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")
    users: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list, description="Roles the new group holds (you must hold their scopes).")


class Members(BaseModel):
    model_config = ConfigDict(extra="forbid")
    users: list[str] = Field(min_length=1)


def group_target(name: str) -> Target:
    return Target(groups=frozenset({name}))


def group_model(caller: Caller, group: Group, members: list[str]) -> dict[str, Any]:
    """JupyterHub's group model with the fields the caller's scopes allow."""
    target = group_target(group.name)
    model: dict[str, Any] = {"kind": "group", "name": group.name}
    if caller.check("read:groups", target) is Access.GRANTED:
        model.update(users=members, properties=group.properties)
    if caller.check("read:roles:groups", target) is Access.GRANTED:
        model["roles"] = sorted(r.name for r in group.roles)
    return model


async def models(db: AsyncSession, caller: Caller, rows: list[Group]) -> list[dict[str, Any]]:
    names = await groups.member_names(db, rows)
    return [group_model(caller, g, names[g.id]) for g in rows]


async def _group(db: AsyncSession, name: str) -> Group:
    group = await groups.find(db, name)
    if group is None:
        raise APIError(404, NOT_FOUND_OR_NO_ACCESS)
    return group


def _listable(caller: Caller) -> frozenset[str] | None:
    """The groups the caller may list: all (None), or those its list:groups!group= scopes name."""
    filters = [split(s)[1] for s in caller.scopes if split(s)[0] == "list:groups"]
    if None in filters:
        return None
    if not filters:
        require(caller, "list:groups")
    if any(not f or not f.startswith("group=") for f in filters):
        raise APIError(403, "list:groups is held only with filters other than !group=; ask for list:groups.")
    return frozenset(f.removeprefix("group=") for f in filters if f)


@router.get("/groups")
async def list_groups(
    request: Request,
    caller: CallerDep,
    db: DB,
    offset: str | None = Query(None, description="Index of the first group (integer, default 0)."),
    limit: str | None = Query(None, description="Groups per page (integer, 1 to 200)."),
) -> Any:
    page = page_of(request)
    rows, total = await groups.page(db, _listable(caller), page.offset, page.limit)
    return reply(request, page, await models(db, caller, rows), total)


@router.post("/groups", status_code=201)
async def create_groups(body: NewGroups, caller: CallerDep, db: DB) -> JSONResponse:
    for name in body.groups:
        require(caller, "admin:groups", group_target(name))
    with directory_errors():
        made = await groups.create(db, body.groups, body.users)
        for group in made:
            await assign(db, caller, group, body.roles)
    await db.commit()
    return JSONResponse(await models(db, caller, made), status_code=201)


@router.get("/groups/{name}")
async def get_group(name: str, caller: CallerDep, db: DB) -> dict[str, Any]:
    require(caller, READERS, group_target(name))
    return (await models(db, caller, [await _group(db, name)]))[0]


@router.post("/groups/{name}", status_code=201)
async def create_group(name: str, caller: CallerDep, db: DB, body: NewGroup | None = None) -> JSONResponse:
    require(caller, "admin:groups", group_target(name))
    body = body or NewGroup()
    with directory_errors():
        made = await groups.create(db, [name], body.users)
        await assign(db, caller, made[0], body.roles)
    await db.commit()
    return JSONResponse((await models(db, caller, made))[0], status_code=201)


@router.delete("/groups/{name}", status_code=204)
async def delete_group(name: str, caller: CallerDep, db: DB) -> Response:
    require(caller, "delete:groups", group_target(name))
    group = await _group(db, name)
    await db.execute(delete(Group).where(Group.id == group.id))
    await db.commit()
    return Response(status_code=204)


def _may_join(caller: Caller, group: Group, user: User) -> None:
    """Joining a group gives its roles: whoever adds a member must hold them (no escalation through groups)."""
    check_within(caller, [s for role in group.roles for s in role.scopes], user)


async def join_only(db: AsyncSession, caller: Caller, user: User, names: list[str]) -> None:
    """Make `user` a member of exactly these groups (PATCH /users/{name} {"groups": [...]})."""
    with directory_errors():
        wanted = await groups.rows_named(db, Group, names)
    current = {g.id for g in user.groups}
    for group in wanted:
        if group.id not in current:
            _may_join(caller, group, user)
    user.groups = wanted


@router.post("/groups/{name}/users")
async def add_members(name: str, body: Members, caller: CallerDep, db: DB) -> dict[str, Any]:
    require(caller, "groups", group_target(name))
    group = await _group(db, name)
    with directory_errors():
        users = await groups.rows_named(db, User, body.users)
    for user in users:
        _may_join(caller, group, user)
    present = set((await db.execute(select(group_members.c.user_id).where(group_members.c.group_id == group.id))).scalars())
    new = [{"group_id": group.id, "user_id": u.id} for u in users if u.id not in present]
    if new:
        await db.execute(insert(group_members), new)
    await db.commit()
    return (await models(db, caller, [group]))[0]


@router.delete("/groups/{name}/users")
async def remove_members(name: str, body: Members, caller: CallerDep, db: DB) -> dict[str, Any]:
    require(caller, "groups", group_target(name))
    group = await _group(db, name)
    with directory_errors():
        users = await groups.rows_named(db, User, body.users)
    ids = [u.id for u in users]
    await db.execute(delete(group_members).where(group_members.c.group_id == group.id, group_members.c.user_id.in_(ids)))
    await db.commit()
    return (await models(db, caller, [group]))[0]


@router.put("/groups/{name}/properties")
async def set_properties(name: str, caller: CallerDep, db: DB, properties: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    require(caller, "groups", group_target(name))
    group = await _group(db, name)
    group.properties = properties
    await db.commit()
    return (await models(db, caller, [group]))[0]
