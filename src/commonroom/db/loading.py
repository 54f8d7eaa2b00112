"""Loader options for the hot paths: a user with the collections the API shows, in the same query.

User's collections load with one extra SELECT each by default (selectin); for the one user of a token check or
of a handler that changes a user, joining them in costs one query instead of four. (Read-only replies about
users use users/views.py instead, without mapped objects.)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import joinedload
from sqlalchemy.orm.interfaces import LoaderOption

from commonroom.db.models import User

USER_COLLECTIONS = (User.servers, User.groups, User.roles)


def user_joined(via: Any = None) -> list[LoaderOption]:
    """Options for a query of users, or (via: a relationship to a user, e.g. APIToken.user) of rows with one."""
    return [(joinedload(via).joinedload(c) if via is not None else joinedload(c)) for c in USER_COLLECTIONS]
