"""Roles: what a user or service may do, from its roles, its groups' roles and the shares it was given.

JupyterHub reads roles only from its config; here config roles are synced into the database at each start
(managed_by "config") and roles made through the API (managed_by "api") persist until deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from commonroom.auth import scopes as scope_rules
from commonroom.config.models import RoleSpec
from commonroom.db.models import Group, Role, Service, Share, User, group_members
from commonroom.users import groups

# JupyterHub's default roles; they are not rows, and these names cannot be taken by new roles.
DEFAULT_ROLES: dict[str, tuple[str, ...]] = {
    "user": ("self",),
    "admin": scope_rules.ADMIN_ROLE_SCOPES,
    "server": ("users:activity!user", "access:servers!server"),
    "token": ("inherit",),
}


class RoleError(ValueError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def checked_name(name: str) -> str:
    problem = scope_rules.role_name_problem(name)
    if problem:
        raise RoleError(409 if name in DEFAULT_ROLES else 400, f"{problem[0].upper()}{problem[1:]}.")
    return name


def checked_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes of a role as given; 400 naming every scope that is unknown or malformed."""
    wanted = list(dict.fromkeys(scopes))
    bad = scope_rules.invalid(wanted, in_role=True)
    if bad:
        raise RoleError(400, f"Unknown or malformed scopes {bad}; see the scope list in the README.")
    return wanted


def role_names(owner: User | Service) -> list[str]:
    """The roles an owner holds directly, default roles included (JupyterHub's `roles` field)."""
    names = (r.name for r in owner.roles)
    return scope_rules.with_default_roles(names, admin=owner.admin, is_user=isinstance(owner, User))


async def scopes_of(db: AsyncSession, owner: User | Service) -> frozenset[str]:
    """Everything `owner` may do, expanded: default roles, its own roles, its groups' roles, shares to it.

    Roles come loaded with the owner; the `user` role's redefinition and the shares are one query together.
    """
    if isinstance(owner, Service):
        held = [*(DEFAULT_ROLES["admin"] if owner.admin else ()), *(s for r in owner.roles for s in r.scopes)]
        return scope_rules.expand(held, service=owner.name)
    held = [*(DEFAULT_ROLES["admin"] if owner.admin else ())]
    held += [s for r in owner.roles for s in r.scopes]
    held += [s for g in owner.groups for r in g.roles for s in r.scopes]
    group_ids = [g.id for g in owner.groups]
    shares = select(literal(False), Share.scopes).where(or_(Share.user_id == owner.id, Share.group_id.in_(group_ids)))
    user_role = select(literal(True), Role.scopes).where(Role.name == "user")
    user_scopes = list(DEFAULT_ROLES["user"])
    for is_user_role, scopes in await db.execute(union_all(shares, user_role)):
        if is_user_role:
            user_scopes = list(scopes)  # the config redefines the `user` role ([[roles]] name = "user")
        else:
            held += scopes
    return scope_rules.expand([*user_scopes, *held], owner=owner.name)


async def members_of(db: AsyncSession, groups: Iterable[str]) -> dict[str, frozenset[str]]:
    """Member names of the named groups (to resolve !group= filters), in one query."""
    names = set(groups)
    if not names:
        return {}
    query = (
        select(Group.name, User.name)
        .join(group_members, group_members.c.group_id == Group.id)
        .join(User, User.id == group_members.c.user_id)
        .where(Group.name.in_(names))
    )
    found: dict[str, set[str]] = {name: set() for name in names}
    for group, user in await db.execute(query):
        found[group].add(user)
    return {group: frozenset(users) for group, users in found.items()}


WITH_HOLDERS = (selectinload(Role.users), selectinload(Role.groups), selectinload(Role.services))


async def find(db: AsyncSession, name: str, holders: bool = False) -> Role | None:
    query = select(Role).where(Role.name == name)
    if holders:
        query = query.options(*WITH_HOLDERS)
    return (await db.execute(query)).scalar_one_or_none()


async def all_with_holders(db: AsyncSession) -> list[Role]:
    return list((await db.execute(select(Role).options(*WITH_HOLDERS).order_by(Role.name))).scalars())
async def sync_config(db: AsyncSession, specs: Sequence[RoleSpec]) -> None:
    """Make the config roles rows exactly as the config says; config roles no longer in it are deleted."""
    wanted = {spec.name: spec for spec in specs}
    rows = await all_with_holders(db)
    existing = {row.name: row for row in rows}
    for row in rows:
        if row.managed_by == "config" and row.name not in wanted:
            await db.delete(row)  # its holders are loaded, so their links go too
    for spec in specs:
        role = existing.get(spec.name)
        if role is None:
            role = Role(name=spec.name, users=[], groups=[], services=[])
            db.add(role)
        role.description, role.scopes, role.managed_by = spec.description, list(spec.scopes), "config"
        role.users = await groups.rows_named(db, User, spec.users, "create")
        role.groups = await groups.rows_named(db, Group, spec.groups, "create")
        role.services = await groups.rows_named(db, Service, spec.services, "skip")
    await db.flush()
