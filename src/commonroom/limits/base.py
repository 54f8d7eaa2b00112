"""The enforcement interface: the hub prepares a server's limits, the server's process enters them, the hub
releases them.

Preparing runs in the hub (it may create cgroups and write their limits); entering runs in the server's own
process after fork and before exec, while it still has the hub's privileges; releasing kills whatever is left
and removes the cgroups. The handle that links the three is plain data, kept in the spawner's state, so a
restarted hub can still release what an earlier one prepared.
"""

from __future__ import annotations

import os
import resource
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from commonroom.config.models import Profile
from commonroom.limits.sizes import parse_size


class LimitError(Exception):
    """Limits that cannot be put in place; the message says why and what an administrator can do."""


@dataclass(frozen=True)
class Limits:
    """What a profile asks for, in the units the kernel takes; None means no limit."""

    memory: int | None = None
    """Bytes for the server and everything it starts."""
    cpu: float | None = None
    """CPU cores."""
    processes: int | None = None

    @classmethod
    def of(cls, profile: Profile) -> Limits:
        memory = parse_size(profile.memory) if profile.memory else None
        return cls(memory, profile.cpu, profile.max_processes)

    @property
    def any(self) -> bool:
        return not (self.memory is None and self.cpu is None and self.processes is None)


@dataclass(frozen=True)
class Handle:
    """A server's prepared limits: the cgroup folders it joins and the rlimits it sets on itself."""

    cgroups: tuple[str, ...] = ()
    rlimits: tuple[tuple[int, int], ...] = ()
    """(resource.RLIMIT_*, limit) pairs, set as both soft and hard limit."""

    def to_state(self) -> dict[str, Any]:
        return {"cgroups": list(self.cgroups), "rlimits": [list(pair) for pair in self.rlimits]}

    @classmethod
    def from_state(cls, state: Mapping[str, Any] | None) -> Handle | None:
        """The handle a spawner state recorded, or None (no limits, or a damaged state)."""
        if not isinstance(state, Mapping):
            return None
        cgroups, rlimits = state.get("cgroups"), state.get("rlimits")
        if not (isinstance(cgroups, list) and all(isinstance(path, str) for path in cgroups)):
            return None
        if not (isinstance(rlimits, list) and all(_is_pair(pair) for pair in rlimits)):
            return None
        return cls(tuple(cgroups), tuple((int(pair[0]), int(pair[1])) for pair in rlimits))


def _is_pair(value: object) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(isinstance(item, int) for item in value)


def enter(handle: Handle) -> None:
    """Put the calling process under `handle`'s limits: join its cgroups, set its rlimits.

    Call it in the server's process between fork and exec, before it drops the hub's privileges (moving into
    a cgroup needs them under cgroup v2). Everything the server starts afterwards inherits the limits. It only
    makes system calls (no imports, no locks, no logging), so it is safe in a child forked from a threaded hub.
    Raises OSError when a cgroup cannot be joined and ValueError when an rlimit cannot be set.
    """
    for folder in handle.cgroups:
        fd = os.open(f"{folder}/cgroup.procs", os.O_WRONLY)
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)
    for which, limit in handle.rlimits:
        hard = resource.getrlimit(which)[1]
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(which, (limit, limit))


class Enforcer(ABC):
    """One way of enforcing limits. The hub picks one at start (detect.py) and uses it for every server."""

    kind: str
    """Short name, as in spawner.enforcement: cgroup2, cgroup1 or rlimit."""

    @abstractmethod
    def describe(self) -> str:
        """One line for the hub's log and the admin page: which enforcement is active and what it covers."""

    @abstractmethod
    def gaps(self, limits: Limits) -> list[str]:
        """The parts of `limits` this enforcement cannot hold (in words for an administrator); [] when none."""

    @abstractmethod
    def prepare(self, key: str, limits: Limits) -> Handle:
        """Make the limits of server `key` (unique among running servers, usable as a folder name) ready to
        enter. Raises LimitError."""
