"""What a measurement reports: one figure per hub for each row of the table, or why there is none."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    value: float | None
    why_missing: str = ""

    def text(self, unit: str) -> str:
        if self.value is None:
            return f"n/a ({self.why_missing})"
        return f"{_number(self.value)} {unit}".strip()


@dataclass(frozen=True)
class RowSpec:
    key: str
    label: str
    unit: str
    note: str = ""


def missing(why: str) -> Figure:
    return Figure(None, why)


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile of non-empty samples."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def ms(seconds: float) -> float:
    return seconds * 1000


def median_ms(samples: list[float]) -> Figure:
    return Figure(ms(statistics.median(samples))) if samples else missing("no samples")


def pct_ms(samples: list[float], pct: float) -> Figure:
    return Figure(ms(percentile(samples, pct))) if samples else missing("no samples")


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"
