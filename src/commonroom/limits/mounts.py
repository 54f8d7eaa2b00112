"""Lines of /proc/self/mountinfo, parsed without I/O (cgroup detection and disk quotas both read them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MountEntry:
    point: str
    """Where it is mounted."""
    root: str
    """The folder of the filesystem shown at the mount point ("/" unless a bind or container mount)."""
    fstype: str
    options: frozenset[str]
    """Per-mount and filesystem options together, e.g. rw, relatime, usrquota, memory."""


def parse_mounts(text: str) -> list[MountEntry]:
    entries = []
    for line in text.splitlines():
        before, sep, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if not sep or len(fields) < 6 or len(tail) < 3:
            continue
        options = frozenset(fields[5].split(",")) | frozenset(tail[2].split(","))
        entries.append(MountEntry(_unescape(fields[4]), _unescape(fields[3]), tail[0], options))
    return entries


def _unescape(path: str) -> str:
    """mountinfo writes space, tab, newline and backslash in octal (\\040)."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        path = path.replace(code, char)
    return path


def mount_of(path: Path, entries: list[MountEntry]) -> MountEntry | None:
    """The mount that holds `path`: the last-mounted one with the longest mount point above it."""
    target, best = str(path), None
    for entry in entries:
        inside = target == entry.point or target.startswith(entry.point.rstrip("/") + "/")
        if inside and (best is None or len(entry.point) >= len(best.point)):
            best = entry
    return best
