"""Choosing how limits are enforced on this machine, from /proc/self/mountinfo and /proc/self/cgroup.

The parsing is I/O-free; `choose` only looks at the few cgroup files it names, under a `root` that tests
point at a folder shaped like /sys/fs/cgroup.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from commonroom.config.models import SpawnerConfig
from commonroom.limits import cgroup1, cgroup2, quota
from commonroom.limits.base import Enforcer, LimitError, Limits
from commonroom.limits.mounts import parse_mounts
from commonroom.limits.rlimit import Rlimits

log = logging.getLogger(__name__)
_CONTROLLERS = frozenset({"memory", "cpu", "pids", "cpuacct", "cpuset", "blkio", "devices", "freezer"})


@dataclass(frozen=True)
class CgroupMount:
    point: str
    """Where it is mounted, e.g. /sys/fs/cgroup/memory."""
    root: str
    """The cgroup the mount shows as its top (not "/" inside some containers)."""
    version: int
    controllers: frozenset[str]
    """v1: the controllers of this hierarchy; v2: empty (cgroup.controllers says)."""


def parse_mountinfo(text: str) -> list[CgroupMount]:
    """The cgroup and cgroup2 mounts listed in /proc/self/mountinfo text."""
    return [
        CgroupMount(entry.point, entry.root, 2 if entry.fstype == "cgroup2" else 1, entry.options & _CONTROLLERS)
        for entry in parse_mounts(text)
        if entry.fstype in ("cgroup", "cgroup2")
    ]


def parse_own(text: str) -> dict[str, str]:
    """The process's cgroup per controller from /proc/self/cgroup text; "" is the key of the v2 hierarchy."""
    own: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            own[""] = parts[2]
        for controller in parts[1].split(","):
            if controller and not controller.startswith("name="):
                own[controller] = parts[2]
    return own


def folder_of(mount: CgroupMount, own_path: str, root: Path) -> Path | None:
    """The folder of cgroup `own_path` in `mount` (re-rooted under `root`), None when the mount cannot show it."""
    mount_root = mount.root.rstrip("/")
    if own_path != mount_root and not own_path.startswith(mount_root + "/"):
        return None
    relative = own_path[len(mount_root) :].strip("/")
    return root / mount.point.lstrip("/") / relative


def _usable(folder: Path | None) -> bool:
    return folder is not None and folder.is_dir() and os.access(folder, os.W_OK)


def try_cgroup2(mounts: list[CgroupMount], own: dict[str, str], root: Path) -> Enforcer | str:
    """The cgroup v2 enforcer, or why it cannot be used."""
    mount = next((m for m in mounts if m.version == 2), None)
    if mount is None or "" not in own:
        return "no cgroup v2 hierarchy"
    folder = folder_of(mount, own[""], root)
    if folder is None or not _usable(folder):
        return f"the hub's cgroup v2 folder ({folder or own['']}) cannot be written"
    try:
        available = set((folder / "cgroup.controllers").read_text().split())
    except OSError:
        available = set()
    missing = [name for name in cgroup2.CONTROLLERS if name not in available]
    if missing:
        listed = ", ".join(sorted(available)) or "none"
        return f"cgroup v2 has no {', '.join(missing)} controller for the hub (it has: {listed})"
    return cgroup2.CgroupV2(folder, is_root=own[""] == mount.root)


def try_cgroup1(mounts: list[CgroupMount], own: dict[str, str], root: Path) -> Enforcer | str:
    """The cgroup v1 enforcer, or why it cannot be used."""
    bases: dict[str, Path] = {}
    for controller in cgroup1.CONTROLLERS:
        mount = next((m for m in mounts if m.version == 1 and controller in m.controllers), None)
        if mount is None or controller not in own:
            return f"no cgroup v1 {controller} hierarchy"
        folder = folder_of(mount, own[controller], root)
        if not _usable(folder):
            return f"the hub's cgroup v1 {controller} folder ({folder or own[controller]}) cannot be written"
        assert folder is not None
        bases[controller] = folder / "commonroom"
    return cgroup1.CgroupV1(bases)


def choose(preference: str, mountinfo: str, own_cgroups: str, root: Path = Path("/")) -> Enforcer:
    """The best enforcement allowed by `preference` (spawner.enforcement); LimitError when the one asked for
    is not available here."""
    mounts, own = parse_mountinfo(mountinfo), parse_own(own_cgroups)
    reasons = []
    for kind, attempt in (("cgroup2", try_cgroup2), ("cgroup1", try_cgroup1)):
        if preference not in ("auto", kind):
            continue
        found = attempt(mounts, own, root)
        if isinstance(found, Enforcer):
            return found
        if preference == kind:
            raise LimitError(f"spawner.enforcement = {kind!r}, but {found}. Set it to 'auto' to use what there is.")
        reasons.append(found)
    return Rlimits("; ".join(reasons) or "chosen in spawner.enforcement")


@functools.cache
def active(preference: str) -> Enforcer:
    """The enforcement of this hub process, chosen once (the spawners and the admin page share it)."""
    enforcer = choose(preference, Path("/proc/self/mountinfo").read_text(), Path("/proc/self/cgroup").read_text())
    log.info("resource limits: %s", enforcer.describe())
    return enforcer


def announce(config: SpawnerConfig) -> Enforcer:
    """Choose the enforcement as the hub starts and warn, in the log, about any profile limit it cannot hold.

    Raises LimitError when spawner.enforcement names a kind this machine does not have.
    """
    enforcer = active(config.enforcement)
    for profile in config.profiles:
        for gap in enforcer.gaps(Limits.of(profile)):
            log.warning("resource limits: profile %r: %s", profile.name, gap)
    if enforcer.kind == Rlimits.kind and any(Limits.of(profile).any for profile in config.profiles):
        log.warning("resource limits are weak on this machine: %s", enforcer.describe())
    quotas = [profile.name for profile in config.profiles if profile.disk_quota]
    if quotas:
        os_accounts = config.local.os_accounts == "always" or (config.local.os_accounts == "auto" and os.geteuid() == 0)
        found = quota.quota_mount(config.local.home_root, Path("/proc/self/mountinfo").read_text(), os_accounts)
        if isinstance(found, str):
            log.warning("disk quotas: servers of profiles %s will not start: %s", ", ".join(quotas), found)
    return enforcer
