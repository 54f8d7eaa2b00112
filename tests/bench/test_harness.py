"""`bench/run --short` still runs end to end and writes a table with every row: a figure for each hub, or
n/a with a reason. It checks that the harness works, never how fast anything is."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from bench.context import SHORT, Run
from bench.main import build_table
from bench.processes import Processes

ROOT = Path(__file__).resolve().parents[2]
CELL = re.compile(r"^(n/a \(.+\)|[\d,]+(\.\d+)? \S+)$")
RATIO = re.compile(r"^(–|\d+\.\d\d)$")


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


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_short_run_writes_every_row(tmp_path: Path) -> None:
    output = tmp_path / "latest.md"
    result = subprocess.run(
        [str(ROOT / "bench" / "run"), "--short", "--output", str(output)],
        capture_output=True, text=True, timeout=1100, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
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
