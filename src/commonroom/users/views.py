"""Read-only views of users for the API's read paths (GET /users/NAME, pages of GET /users), loaded with plain
SELECTs of columns.

Why not mapped objects: building them, with the identity map and their joined or select-in collections, was
most of the hub's time on those two calls (bench/results/only-api.md). A view is one SELECT of user columns,
one of their servers and one of their group and role names, kept in named tuples. Changes still go through
the ORM; `of(user)` gives the same view of a loaded ORM user, so one JSON model serves reads and writes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import CompoundSelect, Select, bindparam, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from commonroom.auth.scopes import with_default_roles
from commonroom.db.models import SERVERS, USERS, Group, Role, Server, User, group_members, user_roles


class ServerView(NamedTuple):
    name: str
    pending: str | None
    target: str | None
    state: dict[str, Any]
    user_options: dict[str, Any]
    display_name: str | None
    started: datetime | None
    last_activity: datetime | None

    @property
    def running(self) -> bool:
        return self.pending is None and self.target is not None


class UserView(NamedTuple):
    id: int
    name: str
    admin: bool
    user_info: dict[str, Any]
    created: datetime
    last_activity: datetime | None
    auth_state: str | None
    servers: tuple[ServerView, ...]
    groups: tuple[str, ...]
    """Group names, sorted."""
    roles: tuple[str, ...]
    """Role names, sorted, the default roles (user, admin) included: JupyterHub's `roles` field."""


# Plain table columns in statements built once: the ORM's attributes, and building a statement per call, cost
# more than running it (cache keys are computed per statement object).
_users, _servers = USERS.c, SERVERS.c
USER_COLUMNS = (_users.id, _users.name, _users.admin, _users.user_info, _users.created, _users.last_activity,
                _users.auth_state)  # fmt: skip
SERVER_FIELDS = ("name", "pending", "target", "state", "user_options", "display_name", "started", "last_activity")
_BY_NAME = select(*USER_COLUMNS).where(_users.name == bindparam("name"))


@cache
def _related(users: Select[Any]) -> tuple[Select[Any], CompoundSelect[Any]]:
    """The servers, and the group and role names, of the users a statement selects: statements that select
    those users again as a subquery (run once by the database), which cost less than an IN list of 200 ids."""
    ids = users.with_only_columns(_users.id)
    found = select(_servers.user_id, *(_servers[f] for f in SERVER_FIELDS)).where(_servers.user_id.in_(ids))
    groups = select(group_members.c.user_id, literal("group"), Group.__table__.c.name).join(Group.__table__)
    roles = select(user_roles.c.user_id, literal("role"), Role.__table__.c.name).join(Role.__table__)
    names = union_all(groups.where(group_members.c.user_id.in_(ids)), roles.where(user_roles.c.user_id.in_(ids)))
    return found, names


async def load(db: AsyncSession, users: Select[Any], values: dict[str, Any]) -> list[UserView]:
    """The views of the users a statement selects (its USER_COLUMNS, with these values bound), in its order,
    with their servers (one query) and their groups and roles (another). The statement is one built once."""
    rows = (await db.execute(users, values)).all()
    if not rows:
        return []
    servers_of, names_of = _related(users)
    servers: defaultdict[int, list[ServerView]] = defaultdict(list)
    for row in await db.execute(servers_of, values):
        servers[row[0]].append(ServerView._make(row[1:]))
    names: dict[str, defaultdict[int, list[str]]] = {"group": defaultdict(list), "role": defaultdict(list)}
    for user_id, kind, name in await db.execute(names_of, values):
        names[kind][user_id].append(name)
    groups, roles = names["group"], names["role"]
    return [
        UserView._make((
            *row,
            tuple(sorted(servers.get(row[0], ()), key=lambda s: s.name)),
            tuple(sorted(groups.get(row[0], ()))),
            tuple(with_default_roles(roles.get(row[0], ()), admin=row[2], is_user=True)),
        ))
        for row in rows
    ]  # fmt: skip


async def one(db: AsyncSession, name: str) -> UserView | None:
    found = await load(db, _BY_NAME, {"name": name})
    return found[0] if found else None


def of(user: User) -> UserView:
    """The view of an ORM user whose servers, groups and roles are loaded (after a change, say)."""
    return UserView(
        id=user.id,
        name=user.name,
        admin=user.admin,
        user_info=user.user_info,
        created=user.created,
        last_activity=user.last_activity,
        auth_state=user.auth_state,
        servers=tuple(sorted((_server_of(s) for s in user.servers), key=lambda s: s.name)),
        groups=tuple(sorted(g.name for g in user.groups)),
        roles=tuple(with_default_roles((r.name for r in user.roles), admin=user.admin, is_user=True)),
    )


def _server_of(server: Server) -> ServerView:
    return ServerView(*(getattr(server, field) for field in SERVER_FIELDS))
