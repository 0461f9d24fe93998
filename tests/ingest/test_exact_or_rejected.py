"""Every value is read exactly or rejected with its line and reason (issue 14, items 1-6).

Each case below loaded with exit 0 and no reject before: a comma in a dot-decimal column read as a
thousands separator, 17 digits of EUR wrapping around int64, MT940 amounts and dates read as
something else, fractional minor units truncated, a second amount column and short rows
ignored. Each is now a reject (or a refused file) naming where and why, on both stores.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

from tactful.ingest.loader import FileReport, Loader
from tactful.store import schema
from tactful.store.store import Store

Write = Callable[[Path], None]


def _text(content: str) -> Write:
    return lambda path: path.write_text(content, encoding="utf-8")


def _parquet(**columns: list[object]) -> Write:
    return lambda path: pl.DataFrame(columns).write_parquet(path)


MT940_HEAD = ":20:STMT1\n:25:DE89370400440532013000\n:28C:1/1\n:60F:C240201EUR100,00\n"
MT940_TAIL = ":62F:C240229EUR98,00\n"


@dataclass(frozen=True)
class Case:
    item: str
    name: str
    write: Write
    rejects: list[tuple[str, str, str]]  # (location, field, reason)
    amounts: list[int]  # what loaded, in minor units, by booking date


CASES = [
    Case(
        "1: a comma in a column of dot decimals",
        "dots.csv",
        _text(
            "account_id,booked_at,amount,currency\n"
            "A1,2024-01-05,1.50,EUR\n"
            "A1,2024-01-06,2.25,EUR\n"
            'A1,2024-01-07,"-12,34",EUR\n'
            'A1,2024-01-08,"1,2,3",EUR\n'
            'A1,2024-01-09,"1,234.50",EUR\n'
        ),
        [
            ("line 4", "amount", "'-12,34' does not fit the file's decimal mark '.'"),
            ("line 5", "amount", "'1,2,3' is not an amount"),
        ],
        [150, 225, 123450],
    ),
    Case(
        "2: beyond int64 minor units",
        "big.csv",
        _text(
            "account_id,booked_at,amount,currency\n"
            "A1,2024-01-05,99999999999999999.99,EUR\n"
            "A1,2024-01-06,92233720368547758.07,EUR\n"
            "A1,2024-01-07,-92233720368547758.08,EUR\n"
        ),
        [
            ("line 2", "amount", "'99999999999999999.99' is too large for 64-bit minor units"),
            ("line 4", "amount", "'-92233720368547758.08' is too large for 64-bit minor units"),
        ],
        [9_223_372_036_854_775_807],
    ),
    Case(
        "3: a malformed MT940 amount",
        "amount.sta",
        _text(
            MT940_HEAD + ":61:2402050205D4x,83NTRFNONREF\n:86:bad\n"
            ":61:2402060206D2,50NTRFNONREF\n:86:good\n" + MT940_TAIL
        ),
        [
            (
                "line 5",
                "",
                "malformed statement line: :61: amount '4x,83' is not an MT940 amount "
                "(digits and a decimal comma or point)",
            )
        ],
        [-250],
    ),
    Case(
        "3: 30 February in MT940",
        "feb30.sta",
        _text(
            MT940_HEAD + ":61:2402300230D2,00NTRFNONREF\n:86:no such day\n"
            ":61:2402290229D3,00NTRFNONREF\n:86:leap day\n" + MT940_TAIL
        ),
        [("line 5", "", "malformed statement line: value date '240230' is not a calendar date")],
        [-300],
    ),
    Case(
        "4: fractional minor units in Parquet",
        "minor.parquet",
        _parquet(
            account_id=["A1", "A1", "A1"],
            booked_at=["2024-01-05", "2024-01-06", "2024-01-07"],
            amount_minor=[1250.7, 1250.0, 2.0**60],
            currency=["EUR"] * 3,
        ),
        [
            ("row 1", "amount", "'1250.7' is not a whole number of minor units"),
            (
                "row 3",
                "amount",
                "'1.152921504606847e+18' is beyond 9,007,199,254,740,992, where a float is "
                "not exact",
            ),
        ],
        [1250],
    ),
    Case(
        "6: a duplicated amount column",
        "twice.csv",
        _text("account_id,booked_at,amount,currency,Amount\nA1,2024-01-05,1.50,EUR,150.00\n"),
        [
            (
                "file",
                "",
                "columns 'amount' and 'Amount' both map to amount; map one of them to another "
                'field or to "ignore" in the mapping',
            )
        ],
        [],
    ),
    Case(
        "6: a short row",
        "short.csv",
        _text("account_id,booked_at,amount,currency\nA1,2024-01-05,1.50,EUR\nA1,2024-01-06,2.50\n"),
        [("line 3", "", "expected 4 fields (as in the header), found 3")],
        [150],
    ),
    Case(
        "6: a short row in a quoted file",
        "short_quoted.csv",
        _text(
            '"account_id","booked_at","amount","currency"\n'
            '"A1","2024-01-05","1.50","EUR"\n'
            '"A1","2024-01-06","2.50"\n'
        ),
        [("line 3", "", "expected 4 fields (as in the header), found 3")],
        [150],
    ),
    Case(
        "6: a dot-file named on the command line",
        ".hidden.csv",
        _text("account_id,booked_at,amount,currency\nA1,2024-01-05,1.50,EUR\n"),
        [],
        [150],
    ),
]


def _read_rejects(report: FileReport) -> list[tuple[str, str, str]]:
    if report.rejects_path is None:
        return []
    with open(report.rejects_path, encoding="utf-8", newline="") as fh:
        return [(r["location"], r["field"], r["reason"]) for r in csv.DictReader(fh)]


@pytest.mark.parametrize("case", CASES, ids=[c.item + " " + c.name for c in CASES])
def test_each_value_is_read_exactly_or_rejected_with_its_reason(
    store: Store, tmp_path: Path, case: Case
) -> None:
    path = tmp_path / case.name
    case.write(path)
    (report,) = Loader(store, report_dir=tmp_path / "reports").ingest([path]).files
    assert _read_rejects(report) == case.rejects
    assert report.rejected == len(case.rejects)
    amounts = store.rows(
        select(schema.transactions.c.amount_minor).order_by(schema.transactions.c.booked_at)
    )
    assert [a for (a,) in amounts] == case.amounts
