"""Evaluation results as rows a person can read: a figure, the target it answers, and whether it
meets it; written to ``docs/evaluation.md`` and printed by ``make eval``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class Metric:
    """One measured figure. ``target`` is a comparison such as ``>= 0.95`` or None."""

    name: str
    value: float | int | None
    target: str | None = None
    note: str = ""

    @property
    def passed(self) -> bool | None:
        if self.target is None or self.value is None:
            return None
        op, _, bound = self.target.partition(" ")
        limit = float(bound)
        checks = {">=": self.value >= limit, "<=": self.value <= limit,
                  ">": self.value > limit, "<": self.value < limit}
        if op not in checks:
            raise ValueError(f"metric {self.name!r}: target {self.target!r} is not 'OP NUMBER'")
        return bool(checks[op])

    def shown(self) -> str:
        if self.value is None:
            return "n/a"
        if isinstance(self.value, int):
            return f"{self.value:,}"
        return f"{self.value:.3f}" if abs(self.value) < 100 else f"{self.value:,.1f}"


@dataclass(frozen=True)
class Section:
    """A group of metrics on one data set, with what the reader needs to judge them."""

    title: str
    data: str
    metrics: Sequence[Metric]
    notes: Sequence[str] = field(default_factory=tuple)
    tables: Sequence[tuple[str, str]] = field(default_factory=tuple)  # (title, markdown table)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


Before = Mapping[tuple[str, str], str]
"""A previous run's figures by (section title, metric name), as they were shown."""


def previous_figures(markdown: str) -> tuple[str, Before]:
    """The figures of an earlier ``docs/evaluation.md`` and when it ran, so a new run can show
    them beside its own: when the simulated world or the engine changes, a reader sees by how
    much each figure moved instead of a new number with no history."""
    when = re.search(r"^Last run: (\S+)", markdown, re.M)
    figures: dict[tuple[str, str], str] = {}
    section = ""
    for line in markdown.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        elif line.startswith("| ") and section:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 2 and cells[0] not in ("metric", "") and not cells[0].startswith("-"):
                figures.setdefault((section, cells[0]), cells[1])
    return (when.group(1) if when else "earlier"), figures


def render(
    sections: Sequence[Section],
    *,
    preamble: str,
    machine: str,
    before: tuple[str, Before] | None = None,
    notes: str = "",
) -> str:
    """The whole ``docs/evaluation.md``; with ``before``, each metric table gains a column of
    the previous run's figure for the same section and metric. ``notes`` (markdown written by
    hand, such as why figures moved with a change of world) comes before the first section."""
    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    out = [preamble.rstrip(), "", f"Last run: {when} on {machine}.", ""]
    if notes.strip():
        out += [notes.strip(), ""]
    header: tuple[str, ...] = ("metric", "measured", "target", "meets", "note")
    if before is not None:
        header = ("metric", "measured", f"before ({before[0]})", "target", "meets", "note")
    for s in sections:
        out += [f"## {s.title}", "", f"Data: {s.data}", ""]
        rows = []
        for m in s.metrics:
            verdict = {True: "yes", False: "**no**", None: ""}[m.passed]
            row: tuple[str, ...] = (m.name, m.shown(), m.target or "", verdict, m.note)
            if before is not None:
                row = (m.name, m.shown(), before[1].get((s.title, m.name), ""), *row[2:])
            rows.append(row)
        out += [markdown_table(header, rows), ""]
        for title, table in s.tables:
            out += [f"**{title}**", "", table, ""]
        out += [f"- {n}" for n in s.notes]
        if s.notes:
            out.append("")
    return "\n".join(out)
