"""Disk quotas on people's homes: Linux user quotas, set with `setquota` for the person's OS account.

A quota is a promise about storage, so a profile that asks for one where user quotas are off does not start
(the person and the log are told why) rather than run without it; the hub also warns about it at start.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from commonroom.limits.base import LimitError
from commonroom.limits.mounts import MountEntry, mount_of, parse_mounts

QUOTA_OPTIONS = frozenset({"usrquota", "usrjquota", "quota", "uquota"})
"""Mount options that turn user quotas on (ext4 and most others; xfs says uquota)."""


def quota_mount(home_root: Path, mountinfo: str, os_accounts: bool) -> MountEntry | str:
    """The filesystem on which homes under `home_root` get quotas, or why they cannot."""
    if not os_accounts:
        return "disk quotas are per OS account, and servers here run as the hub's own account (spawner.local.os_accounts)"
    mount = mount_of(home_root, parse_mounts(mountinfo))
    if mount is None or not mount.options & QUOTA_OPTIONS:
        where = f"{mount.fstype} on {mount.point}" if mount else "no mount found"
        return (f"the filesystem of {home_root} ({where}) has no user quotas: mount it with usrquota and turn them "
                "on (quotacheck -cum, quotaon)")  # fmt: skip
    if shutil.which("setquota") is None:
        return "the setquota command is missing: install the quota package"
    return mount


async def set_quota(account: str, size: int, home_root: Path, os_accounts: bool) -> None:
    """Limit what `account` may store on the filesystem of `home_root` to `size` bytes; LimitError says why not."""
    mount = quota_mount(home_root, Path("/proc/self/mountinfo").read_text(), os_accounts)
    if isinstance(mount, str):
        raise LimitError(mount)
    kib = str(max(1, size // 1024))
    proc = await asyncio.create_subprocess_exec(
        "setquota", "-u", account, kib, kib, "0", "0", mount.point,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await proc.communicate()
    if proc.returncode != 0:
        raise LimitError(f"setquota failed for {account} on {mount.point}: {output.decode(errors='replace').strip()}")
