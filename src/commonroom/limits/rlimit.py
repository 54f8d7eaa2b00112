"""The last resort when no cgroup hierarchy is usable: rlimits, which bind each process, not the server."""

from __future__ import annotations

import resource

from commonroom.limits.base import Enforcer, Handle, Limits


class Rlimits(Enforcer):
    kind = "rlimit"

    def __init__(self, why: str) -> None:
        """`why`: why cgroups could not be used, for the warning."""
        self.why = why

    def describe(self) -> str:
        return (
            f"rlimits only ({self.why}): memory is limited per process (RLIMIT_DATA), not per server; processes "
            "per OS account (RLIMIT_NPROC); CPU is not limited. Delegate the memory, cpu and pids controllers of "
            "cgroup v2 (or mount cgroup v1's) to the hub for real per-server limits."
        )

    def gaps(self, limits: Limits) -> list[str]:
        found = []
        if limits.memory is not None:
            found.append("memory is limited for each process, so a server with several kernels may use more")
        if limits.cpu is not None:
            found.append("cpu is not limited (rlimits cannot limit a rate)")
        if limits.processes is not None:
            found.append("max_processes counts every process of the OS account and does not bind root")
        return found

    def prepare(self, key: str, limits: Limits) -> Handle:
        rlimits = []
        if limits.memory is not None:
            rlimits.append((resource.RLIMIT_DATA, limits.memory))
        if limits.processes is not None:
            rlimits.append((resource.RLIMIT_NPROC, limits.processes))
        return Handle(rlimits=tuple(rlimits))
