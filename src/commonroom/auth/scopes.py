"""JupyterHub's scopes: the catalogue, expansion into sub-scopes, and checks against a target.

Pure logic with no I/O, so every rule here is tested in milliseconds. A scope is "name" or "name!filter",
where the filter is user=NAME, server=USER/SERVER, group=NAME or service=NAME. Inside a role definition a bare
`!user` or `!service` stands for whoever holds the role.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum

# scope -> the scopes it implies (one level; expansion takes the closure).
CATALOGUE: dict[str, tuple[str, ...]] = {
    "self": (),
    "inherit": (),
    "admin-ui": (),
    "admin:users": ("admin:auth_state", "users", "read:roles:users", "delete:users"),
    "admin:auth_state": (),
    "users": ("read:users", "list:users", "users:activity"),
    "delete:users": (),
    "list:users": ("read:users:name",),
    "read:users": ("read:users:name", "read:users:groups", "read:users:activity"),
    "read:users:name": (),
    "read:users:groups": (),
    "read:users:activity": (),
    "users:activity": ("read:users:activity",),
    "read:roles": ("read:roles:users", "read:roles:services", "read:roles:groups"),
    "read:roles:users": (),
    "read:roles:services": (),
    "read:roles:groups": (),
    "admin:servers": ("admin:server_state", "servers"),
    "admin:server_state": (),
    "servers": ("read:servers", "start:servers", "delete:servers"),
    "read:servers": ("read:users:name",),
    "start:servers": (),
    "delete:servers": (),
    "tokens": ("read:tokens",),
    "read:tokens": (),
    "admin:groups": ("groups", "read:roles:groups", "delete:groups"),
    "groups": ("read:groups", "list:groups"),
    "list:groups": ("read:groups:name",),
    "read:groups": ("read:groups:name",),
    "read:groups:name": (),
    "delete:groups": (),
    "admin:services": ("list:services", "read:services", "read:roles:services"),
    "list:services": ("read:services:name",),
    "read:services": ("read:services:name",),
    "read:services:name": (),
    "read:hub": (),
    "access:servers": (),
    "access:services": (),
    "shares": ("access:servers", "read:shares", "users:shares", "groups:shares"),
    "read:shares": (),
    "users:shares": ("read:users:shares",),
    "groups:shares": ("read:groups:shares",),
    "read:users:shares": (),
    "read:groups:shares": (),
    "proxy": (),
    "shutdown": (),
    "read:metrics": (),
}

SELF_SCOPES = ("read:users", "users:shares", "read:shares", "users:activity", "servers", "tokens", "access:servers")

ADMIN_ROLE_SCOPES = (
    "admin-ui", "admin:users", "admin:servers", "admin:services", "tokens", "admin:groups", "list:services",
    "read:services", "read:hub", "proxy", "shutdown", "access:services", "access:servers", "read:roles",
    "read:metrics", "shares",
)  # fmt: skip

FILTER_KINDS = ("user", "server", "group", "service")


class ScopeError(ValueError):
    """A scope string that is not in the catalogue or has a malformed filter."""


def split(scope: str) -> tuple[str, str | None]:
    """("name", "user=alice") for "name!user=alice"; ("name", None) when unfiltered."""
    name, _, flt = scope.partition("!")
    return name, (flt or None)


BARE_FILTERS = ("user", "service")  # allowed without a value in roles: bound to the role's holder


def validate(scope: str, in_role: bool = False) -> None:
    name, flt = split(scope)
    if name not in CATALOGUE:
        raise ScopeError(f"{scope!r} is not a known scope")
    if flt is not None:
        kind, _, value = flt.partition("=")
        if in_role and flt in BARE_FILTERS:
            return
        if kind not in FILTER_KINDS or not value:
            raise ScopeError(f"{scope!r} has a malformed filter (use !user=, !server=, !group= or !service=)")


def invalid(scopes: Iterable[str], in_role: bool = False) -> list[str]:
    """The scopes among these that are unknown or malformed, so one error can name them all."""
    bad = []
    for scope in scopes:
        try:
            validate(scope, in_role)
        except ScopeError:
            bad.append(scope)
    return bad


def _closure(name: str) -> set[str]:
    found = {name}
    for sub in CATALOGUE.get(name, ()):
        found |= _closure(sub)
    return found


def expand(scopes: Iterable[str], owner: str | None = None, service: str | None = None) -> frozenset[str]:
    """Every scope the given ones imply, with filters carried to sub-scopes; `self` and a bare `!user` bind to
    the user `owner`, a bare `!service` to `service` (and are dropped when there is no such holder)."""
    result: set[str] = set()
    for scope in scopes:
        name, flt = split(scope)
        if name == "self":
            if owner is not None:
                result |= expand((f"{s}!user={owner}" for s in SELF_SCOPES), owner)
            continue
        if flt in BARE_FILTERS:
            holder = owner if flt == "user" else service
            if holder is None:
                continue
            flt = f"{flt}={holder}"
        for sub in _closure(name):
            result.add(f"{sub}!{flt}" if flt else sub)
    return frozenset(result)


@dataclass(frozen=True)
class Target:
    """The resource a request touches, used to match filters."""

    user: str | None = None
    server: str | None = None  # "alice/" for alice's default server, "alice/gpu" for a named one
    groups: frozenset[str] = field(default_factory=frozenset)
    service: str | None = None


class Access(Enum):
    GRANTED = "granted"
    FILTERED = "filtered"  # the scope is held, but not for this target: answer 404 so existence doesn't leak
    MISSING = "missing"  # the scope is not held at all: answer 403


Members = Mapping[str, frozenset[str]]  # group name -> its members' names, for the groups named in !group=


def _matches(flt: str, target: Target, members: Members) -> bool:
    kind, _, value = flt.partition("=")
    if kind == "user":
        return target.user == value
    if kind == "server":
        return target.server == value
    if kind == "group":
        # A group, its members, and its members' servers all match a group filter.
        return value in target.groups or (target.user is not None and target.user in members.get(value, ()))
    if kind == "service":
        return target.service == value
    return False


def check(held: frozenset[str], required: str, target: Target | None = None, members: Members | None = None) -> Access:
    """Whether `held` (already expanded) grants `required` on `target`."""
    if required in held:
        return Access.GRANTED
    filters = [split(s)[1] for s in held if split(s)[0] == required]
    if not filters:
        return Access.MISSING
    if target is not None and any(f is not None and _matches(f, target, members or {}) for f in filters):
        return Access.GRANTED
    return Access.FILTERED


def check_any(
    held: frozenset[str], required: Iterable[str], target: Target | None = None, members: Members | None = None
) -> Access:
    """The best answer over several acceptable scopes."""
    results = {check(held, r, target, members) for r in required}
    for outcome in (Access.GRANTED, Access.FILTERED):
        if outcome in results:
            return outcome
    return Access.MISSING


def intersect(token_scopes: frozenset[str], owner_scopes: frozenset[str]) -> frozenset[str]:
    """The part of a token's scopes its owner also holds: a token never holds more than its owner."""
    kept: set[str] = set()
    for scope in token_scopes:
        name, flt = split(scope)
        if scope in owner_scopes or name in owner_scopes:
            kept.add(scope)
        elif flt is None:
            kept |= {s for s in owner_scopes if split(s)[0] == name}
    return frozenset(kept)


def filtered_groups(held: Iterable[str]) -> set[str]:
    """The groups named in !group= filters: their members must be known to check those scopes."""
    return {flt.removeprefix("group=") for flt in (split(s)[1] for s in held) if flt and flt.startswith("group=")}


ROLE_NAME = re.compile(r"^[a-z][a-z0-9\-_~.]{1,253}[a-z0-9]$")
BUILTIN_ROLES = ("user", "admin", "server", "token")


def role_name_problem(name: str) -> str | None:
    """Why a name cannot name a new role (JupyterHub's pattern; the default roles' names are taken), or None."""
    if name in BUILTIN_ROLES:
        return f"{name!r} is a built-in role and cannot be redefined; choose another name"
    if not ROLE_NAME.match(name):
        return (f"invalid role name {name!r}: 3-255 characters, lowercase letters, digits and -_~. , starting with a "
                "letter and ending with a letter or digit, e.g. 'teaching-assistant'")  # fmt: skip
    return None


def server_token_scopes(user: str, server: str) -> list[str]:
    """What a single-user server's own API token may do (JupyterHub's `server` role)."""
    return [f"users:activity!user={user}", f"access:servers!server={user}/{server}"]


def access_scopes(user: str, server: str) -> list[str]:
    """Scopes that let a person into a server (JUPYTERHUB_OAUTH_ACCESS_SCOPES)."""
    return [f"access:servers!server={user}/{server}", f"access:servers!user={user}"]


def with_default_roles(names: Iterable[str], admin: bool, is_user: bool) -> list[str]:
    """Role names as JupyterHub lists them: sorted, with the default roles a user or an admin holds."""
    return sorted([*(["admin"] if admin else []), *(["user"] if is_user else []), *names])
