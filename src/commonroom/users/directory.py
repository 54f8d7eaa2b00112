"""Queries and changes on user rows, without HTTP: the API's handlers call these.

Listing filters and sorts in SQL (never loading every user, the incumbent's costliest call), and counts the
same filtered set for pagination totals (users, not servers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from commonroom.auth.names import name_problem, normalize
from commonroom.db.models import Server, User

State = Literal["active", "ready", "inactive"]
STATES: tuple[State, ...] = ("active", "ready", "inactive")
SORT_KEYS = ("id", "name", "last_activity")


class DirectoryError(Exception):
    """A change that cannot be made; `status` is the HTTP status the API answers with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Listing:
    state: State | None = None
    name_filter: str = ""
    sort: str = "id"
    only: frozenset[str] | None = None
    """The names a caller with a filtered list:users scope may see; None for everyone."""


def parse_listing(state: str | None, name_filter: str | None, sort: str | None) -> Listing:
    if state not in (None, "", *STATES):
        raise DirectoryError(400, f"Unrecognized state filter: {state!r}; use one of {', '.join(STATES)}.")
    key = (sort or "id").removeprefix("-")
    if key not in SORT_KEYS:
        raise DirectoryError(400, f"sort must be one of {', '.join(SORT_KEYS)} (with '-' for descending), not {sort!r}.")
    return Listing(state or None, name_filter or "", sort or "id")  # type: ignore[arg-type]


def _state_clause(state: State) -> ColumnElement[bool]:
    active = exists().where(Server.user_id == User.id, (Server.target.is_not(None)) | (Server.pending.is_not(None)))
    ready = exists().where(Server.user_id == User.id, Server.target.is_not(None), Server.pending.is_(None))
    return {"active": active, "ready": ready, "inactive": ~active}[state]


def _filtered(listing: Listing) -> Select[Any]:
    query = select(User)
    if listing.only is not None:
        query = query.where(User.name.in_(sorted(listing.only)))
    if listing.state:
        query = query.where(_state_clause(listing.state))
    if listing.name_filter:
        escaped = listing.name_filter.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(User.name).like(f"%{escaped}%", escape="\\"))
    return query


def _ordered(query: Select[Any], sort: str) -> Select[Any]:
    column = {"id": User.id, "name": User.name, "last_activity": User.last_activity}[sort.removeprefix("-")]
    if sort.startswith("-"):
        return query.order_by(column.desc().nulls_last(), User.id.desc())
    return query.order_by(column.asc().nulls_first(), User.id)


async def list_users(db: AsyncSession, listing: Listing, offset: int, limit: int) -> tuple[list[User], int]:
    """One page of users and the total matching the filters."""
    query = _filtered(listing)
    total = await db.scalar(query.with_only_columns(func.count(User.id))) or 0
    rows = (await db.execute(_ordered(query, listing.sort).offset(offset).limit(limit))).scalars().all()
    return list(rows), total


def checked_name(raw: str) -> str:
    name = normalize(raw)
    problem = name_problem(name)
    if problem:
        raise DirectoryError(400, f"Invalid user name {raw!r}: {problem}")
    return name


async def find(db: AsyncSession, name: str) -> User | None:
    return (await db.execute(select(User).where(User.name == name))).scalar_one_or_none()


async def create(db: AsyncSession, raw_names: Sequence[str], admin: bool) -> list[User]:
    """Create the users that do not exist yet (409 if none is new); every name is checked first."""
    names = list(dict.fromkeys(checked_name(n) for n in raw_names))
    if not names:
        raise DirectoryError(400, "usernames must list at least one name.")
    existing = set((await db.execute(select(User.name).where(User.name.in_(names)))).scalars())
    new = [User(name=n, admin=admin, approved=True, servers=[], groups=[], roles=[]) for n in names if n not in existing]
    if not new:
        raise DirectoryError(409, f"All {len(names)} users already exist: {', '.join(names)}")
    db.add_all(new)
    await db.flush()
    return new


async def rename(db: AsyncSession, user: User, raw_name: str) -> None:
    name = checked_name(raw_name)
    if name != user.name and await find(db, name) is not None:
        raise DirectoryError(400, f"User {name} already exists; choose another name.")
    if any(s.target is not None or s.pending is not None for s in user.servers):
        raise DirectoryError(400, f"Stop {user.name}'s servers before renaming them.")
    user.name = name
