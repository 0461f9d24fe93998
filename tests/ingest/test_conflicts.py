"""A re-export that corrects a stored transaction's money is a conflict, never a duplicate.

On both stores: the conflict is counted (report, summary.json, the imports table), listed in
``import-<id>-<file>.conflicts.csv``, and resolved by the import's policy (keep or replace).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from tactful.cli.app import app
from tactful.ingest.loader import FileReport, Loader
from tactful.store import schema
from tactful.store.store import Store

HEADER = "account_id,transaction_id,booked_at,amount,currency,description\n"
FIRST = [
    "A1,T1,2024-03-01,-12.50,EUR,coffee",
    "A1,T2,2024-03-02,-3.00,EUR,bus",
    "A1,T3,2024-03-03,-40.00,EUR,groceries",
    "A1,T4,2024-03-04,-9.99,EUR,music",
]
# The bank's corrected re-export: T1 was a refund (sign), T2 another amount, currency and day,
# T3 only a new description (not money: a duplicate), T4 unchanged, T5 new.
CORRECTED = [
    "A1,T1,2024-03-01,12.50,EUR,coffee",
    "A1,T2,2024-03-05,-4.00,USD,bus",
    "A1,T3,2024-03-03,-40.00,EUR,groceries (corrected text)",
    "A1,T4,2024-03-04,-9.99,EUR,music",
    "A1,T5,2024-03-06,-1.00,EUR,new",
]
CONFLICTS = [
    ("A1:T1", "direction", "-1250", "1250", "line 2"),
    ("A1:T2", "amount_minor", "-300", "-400", "line 3"),
    ("A1:T2", "currency", "EUR", "USD", "line 3"),
    ("A1:T2", "booked_at", "2024-03-02T00:00:00+00:00", "2024-03-05T00:00:00+00:00", "line 3"),
]


def _file(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def _stored(store: Store) -> list[tuple[object, ...]]:
    t = schema.transactions
    query = select(t.c.external_id, t.c.amount_minor, t.c.currency, t.c.booked_at, t.c.description)
    return [(r[0], r[1], r[2], r[3].date().isoformat(), r[4]) for r in store.rows(
        query.order_by(t.c.id))]


def _conflicts_file(report: FileReport) -> list[tuple[str, ...]]:
    assert report.conflicts_path is not None
    name = f"import-{report.import_id}-corrected.csv.conflicts.csv"
    assert Path(report.conflicts_path).name == name
    with open(report.conflicts_path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["file"] for r in rows} == {report.path}
    return [(r["id"], r["field"], r["stored"], r["new"], r["location"]) for r in rows]


def _load_twice(
    store: Store, tmp_path: Path, batch_size: int = 50_000, **kw: object
) -> FileReport:
    loader = Loader(store, report_dir=tmp_path / "reports", batch_size=batch_size)
    loader.ingest([_file(tmp_path, "first.csv", FIRST)])
    with store.transaction() as conn:  # as if enriched
        conn.execute(update(schema.transactions).values(
            merchant="M", category="food", category_source="mcc", series_id="S1",
            category_confidence=0.9))
    again = Loader(store, report_dir=tmp_path / "reports", batch_size=batch_size,
                   **kw)  # type: ignore[arg-type]
    (report,) = again.ingest([_file(tmp_path, "corrected.csv", CORRECTED)]).files
    return report


@pytest.mark.parametrize("batch_size", [50_000, 2])
def test_keep_leaves_the_stored_money_and_reports_each_changed_field(
    store: Store, tmp_path: Path, batch_size: int
) -> None:
    report = _load_twice(store, tmp_path, batch_size)
    assert (report.inserted, report.updated, report.duplicates, report.conflicts) == (1, 0, 2, 2)
    assert report.on_conflict == "keep" and report.rejected == 0
    assert _conflicts_file(report) == CONFLICTS
    assert _stored(store) == [
        ("T1", -1250, "EUR", "2024-03-01", "coffee"),
        ("T2", -300, "EUR", "2024-03-02", "bus"),
        ("T3", -4000, "EUR", "2024-03-03", "groceries"),
        ("T4", -999, "EUR", "2024-03-04", "music"),
        ("T5", -100, "EUR", "2024-03-06", "new"),
    ]
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text())
    assert (summary[0]["conflicts"], summary[0]["conflicts_path"]) == (2, report.conflicts_path)
    i = schema.imports
    (stored_count,) = store.rows(select(i.c.conflicts).where(i.c.id == report.import_id))[0]
    assert stored_count == 2


def test_replace_takes_the_files_row_and_clears_its_enrichment(
    store: Store, tmp_path: Path
) -> None:
    report = _load_twice(store, tmp_path, on_conflict="replace")
    assert (report.inserted, report.updated, report.duplicates, report.conflicts) == (1, 2, 2, 2)
    assert _conflicts_file(report) == CONFLICTS  # the old values stay on record
    assert _stored(store) == [
        ("T1", 1250, "EUR", "2024-03-01", "coffee"),
        ("T2", -400, "USD", "2024-03-05", "bus"),
        ("T3", -4000, "EUR", "2024-03-03", "groceries"),
        ("T4", -999, "EUR", "2024-03-04", "music"),
        ("T5", -100, "EUR", "2024-03-06", "new"),
    ]
    t = schema.transactions
    rows = store.rows(select(
        t.c.external_id, t.c.import_id, t.c.merchant, t.c.category, t.c.category_source,
        t.c.series_id, t.c.category_confidence).order_by(t.c.id))
    replaced = {r[0]: tuple(r[1:]) for r in rows if r[0] in ("T1", "T2")}
    assert replaced == {k: (report.import_id, None, None, None, None, None) for k in ("T1", "T2")}
    assert [r[4] for r in rows if r[0] in ("T3", "T4")] == ["mcc", "mcc"]  # untouched


def test_an_identical_re_import_has_no_conflicts(store: Store, tmp_path: Path) -> None:
    loader = Loader(store, report_dir=tmp_path / "reports", on_conflict="replace")
    loader.ingest([_file(tmp_path, "first.csv", FIRST)])
    (again,) = loader.ingest([_file(tmp_path, "first.csv", FIRST)]).files
    assert (again.inserted, again.updated, again.duplicates, again.conflicts) == (0, 0, 4, 0)
    assert again.conflicts_path is None
    assert not list((tmp_path / "reports").glob("*.conflicts.csv"))


@pytest.mark.parametrize(("policy", "message"), [
    ("version", "on_conflict must be one of keep, replace, got 'version'"),
    ("", "on_conflict must be one of keep, replace, got ''"),
    ("KEEP", "on_conflict must be one of keep, replace, got 'KEEP'"),
])
def test_unknown_policies_are_refused(sqlite_store: Store, policy: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        Loader(sqlite_store, on_conflict=policy)


def test_the_cli_reports_conflicts_and_exits_3_when_it_kept_them(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    first = _file(tmp_path, "first.csv", FIRST)
    corrected = _file(tmp_path, "corrected.csv", CORRECTED)
    base = ["ingest", "--db", db, "--report-dir", str(tmp_path / "r")]
    assert runner.invoke(app, [*base, str(first)], catch_exceptions=False).exit_code == 0
    kept = runner.invoke(app, [*base, str(corrected)], catch_exceptions=False)
    assert kept.exit_code == 3, kept.output
    assert "2 stored transaction(s)" in kept.output and "(kept as stored)" in kept.output
    replaced = runner.invoke(
        app, [*base, "--on-conflict", "replace", str(corrected)], catch_exceptions=False
    )
    assert replaced.exit_code == 0, replaced.output
    assert "(replaced)" in replaced.output
    bad = runner.invoke(app, [*base, "--on-conflict", "version", str(corrected)])
    assert bad.exit_code == 2


@pytest.mark.parametrize("source_id", ['T"1', "T\\2", "T\\u001f3", "Tÿ😀4", "T,5"])
def test_ids_that_need_escaping_are_compared_too(
    store: Store, tmp_path: Path, source_id: str
) -> None:
    """The batch reaches SQLite as one JSON object: ids with quotes or backslashes must not
    break it or hide a conflict."""
    def export(amount: str) -> Path:
        path = tmp_path / f"export{amount}.jsonl"
        row = {"account_id": "A1", "transaction_id": source_id, "booked_at": "2024-03-01",
               "amount": amount, "currency": "EUR", "description": "x"}
        path.write_text(json.dumps(row) + "\n", encoding="utf-8")
        return path

    loader = Loader(store, report_dir=tmp_path / "reports")
    loader.ingest([export("-1.00")])
    (report,) = loader.ingest([export("-2.00")]).files
    assert (report.duplicates, report.conflicts) == (0, 1)
    assert report.conflicts_path is not None
    with open(report.conflicts_path, encoding="utf-8", newline="") as fh:
        (row,) = csv.DictReader(fh)
    assert (row["id"], row["stored"], row["new"]) == (f"A1:{source_id}", "-100", "-200")
