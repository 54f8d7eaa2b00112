"""`bench/run --short` still runs end to end and writes a table with every row: a figure for each hub, or
n/a with a reason. It checks that the harness works, never how fast anything is."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from bench.context import SHORT, Run
from bench.main import HUB_ROWS, ONLY, build_table, only_table
from bench.processes import Processes

ROOT = Path(__file__).resolve().parents[2]
CELL = re.compile(r"^(n/a \(.+\)|-?[\d,]+(\.\d+)? \S+)$")  # negative: a cost lost in the noise
RATIO = re.compile(r"^(–|-?\d+\.\d\d)$")


def _sections(markdown: str) -> dict[str, list[list[str]]]:
    """Section title → table rows (cells), from the results file."""
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    for line in markdown.splitlines():
        if line.startswith("### "):
            current = sections.setdefault(line[4:], [])
        elif line.startswith("| ") and not line.startswith(("| measurement", "| ---")):
            current.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return sections


def _run(argv: list[str], timeout: float) -> tuple[int, str]:
    """Run the harness; past the timeout, SIGTERM it so that it still stops everything it started."""
    env = {**os.environ, "BENCH_KEEP_INSTALL": "1"}  # the suite runs on the working tree installed already
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) as proc:
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.terminate()
            out, _ = proc.communicate(timeout=120)
            raise AssertionError(f"bench/run --short did not finish in {timeout:g} s:\n{out[-6000:]}") from None
    return proc.returncode, out


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_short_run_writes_every_row(tmp_path: Path) -> None:
    output = tmp_path / "latest.md"
    returncode, log = _run([str(ROOT / "bench" / "run"), "--short", "--output", str(output)], timeout=1100)
    assert returncode == 0, log[-6000:]
    found = _sections(output.read_text())
    expected = build_table(Run(SHORT, tmp_path, Processes(tmp_path)))
    for section in expected.sections:
        assert section.title in found, f"section missing: {section.title}"
        rows = found[section.title]
        assert [cells[0] for cells in rows] == [row.label for row in section.rows]
        for cells in rows:
            label, commonroom, jupyterhub, ratio = cells[:4]
            assert CELL.match(commonroom) and CELL.match(jupyterhub), cells
            assert RATIO.match(ratio), cells


@pytest.mark.parametrize("name", sorted(ONLY))
def test_only_measures_its_own_sections(name: str, tmp_path: Path) -> None:
    run = Run(SHORT, tmp_path, Processes(tmp_path))
    everything = [section.title for section in build_table(run).sections]
    chosen = [section.title for section in only_table(run, name).sections]
    assert chosen and set(chosen) <= set(everything)
    assert all(title.startswith(ONLY[name]) for title in chosen)
    assert name == "proxy" or name in HUB_ROWS
