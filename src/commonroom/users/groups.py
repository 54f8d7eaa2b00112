"""Groups of users: names, members and properties, as the API and sign-in change them.

Members are read with one query per page of groups (never by loading every member's row and its servers).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from typing import Literal, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from commonroom.db.models import Group, Role, Service, User, group_members
from commonroom.users.directory import DirectoryError

# Any printable name without '/' (identity providers' group names may have spaces), 1-255 characters.
_NAME = re.compile(r"[^\s/\x00-\x1f\x7f](?:[^/\x00-\x1f\x7f]{0,253}[^\s/\x00-\x1f\x7f])?")

log = logging.getLogger(__name__)
Named = TypeVar("Named", User, Group, Service, Role)


def checked_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise DirectoryError(400, f"Invalid group name {name!r}: 1-255 printable characters, no '/', no leading or "
                                  "trailing spaces, e.g. 'class-2026'.")  # fmt: skip
    return name


# What a new row's collections start as, so that reading them never lazy-loads (which async sessions refuse).
_EMPTY: dict[type, dict[str, list[object]]] = {User: {"servers": [], "groups": [], "roles": []}, Group: {"roles": []}}


async def rows_named(
    db: AsyncSession, kind: type[Named], names: Iterable[str], missing: Literal["refuse", "create", "skip"] = "refuse"
) -> list[Named]:
    """The rows with these names, in the order given. Names without a row: 400 naming them ("refuse"), new
    rows ("create": config roles and sign-in make users and groups as JupyterHub does), or left out ("skip")."""
    wanted = list(dict.fromkeys(names))
    found = {r.name: r for r in (await db.execute(select(kind).where(kind.name.in_(wanted)))).scalars()}
    absent = [n for n in wanted if n not in found]
    if absent and missing == "refuse":
        raise DirectoryError(400, f"No such {kind.__name__.lower()}s: {', '.join(absent)}; create them first.")
    if absent and missing == "create":
        for name in absent:
            found[name] = kind(name=name, **_EMPTY.get(kind, {}))
            db.add(found[name])
    elif absent:
        log.warning("left out %ss that do not exist: %s", kind.__name__.lower(), ", ".join(absent))
    return [found[n] for n in wanted if n in found]


async def find(db: AsyncSession, name: str, members: bool = False) -> Group | None:
    query = select(Group).where(Group.name == name)
    if members:
        query = query.options(selectinload(Group.users))
    return (await db.execute(query)).scalar_one_or_none()


async def page(db: AsyncSession, only: frozenset[str] | None, offset: int, limit: int) -> tuple[list[Group], int]:
    query = select(Group)
    if only is not None:
        query = query.where(Group.name.in_(sorted(only)))
    total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = (await db.execute(query.order_by(Group.id).offset(offset).limit(limit))).scalars().all()
    return list(rows), total


async def member_names(db: AsyncSession, groups: Sequence[Group]) -> dict[int, list[str]]:
    """Member names of each group (by group id), sorted, in one query."""
    names: dict[int, list[str]] = {g.id: [] for g in groups}
    if not groups:
        return names
    query = (
        select(group_members.c.group_id, User.name)
        .join(User, User.id == group_members.c.user_id)
        .where(group_members.c.group_id.in_(list(names)))
        .order_by(User.name)
    )
    for group_id, user in await db.execute(query):
        names[group_id].append(user)
    return names


async def create(db: AsyncSession, names: Sequence[str], users: Sequence[str]) -> list[Group]:
    """New groups, each with these members; 409 if any exists (nothing is created then)."""
    wanted = list(dict.fromkeys(checked_name(n) for n in names))
    if not wanted:
        raise DirectoryError(400, "groups must list at least one name.")
    taken = list((await db.execute(select(Group.name).where(Group.name.in_(wanted)))).scalars())
    if taken:
        raise DirectoryError(409, f"Groups already exist: {', '.join(taken)}; add members to them instead.")
    members = await rows_named(db, User, users)
    made = [Group(name=n, properties={}, users=list(members), roles=[]) for n in wanted]
    db.add_all(made)
    await db.flush()
    return made
