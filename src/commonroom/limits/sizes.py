"""Reading the sizes and CPU amounts admins write in profiles ("2G", "512M", 1.5 cores), without I/O."""

from __future__ import annotations

import re

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B?)?\s*$", re.I)
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
CPU_PERIOD_US = 100_000
"""The CFS period the cpu controller divides time into; a quota of 1.5 periods is 1.5 cores."""


def parse_size(text: str) -> int:
    """Bytes in "2G", "512M", "1.5GiB", "1048576" (binary units: 1K = 1024); ValueError says what is accepted."""
    match = _SIZE.match(text)
    if not match or float(match[1]) <= 0:
        raise ValueError(f"{text!r} is not a size: write a positive number with K, M, G or T, e.g. '512M' or '2G'")
    return int(float(match[1]) * _UNITS[match[2].upper()])


def format_size(size: int) -> str:
    """A size for people: the largest binary unit that keeps it at or above 1, e.g. 314572800 -> '300 MB'."""
    for unit in ("T", "G", "M", "K"):
        if size >= _UNITS[unit]:
            return f"{size / _UNITS[unit]:.3g} {unit}B"
    return f"{size} bytes"


def cpu_quota_us(cores: float) -> int:
    """The CFS quota per CPU_PERIOD_US that allows `cores` CPUs (at least 1 ms, the kernel's minimum)."""
    return max(1000, round(cores * CPU_PERIOD_US))
