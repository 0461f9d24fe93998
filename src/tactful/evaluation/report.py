"""Evaluation results as rows a person can read: a figure, the target it answers, and whether it
meets it; written to ``docs/evaluation.md`` and printed by ``make eval``.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def render(sections: Sequence[Section], *, preamble: str, machine: str) -> str:
    """The whole ``docs/evaluation.md``."""
    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    out = [preamble.rstrip(), "", f"Last run: {when} on {machine}.", ""]
    for s in sections:
        out += [f"## {s.title}", "", f"Data: {s.data}", ""]
        rows = []
        for m in s.metrics:
            verdict = {True: "yes", False: "**no**", None: ""}[m.passed]
            rows.append((m.name, m.shown(), m.target or "", verdict, m.note))
        out += [markdown_table(("metric", "measured", "target", "meets", "note"), rows), ""]
        for title, table in s.tables:
            out += [f"**{title}**", "", table, ""]
        out += [f"- {n}" for n in s.notes]
        if s.notes:
            out.append("")
    return "\n".join(out)
