"""One fuzz test per reader, through the loader: rows loaded or rejects with reasons, never a crash.

Each reader gets a file built from generated transactions (amounts drawn in minor units), then,
in half the examples, damaged by arbitrary bytes spliced in anywhere. Whatever comes in, the
import ends with rows loaded or rejects (or one refused-file reject) whose reasons are not empty;
an undamaged file loads every amount exactly, to the minor unit.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tactful.ingest.loader import Loader
from tactful.store import schema
from tactful.store.store import Store

Row = tuple[int, int]  # (amount in minor units, day offset)
MAX_MINOR = 10**12


def _text(minor: int, places: int = 2, mark: str = ".") -> str:
    return format(Decimal(minor).scaleb(-places), "f").replace(".", mark)


def _day(offset: int) -> date:
    return date(2024, 1, 1) + timedelta(days=offset)


def _csv(rows: list[Row]) -> bytes:
    lines = ["account_id,booked_at,amount,currency"]
    lines += [f"A1,{_day(d).isoformat()},{_text(m)},EUR" for m, d in rows]
    return ("\n".join(lines) + "\n").encode()


def _jsonl(rows: list[Row]) -> bytes:
    return "".join(
        json.dumps(
            {
                "account_id": "A1",
                "booked_at": _day(d).isoformat(),
                "amount": _text(m),
                "currency": "EUR",
            }
        )
        + "\n"
        for m, d in rows
    ).encode()


def _ofx(rows: list[Row]) -> bytes:
    entries = "".join(
        f"<STMTTRN><TRNTYPE>OTHER<DTPOSTED>{_day(d):%Y%m%d}<TRNAMT>{_text(m)}"
        f"<FITID>F{i}<NAME>x</STMTTRN>\r\n"
        for i, (m, d) in enumerate(rows)
    )
    return (
        "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\n\r\n<OFX><BANKMSGSRSV1><STMTTRNRS>"
        "<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>1<ACCTID>1<ACCTTYPE>CHECKING</BANKACCTFROM>"
        f"<BANKTRANLIST>\r\n{entries}</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\r\n"
    ).encode()


def _camt(rows: list[Row]) -> bytes:
    entries = "".join(
        f'<Ntry><Amt Ccy="EUR">{_text(abs(m))}</Amt>'
        f"<CdtDbtInd>{'DBIT' if m < 0 else 'CRDT'}</CdtDbtInd><Sts>BOOK</Sts>"
        f"<BookgDt><Dt>{_day(d).isoformat()}</Dt></BookgDt>"
        f"<AcctSvcrRef>R{i}</AcctSvcrRef></Ntry>"
        for i, (m, d) in enumerate(rows)
    )
    return (
        '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
        "<BkToCstmrStmt><Stmt><Id>S1</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id>"
        f"<Ccy>EUR</Ccy></Acct>{entries}</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def _mt940(rows: list[Row]) -> bytes:
    lines = [":20:STMT1", ":25:DE89370400440532013000", ":28C:1/1", ":60F:C231231EUR0,00"]
    for i, (m, d) in enumerate(rows):
        mark = "D" if m < 0 else "C"
        lines += [f":61:{_day(d):%y%m%d}{mark}{_text(abs(m), mark=',')}NTRFREF{i}//B{i}", ":86:x"]
    # The closing balance is the sum of the lines: the reader refuses a statement that does
    # not add up, and a fuzz file with made-up balances would be refused whole.
    total = sum(m for m, _ in rows)
    lines.append(f":62F:{'D' if total < 0 else 'C'}240229EUR{_text(abs(total), mark=',')}")
    return ("\r\n".join(lines) + "\r\n").encode()


def _berka(rows: list[Row]) -> bytes:
    lines = ["trans_id;account_id;date;type;operation;amount;balance;k_symbol;bank;account"]
    lines += [
        f"{i + 1};7;{_day(d):%y%m%d};{'withdrawal' if m < 0 else 'credit'};;{_text(abs(m))};0;;;"
        for i, (m, d) in enumerate(rows)
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def _parquet(rows: list[Row], path: Path) -> None:
    pl.DataFrame(
        {
            "account_id": ["A1"] * len(rows),
            "booked_at": [_day(d) for _, d in rows],
            "amount_minor": pl.Series([m for m, _ in rows], dtype=pl.Int64),
            "currency": ["EUR"] * len(rows),
        }
    ).write_parquet(path)


WRITERS: dict[str, tuple[str, Callable[[list[Row]], bytes] | None]] = {
    "csv": ("t.csv", _csv),
    "jsonl": ("t.jsonl", _jsonl),
    "parquet": ("t.parquet", None),
    "ofx": ("t.ofx", _ofx),
    "camt053": ("t.xml", _camt),
    "mt940": ("t.sta", _mt940),
    "berka": ("trans.csv", _berka),
}
_settings = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
rows_strategy = st.lists(
    st.tuples(st.integers(-MAX_MINOR, MAX_MINOR).filter(lambda m: m != 0), st.integers(0, 58)),
    min_size=1,
    max_size=12,
)


@pytest.mark.parametrize("fmt", sorted(WRITERS))
@_settings
@given(rows=rows_strategy, damage=st.none() | st.tuples(st.integers(0), st.binary(max_size=40)))
def test_reader_loads_exactly_or_rejects_with_a_reason(
    tmp_path_factory: pytest.TempPathFactory,
    fmt: str,
    rows: list[Row],
    damage: tuple[int, bytes] | None,
) -> None:
    tmp = tmp_path_factory.mktemp(fmt)
    name, write = WRITERS[fmt]
    path = tmp / name
    if write is None:
        _parquet(rows, path)
    else:
        path.write_bytes(write(rows))
    if damage is not None:
        data = path.read_bytes()
        at = damage[0] % (len(data) + 1)
        path.write_bytes(data[:at] + damage[1] + data[at:])
    store = Store.open(f"sqlite:///{tmp / 't.db'}")
    try:
        (report,) = Loader(store, report_dir=tmp / "rep", fmt=fmt).ingest([path]).files
        loaded = store.rows(select(schema.transactions.c.amount_minor))
    finally:
        store.close()
    if report.rejects_path is not None:
        with open(report.rejects_path, encoding="utf-8", newline="") as fh:
            reasons = [r["reason"] for r in csv.DictReader(fh)]
        assert len(reasons) == report.rejected
        assert all(reason.strip() for reason in reasons)
    if damage is None:
        assert report.rejected == 0, report.rejects_path
        assert sorted(a for (a,) in loaded) == sorted(m for m, _ in rows)
