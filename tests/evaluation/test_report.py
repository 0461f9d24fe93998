"""``make eval`` shows the previous run's figures beside the new ones, matched by section and
metric, so a change of world or engine shows by how much each figure moved."""

from __future__ import annotations

from tactful.evaluation.report import Metric, Section, previous_figures, render

OLD = [
    Section("Categories", "bank A", [Metric("accuracy", 0.979, ">= 0.95"), Metric("rows", 12)]),
    Section("Gone", "bank B", [Metric("accuracy", 0.5)]),
]
NEW = [
    Section("Categories", "bank A'", [Metric("accuracy", 0.912, ">= 0.95"), Metric("new", 1.0)]),
]


def test_an_earlier_report_reads_back_by_section_and_metric() -> None:
    when, figures = previous_figures(render(OLD, preamble="# E", machine="m"))
    assert figures == {
        ("Categories", "accuracy"): "0.979",
        ("Categories", "rows"): "12",
        ("Gone", "accuracy"): "0.500",
    }
    assert when[:2] == "20"


def test_the_new_report_puts_the_old_figure_beside_the_new() -> None:
    before = previous_figures(render(OLD, preamble="# E", machine="m"))
    text = render(NEW, preamble="# E", machine="m", before=before)
    assert f"| metric | measured | before ({before[0]}) | target | meets | note |" in text
    assert "| accuracy | 0.912 | 0.979 | >= 0.95 | **no** |  |" in text
    assert "| new | 1.000 |  |  |  |  |" in text


def test_without_a_previous_run_the_table_is_as_before() -> None:
    text = render(NEW, preamble="# E", machine="m")
    assert "| metric | measured | target | meets | note |" in text


def test_hand_written_notes_come_after_the_date_and_before_the_figures() -> None:
    notes = "## Why figures moved\n\n- accuracy fell 0.979 -> 0.912: a harder world."
    text = render(NEW, preamble="# E", machine="m", notes=notes)
    where = [text.index(s) for s in ("Last run:", "## Why figures moved", "## Categories")]
    assert where == sorted(where)
    assert previous_figures(text)[1] == {
        ("Categories", "accuracy"): "0.912",
        ("Categories", "new"): "1.000",
    }
