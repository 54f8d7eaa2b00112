"""How big a run is, and what every measurement gets to work with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.processes import Processes


@dataclass(frozen=True)
class Size:
    label: str
    many_users: int
    cold_starts: int
    create_users: int
    list_users: int
    get_samples: int
    spawn_cycles: int
    spawn_at_once: int
    ws_round_trips: int
    load_seconds: float
    route_table: int
    route_samples: int
    people: int
    people_gap: float
    """Seconds between one person's arrival and the next."""


FULL = Size(
    label="full", many_users=50_000, cold_starts=3, create_users=1_000, list_users=5_000, get_samples=200,
    spawn_cycles=3, spawn_at_once=10, ws_round_trips=200, load_seconds=4, route_table=5_000, route_samples=200,
    people=20, people_gap=3,
)  # fmt: skip
SHORT = Size(
    label="short", many_users=1_000, cold_starts=1, create_users=100, list_users=1_000, get_samples=30,
    spawn_cycles=1, spawn_at_once=2, ws_round_trips=30, load_seconds=0.5, route_table=1_000, route_samples=30,
    people=2, people_gap=1,
)  # fmt: skip


@dataclass
class Run:
    size: Size
    workdir: Path
    processes: Processes
