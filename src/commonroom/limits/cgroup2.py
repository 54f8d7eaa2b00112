"""Limits under cgroup v2: one folder per server below the hub's own cgroup, with memory, cpu and pids.

cgroup v2 lets a cgroup hand controllers to its children only while it has no processes of its own (the
"no internal processes" rule), so the first server moves the hub's processes into a leaf `hub` beside
`commonroom`, as systemd's delegation documentation asks of a delegated service.
"""

from __future__ import annotations

from pathlib import Path

from commonroom.limits import cgroupfs
from commonroom.limits.base import Enforcer, Handle, LimitError, Limits
from commonroom.limits.sizes import CPU_PERIOD_US, cpu_quota_us

CONTROLLERS = ("memory", "cpu", "pids")
_ENABLE = " ".join(f"+{controller}" for controller in CONTROLLERS)


class CgroupV2(Enforcer):
    kind = "cgroup2"

    def __init__(self, own: Path, is_root: bool) -> None:
        """`own`: the hub's cgroup folder; `is_root`: it is the hierarchy's root (which may have processes)."""
        self.own = own
        self.is_root = is_root
        self.base = own / "commonroom"
        self._ready = False

    def describe(self) -> str:
        return f"cgroup v2: memory, CPU and process limits are enforced per server (under {self.base})"

    def gaps(self, limits: Limits) -> list[str]:
        return []

    def prepare(self, key: str, limits: Limits) -> Handle:
        self._delegate()
        folder = self.base / key
        cgroupfs.make(folder)
        if limits.memory is not None:
            cgroupfs.write(folder, "memory.max", str(limits.memory))
            if (folder / "memory.swap.max").exists():
                cgroupfs.write(folder, "memory.swap.max", "0")
        if limits.cpu is not None:
            cgroupfs.write(folder, "cpu.max", f"{cpu_quota_us(limits.cpu)} {CPU_PERIOD_US}")
        if limits.processes is not None:
            cgroupfs.write(folder, "pids.max", str(limits.processes))
        return Handle(cgroups=(str(folder),))

    def _delegate(self) -> None:
        """Enable the controllers for `commonroom` and its children, once."""
        if self._ready:
            return
        if not self.is_root:
            self._move_hub_into_leaf()
        cgroupfs.write(self.own, "cgroup.subtree_control", _ENABLE)
        if not self.base.is_dir():
            cgroupfs.make(self.base)
        cgroupfs.write(self.base, "cgroup.subtree_control", _ENABLE)
        self._ready = True

    def _move_hub_into_leaf(self) -> None:
        leaf = self.own / "hub"
        if not leaf.is_dir():
            cgroupfs.make(leaf)
        for pid in cgroupfs.members(str(self.own)):
            try:
                cgroupfs.write(leaf, "cgroup.procs", str(pid))
            except LimitError:
                if Path(f"/proc/{pid}").exists():
                    raise
