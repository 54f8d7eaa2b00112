"""Roles: what a user or service may do, from its roles, its groups' roles and the shares it was given.

JupyterHub reads roles only from its config; here config roles are synced into the database at each start
(managed_by "config") and roles made through the API (managed_by "api") persist until deleted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from commonroom.auth import scopes as scope_rules
from commonroom.db.models import Group, Role, Service, Share, User, group_members


NAME_PATTERN = re.compile(r"^[a-z][a-z0-9\-_~.]{1,253}[a-z0-9]$")

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
    if name in DEFAULT_ROLES:
        raise RoleError(409, f"{name!r} is a built-in role and cannot be redefined; choose another name.")
    if not NAME_PATTERN.match(name):
        raise RoleError(
            400, f"Invalid role name {name!r}: 3-255 characters, lowercase letters, digits and -_~. , starting with"
            " a letter and ending with a letter or digit."
        )  # fmt: skip
    return name


def checked_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes of a role as given; 400 naming every scope that is unknown or malformed."""
    wanted = list(dict.fromkeys(scopes))
    bad = []
    for scope in wanted:
        try:
            scope_rules.validate(scope, in_role=True)
        except scope_rules.ScopeError:
            bad.append(scope)
    if bad:
        raise RoleError(400, f"Unknown or malformed scopes {bad}; see the scope list in the README.")
    return wanted


def role_names(owner: User | Service) -> list[str]:
    """The roles an owner holds directly, default roles included (JupyterHub's `roles` field)."""
    defaults = (["admin"] if owner.admin else []) + (["user"] if isinstance(owner, User) else [])
    return defaults + sorted(r.name for r in owner.roles)


async def scopes_of(db: AsyncSession, owner: User | Service) -> frozenset[str]:
    """Everything `owner` may do, expanded: default roles, its own roles, its groups' roles, shares to it."""
    if isinstance(owner, Service):
        held = [*(DEFAULT_ROLES["admin"] if owner.admin else ()), *(s for r in owner.roles for s in r.scopes)]
        return scope_rules.expand(held, service=owner.name)
    held = list(scope_rules.role_scopes(owner.admin))
    held += [s for r in owner.roles for s in r.scopes]
    held += [s for g in owner.groups for r in g.roles for s in r.scopes]
    group_ids = [g.id for g in owner.groups]
    received = select(Share.scopes).where(or_(Share.user_id == owner.id, Share.group_id.in_(group_ids)))
    for shared in (await db.execute(received)).scalars():
        held += shared
    return scope_rules.expand(held, owner=owner.name)


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


async def find(db: AsyncSession, name: str, holders: bool = False) -> Role | None:
    query = select(Role).where(Role.name == name)
    if holders:
        query = query.options(selectinload(Role.users), selectinload(Role.groups), selectinload(Role.services))
    return (await db.execute(query)).scalar_one_or_none()
