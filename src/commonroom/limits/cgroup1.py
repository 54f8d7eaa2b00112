"""Limits under cgroup v1: one folder per server in each of the memory, cpu and pids hierarchies."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from commonroom.limits import cgroupfs
from commonroom.limits.base import Enforcer, Handle, Limits
from commonroom.limits.sizes import CPU_PERIOD_US, cpu_quota_us

CONTROLLERS = ("memory", "cpu", "pids")


class CgroupV1(Enforcer):
    kind = "cgroup1"

    def __init__(self, bases: Mapping[str, Path]) -> None:
        """`bases`: for each of CONTROLLERS, the folder under which servers' cgroups are made."""
        self.bases = dict(bases)

    def describe(self) -> str:
        return f"cgroup v1: memory, CPU and process limits are enforced per server (under {self.bases['memory']})"

    def gaps(self, limits: Limits) -> list[str]:
        return []

    def prepare(self, key: str, limits: Limits) -> Handle:
        folders = {controller: self.bases[controller] / key for controller in CONTROLLERS}
        for folder in folders.values():
            cgroupfs.make(folder)
        if limits.memory is not None:
            memory = folders["memory"]
            cgroupfs.write(memory, "memory.limit_in_bytes", str(limits.memory))
            if (memory / "memory.memsw.limit_in_bytes").exists():
                cgroupfs.write(memory, "memory.memsw.limit_in_bytes", str(limits.memory))  # no escape into swap
        if limits.cpu is not None:
            cgroupfs.write(folders["cpu"], "cpu.cfs_period_us", str(CPU_PERIOD_US))
            cgroupfs.write(folders["cpu"], "cpu.cfs_quota_us", str(cpu_quota_us(limits.cpu)))
        if limits.processes is not None:
            cgroupfs.write(folders["pids"], "pids.max", str(limits.processes))
        return Handle(cgroups=tuple(str(folder) for folder in folders.values()))
