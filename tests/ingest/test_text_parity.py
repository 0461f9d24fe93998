"""SQLite and PostgreSQL accept and reject the same text, and store it identically.

The same hostile rows go through a real ingest (JSON Lines and CSV readers, validator, loader,
bulk writer) on each store; what is stored is compared value by value with one expected table,
so the two stores are compared with each other through it. A NUL character is rejected on both
(PostgreSQL text cannot hold it; see ``ingest/text.py``), as is a lone UTF-16 surrogate and a
value longer than its column; everything else is stored exactly.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from tactful.ingest.loader import Loader
from tactful.store import schema
from tactful.store.store import Store

LONG = "é" * 100_000 + "😀"
NUL_REASON = "contains a NUL character (U+0000), which the store cannot hold"

# (transaction id, description, counterparty, expected reject as (field, reason) or None)
HOSTILE: list[tuple[str, str, str, tuple[str, str] | None]] = [
    ("nul", "coffee\x00shop", "x", ("description", NUL_REASON)),
    ("nul-only", "\x00", "x", ("description", NUL_REASON)),
    ("nul-counterparty", "coffee", "a\x00", ("counterparty", NUL_REASON)),
    ("copy-null", "\\N", "\\N", None),
    ("copy-null-inside", "a\\Nb", "\\N\\N", None),
    ("backslash", "C:\\temp\\new", "\\", None),
    ("backslashes", "\\\\N", "ends with \\", None),
    ("word-null", "NULL", "null", None),
    ("tab", "a\tb", "in\tside\t\tit", None),
    ("newline", "line 1\nline 2", "x\n\ny", None),
    ("carriage-return", "a\rb", "a\r\nb", None),
    ("quotes", 'say "hi", then leave', '"', None),
    ("astral", "café ☕ 😀 𝄞", "🏦", None),
    ("long-description", LONG, "x", None),
    ("counterparty-at-limit", "x", "c" * 200, None),
    ("counterparty-too-long", "x", "c" * 201,
     ("counterparty", "is longer than 200 characters (the store's limit)")),
]


def _jsonl(path: Path) -> Path:
    lines = [
        json.dumps({
            "account_id": "ACC-1", "transaction_id": tid, "booked_at": "2024-03-01",
            "amount": "-1.00", "currency": "EUR", "description": desc, "counterparty": cp,
        })
        for tid, desc, cp, _ in HOSTILE
    ]
    # A lone surrogate is valid JSON syntax but not a character: no store can hold it.
    lines.append(
        '{"account_id": "ACC-1", "transaction_id": "surrogate", "booked_at": "2024-03-01", '
        '"amount": "-1.00", "currency": "EUR", "description": "x\\ud800y"}'
    )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _csv(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\r\n")
        out.writerow(["account_id", "transaction_id", "booked_at", "amount", "currency",
                      "description", "counterparty"])
        for tid, desc, cp, _ in HOSTILE:
            out.writerow(["ACC-2", tid, "2024-03-01", "-1.00", "EUR", desc, cp])
    return path


def _stored(store: Store, account: str) -> dict[str, tuple[str, str | None]]:
    t = schema.transactions
    rows = store.rows(
        select(t.c.external_id, t.c.description, t.c.counterparty).where(t.c.account_id == account)
    )
    return {r.external_id: (r.description, r.counterparty) for r in rows}


def _rejects(path: str | None) -> dict[str, tuple[str, str]]:
    assert path is not None
    with open(path, encoding="utf-8", newline="") as fh:
        return {r["location"]: (r["field"], r["reason"]) for r in csv.DictReader(fh)}


@pytest.mark.parametrize("reader", ["jsonl", "csv"])
def test_hostile_text_is_stored_exactly_or_rejected_alike_on_both_stores(
    store: Store, tmp_path: Path, reader: str
) -> None:
    path = _jsonl(tmp_path / "hostile.jsonl") if reader == "jsonl" else _csv(
        tmp_path / "hostile.csv")
    (report,) = Loader(store, report_dir=tmp_path / "reports").ingest([path]).files
    account = "ACC-1" if reader == "jsonl" else "ACC-2"
    expected = [reject for *_, reject in HOSTILE if reject is not None]
    got = _rejects(report.rejects_path)
    in_line_order = [got[k] for k in sorted(got, key=lambda loc: int(loc.split()[1]))]
    if reader == "jsonl":
        surrogate = ("description",
                     "holds a lone UTF-16 surrogate (\\ud800), which is not a character")
        assert in_line_order == [*expected, surrogate]
        assert list(got) == ["line 17", "line 1", "line 2", "line 3", "line 16"]
    else:
        assert in_line_order == expected
    assert _stored(store, account) == {
        tid: (desc, cp)
        for tid, desc, cp, reject in HOSTILE
        if reject is None
    }
    assert report.inserted == sum(1 for *_, reject in HOSTILE if reject is None)


def test_a_rejected_nul_does_not_stop_the_rows_after_it(store: Store, tmp_path: Path) -> None:
    """The batch with the NUL loads its other rows, and the batches after it load too."""
    rows = [
        {"account_id": "A", "transaction_id": f"T{i}", "booked_at": "2024-03-01",
         "amount": "-1.00", "currency": "EUR", "description": "\x00" if i == 3 else f"row {i}"}
        for i in range(10)
    ]
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    loader = Loader(store, report_dir=tmp_path / "reports", batch_size=2)
    (report,) = loader.ingest([path]).files
    (again,) = loader.ingest([path]).files
    assert (report.inserted, report.rejected) == (9, 1)
    assert (again.inserted, again.duplicates, again.rejected) == (0, 9, 1)
    assert store.counts()["transactions"] == 9
