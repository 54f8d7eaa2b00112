"""Which resource profiles a person may start a server with, and the one a start request picks (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from commonroom.config.models import Profile
from commonroom.limits.sizes import format_size, parse_size


class ProfileRefused(Exception):
    """The request names a profile that does not exist (400) or is not open to the person (403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def allowed(profiles: Sequence[Profile], groups: Iterable[str], admin: bool) -> list[Profile]:
    """The profiles open to someone in `groups`: those with no groups, those naming one of theirs; all for admins."""
    mine = set(groups)
    return [p for p in profiles if admin or not p.groups or mine.intersection(p.groups)]


def choose(profiles: Sequence[Profile], options: Mapping[str, Any], groups: Iterable[str], admin: bool) -> Profile | None:
    """The profile user_options ask for ({"profile": NAME}), else the default one open to the person, else the
    first open one; None when the hub has no profiles. Raises ProfileRefused."""
    if not profiles:
        return None
    mine = allowed(profiles, groups, admin)
    requested = options.get("profile")
    if requested is None or requested == "":
        if not mine:
            raise ProfileRefused(403, "None of this hub's server profiles is open to you; an administrator can add "
                                 f"you to one of the groups: {', '.join(_groups_of(profiles))}.")  # fmt: skip
        return next((p for p in mine if p.default), mine[0])
    names = ", ".join(p.name for p in mine) or "none"
    if not isinstance(requested, str):
        raise ProfileRefused(400, f"user_options.profile must be a profile's name (a string); yours are: {names}.")
    found = next((p for p in profiles if p.name == requested), None)
    if found is None:
        raise ProfileRefused(400, f"There is no server profile {requested!r}; the ones you may use are: {names}.")
    if found not in mine:
        raise ProfileRefused(
            403, f"The profile {requested!r} is only for members of {', '.join(found.groups)}; you may use: {names}."
        )
    return found


def _groups_of(profiles: Sequence[Profile]) -> list[str]:
    return sorted({group for profile in profiles for group in profile.groups})


def summary(profile: Profile) -> str:
    """The limits of a profile in a few words for the start page, e.g. '1.5 CPUs · 2 GB memory · 10 GB disk'."""
    parts = []
    if profile.cpu is not None:
        parts.append(f"{profile.cpu:g} CPU" + ("" if profile.cpu == 1 else "s"))
    if profile.memory:
        parts.append(f"{format_size(parse_size(profile.memory))} memory")
    if profile.max_processes is not None:
        parts.append(f"{profile.max_processes} processes")
    if profile.disk_quota:
        parts.append(f"{format_size(parse_size(profile.disk_quota))} disk")
    return " · ".join(parts) or "no limits"
