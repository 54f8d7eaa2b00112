"""The results table: every row of every section, both hubs' figures and Commonroom/JupyterHub, printed and
written as Markdown. A row nothing was measured for says why."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.figures import Figure, RowSpec, missing

SIDES = ("Commonroom", "JupyterHub")


@dataclass
class Section:
    title: str
    rows: list[RowSpec]


@dataclass
class Table:
    sections: list[Section]
    figures: dict[tuple[str, str], Figure] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def put(self, side: str, values: dict[str, Figure]) -> None:
        for key, figure in values.items():
            self.figures[(key, side)] = figure

    def fail_section(self, section: Section, side: str, why: str) -> None:
        """Every row of `section` not yet measured for `side` says why."""
        for row in section.rows:
            self.figures.setdefault((row.key, side), missing(why))

    def figure(self, key: str, side: str) -> Figure:
        return self.figures.get((key, side), missing("not measured"))

    def ratio(self, key: str) -> str:
        ours, theirs = (self.figure(key, side).value for side in SIDES)
        if ours is None or theirs is None or theirs <= 0:  # nothing to compare with (a cost lost in the noise)
            return "–"
        return f"{ours / theirs:.2f}"

    def markdown(self) -> str:
        lines = []
        for section in self.sections:
            lines += [f"### {section.title}", "", "| measurement | Commonroom | JupyterHub | CR/JH | note |"]
            lines.append("| --- | --- | --- | --- | --- |")
            for row in section.rows:
                cells = [self.figure(row.key, side).text(row.unit) for side in SIDES]
                lines.append(f"| {row.label} | {cells[0]} | {cells[1]} | {self.ratio(row.key)} | {self.notes.get(row.key, row.note)} |")
            lines.append("")
        return "\n".join(lines)
