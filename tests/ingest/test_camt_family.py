"""camt.052 and camt.054 beside camt.053, dates with offsets, entries without a booking date,
and the balance check that refuses a statement whose entries do not add up (issue 16)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tactful.ingest.mapping import Mapping
from tactful.ingest.readers import detect_format
from tactful.ingest.readers.camt053 import Camt053Reader
from tactful.ingest.schema import LOCATION, Chunk

CAMT = Path(__file__).parents[1] / "data" / "statements" / "camt"


def _report(ns: str, root: str, holder: str, body: str) -> str:
    return (
        f'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:{ns}">'
        f"<{root}><GrpHdr><MsgId>M1</MsgId></GrpHdr><{holder}><Id>R1</Id>"
        "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        f"{body}</{holder}></{root}></Document>"
    )


def _bal(code: str, amount: str, day: str) -> str:
    return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{amount}"
            f"</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>")


def _ntry(amount: str, mark: str, dates: str) -> str:
    return (f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{mark}</CdtDbtInd>'
            f"<Sts>BOOK</Sts>{dates}<AcctSvcrRef>R{amount}</AcctSvcrRef></Ntry>")


def _read(path: Path) -> list[Chunk]:
    return list(Camt053Reader().read(path, Mapping(), 100))


def test_camt052_with_offset_dates_and_an_entry_without_booking_date(tmp_path: Path) -> None:
    body = (
        _bal("PRCD", "100.00", "2017-04-10+02:00")
        + _ntry("12.50", "DBIT", "<BookgDt><Dt>2017-04-11+02:00</Dt></BookgDt>")
        + _ntry("2.25", "CRDT", "<ValDt><Dt>2017-04-12Z</Dt></ValDt>")
        + _bal("ITBD", "89.75", "2017-04-12+02:00")
    )
    path = tmp_path / "report.xml"
    path.write_text(_report("camt.052.001.02", "BkToCstmrAcctRpt", "Rpt", body))
    assert detect_format(path) == "camt052"
    accounts, transactions = _read(path)
    assert accounts.frame["balance"].to_list() == ["89.75"]
    assert accounts.frame["balance_as_of"].to_list() == ["2017-04-12"]
    assert transactions.rejects == []
    assert transactions.frame.select("booked_at", "amount", LOCATION).rows() == [
        ("2017-04-11", "-12.50", "entry 1 (AcctSvcrRef R12.50) at line 1"),
        ("2017-04-12", "2.25", "entry 2 (AcctSvcrRef R2.25) at line 1 (no BookgDt: booked on "
         "its ValDt)"),
    ]
    assert accounts.notes == [
        "1 entry has no booking date (BookgDt): booked on the value date (ValDt), or without "
        "one on the day its statement covers, as each one's location says",
        "balance check: 1 of 1 statement(s) reconcile",
    ]


def test_camt054_notification_without_balances_loads_and_says_nothing_to_check(
    tmp_path: Path,
) -> None:
    body = _ntry("7.00", "CRDT", "<ValDt><Dt>2020-01-02</Dt></ValDt>")
    path = tmp_path / "notify.xml"
    path.write_text(_report("camt.054.001.08", "BkToCstmrDbtCdtNtfctn", "Ntfctn", body))
    assert detect_format(path) == "camt054"
    accounts, transactions = _read(path)
    assert transactions.frame["amount"].to_list() == ["7.00"]
    assert accounts.frame["balance"].to_list() == [None]
    assert not any("balance check" in n for n in accounts.notes)


@pytest.mark.parametrize(("old", "new"), [("<Amt Ccy=\"EUR\">8.85</Amt>",
                                           "<Amt Ccy=\"EUR\">8.58</Amt>")])
def test_a_corrupted_camt_amount_is_caught_by_the_balances(
    tmp_path: Path, old: str, new: str
) -> None:
    text = (CAMT / "genkgo_camt053_v2_multi_statement.xml").read_text()
    assert text.count(old) == 1
    path = tmp_path / "corrupt.xml"
    path.write_text(text.replace(old, new))
    accounts, transactions = _read(path)
    # The first statement no longer adds up: its entry is refused, the second still loads.
    assert transactions.frame["amount"].to_list() == ["-7.00"]
    (reject,) = transactions.rejects
    assert reject.location == "entry 1 at line 66"
    assert reject.reason == (
        "statement 1 (253EURNL26VAYB8060476890) does not reconcile: 18.15 (OPBD of 2014-12-30)"
        " + 1 entry (8.58) = 26.73, but CLBD of 2014-12-31 is 27.00 (a difference of 0.27); "
        "the running total diverges at entry 1 at line 66"
    )
    assert accounts.notes == [
        "balance check: 1 of 2 statement(s) reconcile, 1 does not",
        "balance check: statement 1 (253EURNL26VAYB8060476890) does not reconcile; its 1 "
        "suspect entries were rejected",
    ]
    assert pl.DataFrame(transactions.frame).height == 1


def test_camt052_with_two_interim_balances_keeps_the_latest_and_cannot_check(
    tmp_path: Path,
) -> None:
    body = (
        _bal("ITBD", "100.00", "2017-04-11") + _ntry("12.50", "DBIT", "<ValDt><Dt>2017-04-11</Dt>"
                                                     "</ValDt>")
        + _bal("ITBD", "87.50", "2017-04-12")
    )
    path = tmp_path / "report.xml"
    path.write_text(_report("camt.052.001.06", "BkToCstmrAcctRpt", "Rpt", body))
    accounts, transactions = _read(path)
    assert accounts.frame["balance"].to_list() == ["87.50"]
    assert transactions.frame["amount"].to_list() == ["-12.50"]
    assert accounts.notes[-2:] == [
        "balance check: 0 of 1 statement(s) reconcile, 1 cannot be checked",
        "balance check: not possible for report 1 (R1): the file states no opening balance",
    ]
