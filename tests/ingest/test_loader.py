"""The loader end to end, on both stores: what loads, what is rejected, and idempotency."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from tactful.ingest.loader import Loader, expand_paths
from tactful.store import schema
from tactful.store.store import Store

DATA = Path(__file__).parents[1] / "data"


def _load(store: Store, tmp_path: Path, *paths: Path, **kw: object) -> Loader:
    return Loader(store, report_dir=tmp_path / "reports", **kw)  # type: ignore[arg-type]


def _rejects(path: str | None) -> list[dict[str, str]]:
    assert path is not None
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_sample_exports_load_and_second_run_adds_nothing(store: Store, tmp_path: Path) -> None:
    files = expand_paths([DATA])
    first = _load(store, tmp_path).ingest(files)
    counts = store.counts()
    second = _load(store, tmp_path).ingest(files)
    assert first.inserted > 0 and first.rejected > 0
    assert second.inserted == 0
    assert sum(f.updated for f in second.files) == 0
    assert store.counts() == counts
    assert second.rejected == first.rejected
    for report in first.files:
        assert (report.rejects_path is not None) == (report.rejected > 0), report.path


def test_german_export_with_bom_semicolons_and_comma_decimals(
    sqlite_store: Store, tmp_path: Path
) -> None:
    report = _load(sqlite_store, tmp_path).ingest([DATA / "transactions_sparkasse_de.csv"])
    (f,) = report.files
    assert (f.format, f.kinds, f.rows_read, f.inserted, f.rejected) == (
        "csv",
        ["transactions"],
        12,
        10,
        2,
    )
    rows = sqlite_store.rows(
        select(schema.transactions.c.amount_minor, schema.transactions.c.description).order_by(
            schema.transactions.c.booked_at
        )
    )
    assert rows[0] == (-115000, "Miete Januar 2024 Whg 3.OG")
    # Two identical bakery purchases on one day are two purchases, not a duplicate.
    assert sum(1 for r in rows if r.description.startswith("KARTENZAHLUNG BACKWERK")) == 2
    assert [(r["location"], r["field"]) for r in _rejects(f.rejects_path)] == [
        ("line 12", "booked_at"),
        ("line 13", "amount"),
    ]


def test_us_export_rejects_each_bad_row_with_its_reason(
    sqlite_store: Store, tmp_path: Path
) -> None:
    (f,) = _load(sqlite_store, tmp_path).ingest([DATA / "transactions_checking_us.csv"]).files
    rejects = {r["location"]: r["reason"] for r in _rejects(f.rejects_path)}
    assert rejects == {
        "line 12": "duplicate id 'US-CHK-88231:TX-90009' with different content "
        "(first seen at line 11)",
        "line 13": "expected 10 fields (as in the header), found 11",
        "line 14": "unknown ISO 4217 currency code 'XYZ'",
    }
    assert (f.inserted, f.duplicates) == (9, 1)
    t = schema.transactions
    rows = dict(sqlite_store.rows(select(t.c.external_id, t.c.amount_minor)))
    assert rows["TX-90004"] == -4217 and rows["TX-90003"] == 41200
    status = dict(sqlite_store.rows(select(t.c.external_id, t.c.status)))
    assert status["TX-90005"] == "pending" and status["TX-90008"] == "declined"


def test_wrong_encoding_is_decoded_not_lost(sqlite_store: Store, tmp_path: Path) -> None:
    (f,) = _load(sqlite_store, tmp_path).ingest([DATA / "transactions_legacy_uk.csv"]).files
    assert f.rejected == 0 and f.inserted == 5
    assert f.notes[0] == "not UTF-8: decoded as cp1252"
    assert "1 account(s) not (yet) in the store" in f.notes[1]
    descriptions = sqlite_store.rows(select(schema.transactions.c.description))
    assert ("CAFÉ NERO 0211 – LONDON",) in [tuple(r) for r in descriptions]


def test_events_feed(sqlite_store: Store, tmp_path: Path) -> None:
    (f,) = _load(sqlite_store, tmp_path).ingest([DATA / "events.jsonl"]).files
    assert (f.inserted, f.rejected) == (10, 4)
    reasons = {r["location"]: r["reason"] for r in _rejects(f.rejects_path)}
    assert reasons["line 12"] == "must not be negative"
    assert reasons["line 13"].startswith("not valid JSON")
    e = schema.events
    attrs = sqlite_store.rows(select(e.c.attributes).where(e.c.id == "ev-7"))
    assert attrs[0][0] == {"campaign": "weekly_roundup"}


def test_crash_mid_import_leaves_whole_batches_and_rerun_completes(
    store: Store, tmp_path: Path
) -> None:
    source = DATA / "transactions_sparkasse_de.csv"
    crashing = _load(store, tmp_path, batch_size=4)
    crashing.fail_after_batches = 2
    with pytest.raises(RuntimeError, match="injected failure"):
        crashing.ingest([source])
    partial = store.counts()["transactions"]
    assert partial == 8  # two whole batches of four good rows, nothing of the third
    rerun = _load(store, tmp_path, batch_size=4).ingest([source])
    assert store.counts()["transactions"] == 10
    assert rerun.files[0].inserted == 2
    statuses = [
        r.status for r in store.rows(select(schema.imports.c.status).order_by(schema.imports.c.id))
    ]
    assert statuses == ["crashed", "done"]


def test_overlapping_statement_without_ids_adds_only_new_rows(store: Store, tmp_path: Path) -> None:
    header = "date,description,amount,currency,account\n"
    rows = [f"2024-01-0{d},COFFEE SHOP,-3.50,EUR,ACC-1\n" for d in (1, 2, 2, 3)]
    first = tmp_path / "jan_1_to_2.csv"
    second = tmp_path / "jan_2_to_3.csv"
    first.write_text(header + "".join(rows[:3]))
    second.write_text(header + "".join(rows[1:]))
    _load(store, tmp_path).ingest([first])
    report = _load(store, tmp_path).ingest([second])
    assert report.files[0].inserted == 1  # only Jan 3; both Jan 2 coffees were already there
    assert store.counts()["transactions"] == 4


def test_unreadable_file_is_one_reject_not_a_crash(sqlite_store: Store, tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01\x02 not a bank file")
    (f,) = _load(sqlite_store, tmp_path).ingest([junk]).files
    assert f.rejected == 1
    (reject,) = _rejects(f.rejects_path)
    assert reject["location"] == "file"
    assert "not a format Tactful reads" in reject["reason"] or "cannot tell" in reject["reason"]


def test_statement_balance_does_not_erase_the_owner(sqlite_store: Store, tmp_path: Path) -> None:
    _load(sqlite_store, tmp_path).ingest([DATA / "accounts.csv"])
    statement = tmp_path / "accounts_from_statement.csv"
    statement.write_text(
        "account_id,account_type,currency,balance,balance_as_of\n"
        "DE89370400440532013000,checking,EUR,2500.00,2024-04-30T23:59:59Z\n"
    )
    (f,) = _load(sqlite_store, tmp_path).ingest([statement]).files
    assert (f.inserted, f.updated) == (0, 1)
    a = schema.accounts
    row = sqlite_store.rows(select(a).where(a.c.id == "DE89370400440532013000"))[0]
    assert (row.customer_id, row.balance_minor) == ("C-1001", 250000)


@pytest.mark.parametrize(
    "name",
    [
        "transactions_sparkasse_de.csv",
        "transactions_legacy_uk.csv",
        "customers.csv",
        "accounts.csv",
        "consents.csv",
    ],
)
def test_fast_csv_path_reads_exactly_what_the_careful_path_reads(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tactful.ingest.mapping import Mapping
    from tactful.ingest.readers import tabular

    def chunks() -> list[tuple[str, list[dict[str, object]], list[str]]]:
        return [
            (c.kind.value, c.frame.to_dicts(), [str(r) for r in c.rejects])
            for c in tabular.CsvReader().read(DATA / name, Mapping(), 3)
        ]

    used: list[bool] = []
    real = tabular._polars_rows

    def spy(*args: object) -> object:
        result = real(*args)  # type: ignore[arg-type]
        used.append(result is not None)
        return result

    monkeypatch.setattr(tabular, "_polars_rows", spy)
    fast = chunks()
    assert used[-1]  # the fast path read this file
    monkeypatch.setattr(tabular, "_polars_rows", lambda *a: None)
    assert chunks() == fast


def test_a_folder_can_list_what_not_to_load(tmp_path: Path) -> None:
    (tmp_path / "truth").mkdir()
    (tmp_path / "truth" / "series.parquet").write_bytes(b"PAR1")
    (tmp_path / "scratch.tmp").write_text("x")
    (tmp_path / "transactions.csv").write_text("x")
    (tmp_path / ".tactfulignore").write_text("# the engine never reads the truth\ntruth/\n*.tmp\n")
    assert expand_paths([tmp_path]) == [tmp_path / "transactions.csv"]


def test_fast_json_lines_path_reads_what_the_careful_path_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tactful.ingest.mapping import Mapping
    from tactful.ingest.readers import tabular

    path = tmp_path / "events.jsonl"
    lines = [line for line in (DATA / "events.jsonl").read_text().splitlines()[:10]]
    path.write_text("\n".join(lines) + "\n")

    def chunks() -> list[tuple[str, list[dict[str, object]]]]:
        out = []
        for c in tabular.JsonLinesReader().read(path, Mapping(), 4):
            frame = c.frame.select(sorted(c.frame.columns))
            out.append((c.kind.value, frame.to_dicts()))
        return out

    assert tabular._polars_lines(path.read_text()) is not None
    fast = chunks()
    monkeypatch.setattr(tabular, "_polars_lines", lambda *a: None)
    slow = chunks()
    assert [k for k, _ in fast] == [k for k, _ in slow] == ["events"] * 3
    flat_fast = [r for _, rows in fast for r in rows]
    flat_slow = [r for _, rows in slow for r in rows]
    for a, b in zip(flat_fast, flat_slow, strict=True):
        a_attrs, b_attrs = a.pop("attributes", None), b.pop("attributes", None)
        assert {k: v for k, v in a.items() if v is not None} == {
            k: v for k, v in b.items() if v is not None
        }
        assert (json.loads(a_attrs) if a_attrs else None) == (
            json.loads(b_attrs) if b_attrs else None
        )
