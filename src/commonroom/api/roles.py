"""Roles at runtime (JupyterHub has no such API; people ask for it in jupyterhub#3858).

Roles made here are stored with managed_by "api" and persist across restarts; roles from the config file are
read-only here (edit the file). Nobody can hand out more than they hold: defining a role, or granting one to a
user, group or service, needs every scope in it (bound to the holder, for `self` and bare `!user`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import JSONResponse, Response

from commonroom.api.deps import DB, CallerDep, directory_errors, require
from commonroom.auth import roles
from commonroom.auth import scopes as scope_rules
from commonroom.auth.scopes import Target
from commonroom.db.models import (
    Group,
    Role,
    Service,
    User,
    group_roles,
    service_roles,
    user_roles,
)
from commonroom.users import groups
from commonroom.web.errors import APIError
from commonroom.web.identity import Caller

router = APIRouter()

# What a grant to each kind of holder touches (link table and column) and the scope needed to change it.
HOLDERS: dict[str, tuple[Table, str, str]] = {
    "users": (user_roles, "user_id", "admin:users"),
    "groups": (group_roles, "group_id", "admin:groups"),
    "services": (service_roles, "service_id", "admin:services"),
}
TARGETS = {
    "users": lambda name: Target(user=name),
    "groups": lambda name: Target(groups=frozenset({name})),
    "services": lambda name: Target(service=name),
}
DEFINERS = ("admin:users", "admin:groups")


class RoleDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = Field("", max_length=1023)
    scopes: list[str] = Field(description="JupyterHub scope names, e.g. 'read:users!group=class-a'.")


class Holders(BaseModel):
    model_config = ConfigDict(extra="forbid")
    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)


def role_model(role: Role) -> dict[str, Any]:
    return {
        "kind": "role",
        "name": role.name,
        "description": role.description,
        "scopes": role.scopes,
        "managed_by": role.managed_by,
        "users": sorted(u.name for u in role.users),
        "groups": sorted(g.name for g in role.groups),
        "services": sorted(s.name for s in role.services),
    }


def check_within(caller: Caller, scopes: Sequence[str], holder: User | Group | Service | None = None) -> None:
    """403 unless the caller holds every scope it would hand out (bound to the holder where it binds)."""
    user = holder.name if isinstance(holder, User) else None if holder else caller.name
    service = holder.name if isinstance(holder, Service) else None
    wanted = scope_rules.expand(scopes, user, service)
    beyond = sorted(wanted - scope_rules.intersect(wanted, caller.scopes))
    if beyond:
        raise APIError(403, f"You cannot hand out scopes you do not hold: {beyond[:10]}")


def _editable(role: Role) -> None:
    if role.managed_by == "config":
        raise APIError(409, f"Role {role.name} is defined in the config file ([[roles]]); change it there and restart.")


async def _role(db: AsyncSession, name: str) -> Role:
    role = await roles.find(db, name, holders=True)
    if role is None:
        raise APIError(404, f"No role named {name}; create it with PUT /roles/{name}.")
    return role


async def assign(db: AsyncSession, caller: Caller, holder: User | Group | Service, names: Sequence[str]) -> None:
    """Make `holder` hold exactly the API roles `names` (plus its config roles, which stay as they are)."""
    with directory_errors():
        wanted = await groups.rows_named(db, Role, [n for n in names if n not in roles.DEFAULT_ROLES])
    current = {r.name for r in holder.roles}
    for role in wanted:
        if role.name not in current:
            _editable(role)
            check_within(caller, role.scopes, holder)
    dropped = [r for r in holder.roles if r.name not in {w.name for w in wanted}]
    for role in dropped:
        _editable(role)
    holder.roles = [*(r for r in holder.roles if r not in dropped), *(r for r in wanted if r.name not in current)]


@router.get("/roles")
async def list_roles(caller: CallerDep, db: DB) -> list[dict[str, Any]]:
    require(caller, "read:roles")
    rows = await roles.all_with_holders(db)
    return [role_model(r) for r in rows]


@router.get("/roles/{name}")
async def get_role(name: str, caller: CallerDep, db: DB) -> dict[str, Any]:
    require(caller, "read:roles")
    return role_model(await _role(db, name))


@router.put("/roles/{name}")
async def define_role(name: str, body: RoleDefinition, caller: CallerDep, db: DB) -> JSONResponse:
    for scope in DEFINERS:
        require(caller, scope)
    try:
        roles.checked_name(name)
        scopes = roles.checked_scopes(body.scopes)
    except roles.RoleError as exc:
        raise APIError(exc.status, exc.message) from None
    check_within(caller, scopes)
    role = await roles.find(db, name, holders=True)
    status = 200
    if role is None:
        role, status = Role(name=name, users=[], groups=[], services=[], managed_by="api"), 201
        db.add(role)
    _editable(role)
    role.description, role.scopes = body.description, scopes
    await db.commit()
    return JSONResponse(role_model(role), status_code=status)


@router.delete("/roles/{name}", status_code=204)
async def delete_role(name: str, caller: CallerDep, db: DB) -> Response:
    for scope in DEFINERS:
        require(caller, scope)
    role = await _role(db, name)
    _editable(role)
    await db.execute(delete(Role).where(Role.id == role.id))
    await db.commit()
    return Response(status_code=204)


async def _holders(db: AsyncSession, caller: Caller, body: Holders) -> list[tuple[str, User | Group | Service]]:
    """The named holders, after checking the caller may change each (403/404 as for any other change)."""
    for kind in HOLDERS:
        for holder_name in getattr(body, kind):
            require(caller, HOLDERS[kind][2], TARGETS[kind](holder_name))
    found: list[tuple[str, User | Group | Service]] = []
    with directory_errors():
        found += [("users", row) for row in await groups.rows_named(db, User, body.users)]
        found += [("groups", row) for row in await groups.rows_named(db, Group, body.groups)]
        found += [("services", row) for row in await groups.rows_named(db, Service, body.services)]
    if not found:
        raise APIError(400, 'Name at least one holder: {"users": [...], "groups": [...], "services": [...]}.')
    return found


@router.post("/roles/{name}/holders")
async def grant(name: str, body: Holders, caller: CallerDep, db: DB) -> dict[str, Any]:
    role = await _role(db, name)
    _editable(role)
    for kind, holder in await _holders(db, caller, body):
        check_within(caller, role.scopes, holder)
        table, column, _ = HOLDERS[kind]
        present = (await db.execute(select(table).where(table.c.role_id == role.id, table.c[column] == holder.id))).first()
        if present is None:
            await db.execute(insert(table).values({"role_id": role.id, column: holder.id}))
    await db.commit()
    db.expire(role)
    return role_model(await _role(db, name))


@router.delete("/roles/{name}/holders")
async def revoke(name: str, body: Holders, caller: CallerDep, db: DB) -> dict[str, Any]:
    role = await _role(db, name)
    _editable(role)
    for kind, holder in await _holders(db, caller, body):
        table, column, _ = HOLDERS[kind]
        await db.execute(delete(table).where(table.c.role_id == role.id, table.c[column] == holder.id))
    await db.commit()
    db.expire(role)
    return role_model(await _role(db, name))

