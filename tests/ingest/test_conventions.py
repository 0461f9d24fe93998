"""Decimal mark and date order: decided once per file from all of it, or refused with the reason.

Decided per batch, a 1M-row US export read with ``--batch-size 10000`` had 26.8% of its dates
day-first, and a re-import with another batch size read them differently and added duplicates.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

from tactful.errors import IngestError
from tactful.ingest.conventions import Evidence, gather, settle
from tactful.ingest.loader import Loader
from tactful.ingest.schema import RecordKind, SourceOptions
from tactful.store import schema
from tactful.store.store import Store


def _us_export(path: Path, days: int) -> list[date]:
    """One purchase a day from 1 January, month/day/year, in date order (as banks export)."""
    dates = [date(2024, 1, 1) + timedelta(days=i) for i in range(days)]
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["Account", "Posted Date", "Amount", "Currency", "Description"])
        for i, d in enumerate(dates):
            out.writerow(["CHK-1", d.strftime("%m/%d/%Y"), f"-{i + 1}.25", "USD", "COFFEE"])
    return dates


def test_us_dates_are_read_alike_whatever_the_batch_size(store: Store, tmp_path: Path) -> None:
    """The first 10 rows alone (1-10 January) do not tell the order; the file does."""
    path = tmp_path / "us_export.csv"
    dates = _us_export(path, 40)
    first = Loader(store, report_dir=tmp_path / "r1", batch_size=10).ingest([path]).files[0]
    again = Loader(store, report_dir=tmp_path / "r2", batch_size=25).ingest([path]).files[0]
    booked = store.rows(
        select(schema.transactions.c.booked_at).order_by(schema.transactions.c.booked_at)
    )
    assert [b.date() for (b,) in booked] == dates
    assert (first.inserted, first.rejected) == (40, 0)
    assert (again.inserted, again.duplicates, again.rejected) == (0, 40, 0)


def _refused(tmp_path: Path, store: Store, rows: list[tuple[str, str]], **mapping: str) -> str:
    path = tmp_path / "t.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["account_id", "booked_at", "amount", "currency"])
        out.writerows([("A1", booked, amount, "EUR") for booked, amount in rows])
    kw: dict[str, object] = {}
    if mapping:
        spec = tmp_path / "m.toml"
        spec.write_text(
            "[source]\n" + "".join(f"{k} = {v}\n" for k, v in mapping.items()), encoding="utf-8"
        )
        from tactful.ingest.mapping import Mapping

        kw["mapping"] = Mapping.load(spec)
    (report,) = Loader(store, report_dir=tmp_path / "rep", **kw).ingest([path]).files  # type: ignore[arg-type]
    if report.rejects_path is None:
        return ""
    with open(report.rejects_path, encoding="utf-8", newline="") as fh:
        return "; ".join(f"{r['location']}: {r['reason']}" for r in csv.DictReader(fh))


@pytest.mark.parametrize(
    ("rows", "mapping", "expected"),
    [
        (
            [("01/02/2024", "1.50"), ("03/04/2024", "2.50")],
            {},
            "file: the date order cannot be told: no date has a day above 12 and '01/02/2024' "
            "reads day first or month first; set day_first or date_format in the mapping",
        ),
        ([("01/02/2024", "1.50"), ("03/04/2024", "2.50")], {"day_first": "false"}, ""),
        (
            [("13/01/2024", "1.50"), ("01/13/2024", "2.50")],
            {},
            "file: the date order is ambiguous: 1 date(s) read only day first and 1 only month "
            "first; set day_first or date_format in the mapping",
        ),
        (
            [("01/13/2024", "1.50"), ("01/14/2024", "2.50"), ("13/01/2024", "3.50")],
            {},
            "line 4: '13/01/2024' does not fit the file's date order (month/day/year)",
        ),
        (
            [("2024-01-05", "1,230"), ("2024-01-06", "7")],
            {},
            "file: the decimal mark cannot be told: no amount reads with one mark only and "
            "'1,230' reads with either; set decimal in the mapping",
        ),
        ([("2024-01-05", "1,230"), ("2024-01-06", "7")], {"decimal": '","'}, ""),
        (
            [("2024-01-05", "12,50"), ("2024-01-06", "1,234.50")],
            {},
            "file: the decimal mark is ambiguous: 1 amount(s) read only with ',' and 1 only with "
            "'.'; set decimal in the mapping",
        ),
        ([("05.01.2024", "1.234,50"), ("06.02.2024", "7")], {}, ""),
    ],
)
def test_a_file_that_leaves_a_convention_open_is_refused_with_the_reason(
    sqlite_store: Store,
    tmp_path: Path,
    rows: list[tuple[str, str]],
    mapping: dict[str, str],
    expected: str,
) -> None:
    assert _refused(tmp_path, sqlite_store, rows, **mapping) == expected


@pytest.mark.parametrize(
    ("amounts", "currency", "evidence"),
    [
        (["12,50", "0,5", "1.234,56", "1.234.567"], "EUR", Evidence(comma=4)),
        (["12.50", "1,234.56", "1,234,567", "1,234"], "EUR", Evidence(dot=4)),
        (["1,234"], "KWD", Evidence(amount_either="1,234")),
        (["1.500"], "EUR", Evidence(amount_either="1.500")),
        (["100", "7", "1,2,3"], "EUR", Evidence()),
    ],
)
def test_amounts_that_tell_the_decimal_mark(
    amounts: list[str], currency: str, evidence: Evidence
) -> None:
    frame = pl.DataFrame(
        {"booked_at": ["2024-01-05"] * len(amounts), "amount": amounts, "currency": currency}
    )
    assert gather(frame, RecordKind.TRANSACTION, SourceOptions()) == evidence


def test_evidence_adds_up_across_slices() -> None:
    frame = pl.DataFrame(
        {"booked_at": ["01/02/2024", "01/13/2024"], "amount": ["1", "2"], "currency": "USD"}
    )
    whole = gather(frame, RecordKind.TRANSACTION, SourceOptions())
    parts = gather(frame.head(1), RecordKind.TRANSACTION, SourceOptions()) + gather(
        frame.tail(1), RecordKind.TRANSACTION, SourceOptions()
    )
    assert whole == parts == Evidence(month_first=1, date_either="01/02/2024")
    assert settle(parts, SourceOptions(), "f").day_first is False
    with pytest.raises(IngestError, match="date order cannot be told"):
        settle(gather(frame.head(1), RecordKind.TRANSACTION, SourceOptions()), SourceOptions(), "f")
