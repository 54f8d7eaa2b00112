"""Queries and changes on user rows, without HTTP: the API's handlers call these.

Listing filters and sorts in SQL (never loading every user, the incumbent's costliest call), and counts the
same filtered set for pagination totals (users, not servers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, bindparam, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from commonroom.auth.names import name_problem, normalize
from commonroom.db.models import SERVERS, USERS, User
from commonroom.users import views
from commonroom.users.views import UserView

State = Literal["active", "ready", "inactive"]
STATES: tuple[State, ...] = ("active", "ready", "inactive")
SORT_KEYS = ("id", "name", "last_activity")
_users, _servers = USERS.c, SERVERS.c


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
    mine = _servers.user_id == _users.id
    active = exists().where(mine, _servers.target.is_not(None) | _servers.pending.is_not(None))
    ready = exists().where(mine, _servers.target.is_not(None), _servers.pending.is_(None))
    return {"active": active, "ready": ready, "inactive": ~active}[state]


def _ordered(query: Select[Any], sort: str) -> Select[Any]:
    column = {"id": _users.id, "name": _users.name, "last_activity": _users.last_activity}[sort.removeprefix("-")]
    if sort.startswith("-"):
        return query.order_by(column.desc().nulls_last(), _users.id.desc())
    return query.order_by(column.asc().nulls_first(), _users.id)


@cache
def _statements(state: State | None, sort: str, by_name: bool, only: bool) -> tuple[Select[Any], Select[Any]]:
    """The page and count statements for one shape of listing, built once: their values are bound when run,
    and building a statement costs more than SQLite takes to run it."""
    conditions: list[ColumnElement[bool]] = []
    if only:
        conditions.append(_users.name.in_(bindparam("only", expanding=True)))
    if state:
        conditions.append(_state_clause(state))
    if by_name:
        conditions.append(func.lower(_users.name).like(bindparam("pattern"), escape="\\"))
    page = _ordered(select(*views.USER_COLUMNS).where(*conditions), sort)
    count = select(func.count()).select_from(USERS).where(*conditions)
    return page.offset(bindparam("offset")).limit(bindparam("limit")), count


async def list_users(db: AsyncSession, listing: Listing, offset: int, limit: int) -> tuple[list[UserView], int]:
    """One page of users and the total matching the filters."""
    page, count = _statements(listing.state, listing.sort, bool(listing.name_filter), listing.only is not None)
    escaped = listing.name_filter.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    values = {"only": sorted(listing.only or ()), "pattern": f"%{escaped}%", "offset": offset, "limit": limit}
    total = await db.scalar(count, values) or 0
    return await views.load(db, page, values), total


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
