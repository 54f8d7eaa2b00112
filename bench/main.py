"""`bench/run [--short]`: Commonroom and JupyterHub side by side on this machine, one table.

Both hubs run at the same time on free loopback ports; per-hub measurements alternate which hub goes first.
Every process started here is stopped at the end, also after a failure or Ctrl-C."""

from __future__ import annotations

import argparse
import gc
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType

from bench import tools
from bench.context import FULL, SHORT, Run
from bench.figures import Figure
from bench.hubs import CommonroomHub, Hub, JupyterHubHub
from bench.measure import api, people, proxies, routes, singleuser, spawn, startup
from bench.processes import Processes, kill_marked
from bench.report import SIDES, Section, Table

RESULTS = Path(__file__).parent / "results"
Measure = Callable[[Run, Hub], dict[str, Figure]]
PROXY_SECTIONS = ("c.", "g.")


def build_table(run: Run) -> Table:
    many = f"{run.size.many_users:,}"
    return Table([
        Section("a/f. Cold start and memory, empty database", startup.rows("0", "0", run.size.cold_starts)),
        Section(f"a/f. Cold start and memory, {many} users in the database", startup.rows("many", many, 1)),
        Section("b. Spawn and stop (REST API)", spawn.rows(run)),
        Section("d/f. Single-user server through the hub's proxy", singleuser.rows(run)),
        Section("e. REST API", api.rows(run)),
        Section(f"h. {run.size.people} people arriving {run.size.people_gap:g} s apart, browser flow", people.rows(run)),
        Section("c. Proxy alone (Commonroom column: commonroom proxy; JupyterHub column: CHP)", proxies.rows(run)),
        Section("g. Proxy route table", routes.rows(run)),
    ])  # fmt: skip


# --only NAME: the sections measured, and for hub rows the measurement and the users it needs.
ONLY: dict[str, tuple[str, ...]] = {"spawn": ("b.",), "singleuser": ("d/f.",), "api": ("e.",), "proxy": PROXY_SECTIONS}
HUB_ROWS: dict[str, tuple[Measure, Callable[[Run], list[str]]]] = {
    "spawn": (spawn.measure, spawn.users), "singleuser": (singleuser.measure, singleuser.users),
    "api": (api.measure, lambda run: []),
}  # fmt: skip


def only_table(run: Run, name: str) -> Table:
    return Table([section for section in build_table(run).sections if section.title.startswith(ONLY[name])])


def measure_only(run: Run, table: Table, hubs: list[Hub], name: str) -> None:
    """`--only NAME`: one part's rows alone (a few minutes), for working on that part's speed."""
    if name == "proxy":
        measure_proxies(run, table)
        return
    measure, users = HUB_ROWS[name]
    with _timed("preparing both hubs' databases and tokens"):
        hubs = [hub for hub in hubs if _prepared(table, hub)]
    for hub in hubs:
        hub.add_users(users(run))
        hub.start()
    _per_hub(run, table, hubs, ONLY[name][0], measure, 0)


def _section(table: Table, title_start: str) -> Section:
    return next(s for s in table.sections if s.title.startswith(title_start))


@contextmanager
def _timed(what: str) -> Iterator[None]:
    """Say on the console how long each part of the run took."""
    began = time.monotonic()
    try:
        yield
    finally:
        print(f"bench: {what}: {time.monotonic() - began:.1f} s", flush=True)


def _fail(table: Table, section: Section, sides: Sequence[str], exc: Exception) -> None:
    """One failed measurement must not cost the others their rows: its rows say what went wrong."""
    traceback.print_exc()
    for side in sides:
        table.fail_section(section, side, f"error: {type(exc).__name__}: {str(exc)[:120]}")


@contextmanager
def _no_gc() -> Iterator[None]:
    """The harness's own garbage collection kept out of the timings, as timeit does: collected before, paused
    during (a full collection of what earlier steps left in the harness took tens of ms inside a timed call)."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _attempt(table: Table, section: Section, side: str, action: Callable[[], dict[str, Figure]]) -> None:
    with _timed(f"{section.title[:40]} / {side}"):
        try:
            with _no_gc():
                figures = action()
            table.put(side, figures)
        except Exception as exc:
            _fail(table, section, [side], exc)


def _per_hub(run: Run, table: Table, hubs: list[Hub], title_start: str, measure: Measure, turn: int) -> None:
    """Each hub in turn (alternating which goes first), once both are quiet: they run side by side."""
    section = _section(table, title_start)
    for hub in hubs if turn % 2 == 0 else hubs[::-1]:
        for either in hubs:
            either.settle()
        _attempt(table, section, hub.name, lambda hub=hub: measure(run, hub))  # type: ignore[misc]


def _cold_start(table: Table, hubs: list[Hub], population: str, repeats: int, title_start: str) -> None:
    section = _section(table, title_start)
    with _timed(f"cold starts, {population} users"):
        try:
            for side, figures in startup.cold_starts(hubs, population, repeats).items():
                table.put(side, figures)
        except Exception as exc:
            _fail(table, section, SIDES, exc)


def _prepared(table: Table, hub: Hub) -> bool:
    """Prepare a hub; one that cannot be prepared gets every one of its rows marked with the reason."""
    try:
        hub.prepare()
        return True
    except Exception as exc:
        for section in table.sections:
            if not section.title.startswith(PROXY_SECTIONS):
                _fail(table, section, [hub.name], exc)
        return False


def measure_hubs(run: Run, table: Table, hubs: list[Hub]) -> None:
    with _timed("preparing both hubs' databases and tokens"):
        hubs = [hub for hub in hubs if _prepared(table, hub)]
    _cold_start(table, hubs, "0", run.size.cold_starts, "a/f. Cold start and memory, empty")
    for hub in hubs:
        hub.add_users([*spawn.users(run), *singleuser.users(run)])
        hub.add_users(people.users(run), password_users=True)
    steps: list[tuple[str, Measure]] = [
        ("b.", spawn.measure), ("d/f.", singleuser.measure), ("e.", api.measure), ("h.", people.measure),
    ]  # fmt: skip
    for turn, (title_start, measure) in enumerate(steps):
        _per_hub(run, table, hubs, title_start, measure, turn)
    with _timed(f"filling both databases to {run.size.many_users:,} users"):
        for hub in hubs:
            hub.stop()
            hub.add_users(f"many-{i:06d}" for i in range(max(0, run.size.many_users - hub.user_count())))
    # One start each: with many users a start can take minutes, and the full run has to fit in ~15 minutes.
    _cold_start(table, hubs, "many", 1, f"a/f. Cold start and memory, {run.size.many_users:,}")
    for hub in hubs:
        hub.stop()


def measure_proxies(run: Run, table: Table) -> None:
    for title_start, measure in zip(PROXY_SECTIONS, (proxies.measure, routes.measure), strict=True):
        section = _section(table, title_start)
        with _timed(section.title[:40]):
            try:
                by_side, notes = measure(run)
                for side, figures in by_side.items():
                    table.put(side, figures)
                table.notes.update(notes)
            except Exception as exc:
                _fail(table, section, SIDES, exc)


def header(run: Run, command: str, seconds: float) -> str:
    cpu = platform.processor() or platform.machine()
    return "\n".join([
        "# Commonroom vs JupyterHub: benchmark results", "",
        f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; command: `{command}` ({run.size.label} run, "
        f"{seconds / 60:.1f} min)",
        f"- machine: {platform.node()}, {os.cpu_count()} cores ({cpu}), {_memory_gib():.0f} GiB, {platform.platform()}",
        "- **shared and noisy**: other engineers' builds and tests ran on the same 2 cores during the run; "
        "treat differences under ~1.5x as noise",
        "- JupyterHub 6.1.1 (SimpleLocalProcessSpawner, DummyAuthenticator, SQLite) with configurable-http-proxy "
        f"5.3; Commonroom from the working tree at {_commit()} (local spawner with os_accounts = \"never\", "
        "native accounts, SQLite). "
        "Both run servers as the hub's own user, JupyterLab single-user servers, ports on 127.0.0.1.",
        "- CR/JH below 1 means Commonroom takes less (time, memory) — except for req/s rows and the success "
        "rate, where above 1 means Commonroom does more.", "",
    ])  # fmt: skip


def _commit() -> str:
    """The commit Commonroom was measured at (bench/run installs the working tree, so uncommitted changes count)."""
    def git(*args: str) -> str:
        found = subprocess.run(["git", *args], cwd=Path(__file__).parent, capture_output=True, text=True, check=False)
        return found.stdout.strip()

    dirty = " + uncommitted changes in src/" if git("status", "--porcelain", "--", "../src") else ""
    return (git("rev-parse", "--short", "HEAD") or "an unknown commit") + dirty


def _memory_gib() -> float:
    meminfo = Path("/proc/meminfo").read_text().split()
    return int(meminfo[meminfo.index("MemTotal:") + 1]) / 2**20


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument("--short", action="store_true", help="small sizes, under 3 minutes (CI)")
    parser.add_argument("--output", type=Path, help="Markdown results file (default: results/latest.md, or "
                        "results/only-NAME.md with --only)")
    parser.add_argument("--only", choices=sorted(ONLY), help="measure only these rows (spawn: b., singleuser: d/f., "
                        "api: e., proxy: c. and g.; a few minutes each)")
    args = parser.parse_args(argv)
    output: Path = args.output or RESULTS / (f"only-{args.only}.md" if args.only else "latest.md")
    if absent := tools.missing_tools():
        print(f"bench: missing {', '.join(absent)}; run bench/run, which installs them", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _on_sigterm)
    workdir = Path(tempfile.mkdtemp(prefix="crbench-"))
    workdir.chmod(0o755)
    run = Run(SHORT if args.short else FULL, workdir, Processes(workdir))
    hubs: list[Hub] = [CommonroomHub(workdir / "commonroom", run.processes), JupyterHubHub(workdir / "jupyterhub", run.processes)]
    table = only_table(run, args.only) if args.only else build_table(run)
    began = time.monotonic()
    try:
        if args.only:
            measure_only(run, table, hubs, args.only)
        else:
            measure_hubs(run, table, hubs)
            measure_proxies(run, table)
    except BaseException:
        print(f"bench: stopped early; logs of every process are in {workdir}", file=sys.stderr)
        raise
    finally:
        for hub in hubs:
            hub.stop()
        run.processes.stop_all()
        kill_marked(str(workdir))
    command = "bench/run" + (" --short" if args.short else "") + (f" --only {args.only}" if args.only else "")
    text = header(run, command, time.monotonic() - began) + table.markdown()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(text)
    print(f"written to {output}")
    print(f"bench: the logs of every process are in {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
