"""Real OFX files that say less than the spec asks, or say it wrongly, loaded as a user would.

Two ways such files went wrong, each pinned on real files from other parsers' test suites
(origins in tests/data/SOURCES.md):

- a header that says ``CHARSET:1252`` over a UTF-8 body (Banco do Brasil's ``CRÉDITO``) was read
  as cp1252 and stored as ``CRÃ‰DITO``, with no note: cp1252 decodes any bytes, so "believe
  the header if it fits" always believed it;
- ``tactful ingest --account`` / ``--currency`` were ignored for OFX, so a statement with no
  ACCTID or no CURDEF was refused even when the user gave them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import pytest
from sqlalchemy import select

from tactful.ingest.loader import FileReport, Loader
from tactful.ingest.mapping import Mapping
from tactful.ingest.readers._ofx_markup import ParseError, parse
from tactful.ingest.readers._statement import decode_file
from tactful.store import schema
from tactful.store.store import Store

OFX = Path(__file__).parents[1] / "data" / "statements" / "ofx"
GIVE_ACCOUNT = (
    "statement has no ACCTID; its 2 transactions were not read; give the account with "
    '--account, or as account_id = "..." under [constants] in the mapping'
)
GIVE_CURRENCY = (
    "the statement does not say its currency (no CURDEF, and its entries name no single one); "
    'give it with --currency, or as currency = "..." under [constants] in the mapping'
)


@dataclass(frozen=True)
class Loaded:
    report: FileReport
    rows: list[tuple[str, str, int, str, str]]
    """(account id, booking date in UTC, amount in minor units, currency, description)"""
    accounts: list[tuple[str, str]]
    """(id, currency) of the accounts stored"""

    def rejects(self) -> list[tuple[str, str, str]]:
        """(location, field, reason) of each reject."""
        if self.report.rejects_path is None:
            return []
        with open(self.report.rejects_path, encoding="utf-8", newline="") as fh:
            return [(r["location"], r["field"], r["reason"]) for r in csv.DictReader(fh)]


def _load(
    store: Store, tmp: Path, path: Path, *, account: str | None = None,
    currency: str | None = None, mapping: Mapping | None = None,
) -> Loaded:  # fmt: skip
    """``path`` through the loader, as ``tactful ingest PATH --account --currency`` does."""
    given = (mapping or Mapping()).with_statement(account=account, currency=currency)
    (report,) = Loader(store, mapping=given, report_dir=tmp / "reports").ingest([path]).files
    t, a = schema.transactions.c, schema.accounts.c
    rows = store.rows(select(t.account_id, t.booked_at, t.amount_minor, t.currency, t.description))
    return Loaded(
        report,
        [(i, b.astimezone(UTC).date().isoformat(), m, c, d) for i, b, m, c, d in rows],
        [(i, c) for i, c in store.rows(select(a.id, a.currency))],
    )


# -- a UTF-8 body under a code-page header ---------------------------------------------------

UTF8_OVER_CP1252 = "the file says it is cp1252 but its bytes are UTF-8; read as UTF-8"


def test_a_utf8_body_under_a_cp1252_header_is_read_as_utf8_with_a_note(
    sqlite_store: Store, tmp_path: Path
) -> None:
    got = _load(sqlite_store, tmp_path, OFX / "asgrim_ofxdata_bb.ofx")
    assert got.rows == [("455000-5", "2015-11-03", 23_955, "BRL", "DOC CRÉDITO EM CONTA")]
    assert got.accounts == [("455000-5", "BRL")]
    assert got.rejects() == []
    assert UTF8_OVER_CP1252 in got.report.notes


def test_the_chase_card_name_keeps_its_broken_bar(sqlite_store: Store, tmp_path: Path) -> None:
    got = _load(sqlite_store, tmp_path, OFX / "ofxparse_chase_cc.qfx")
    assert [d for *_, d in got.rows] == ["SQ *ECCO UN POCO ¦ NATURA"]
    assert UTF8_OVER_CP1252 in got.report.notes


@pytest.mark.parametrize(
    ("encoding", "note"),
    [("utf-8", UTF8_OVER_CP1252), ("cp1252", None)],  # cp1252: É is the lone byte 0xC9
)
def test_the_memo_reads_the_same_whichever_encoding_its_bytes_are_in(
    sqlite_store: Store, tmp_path: Path, encoding: str, note: str | None
) -> None:
    text = (OFX / "asgrim_ofxdata_bb.ofx").read_text(encoding="utf-8")
    path = tmp_path / f"bb_{encoding}.ofx"
    path.write_bytes(text.encode(encoding))
    got = _load(sqlite_store, tmp_path, path)
    assert [d for *_, d in got.rows] == ["DOC CRÉDITO EM CONTA"]
    assert [n for n in got.report.notes if "the file says" in n] == ([note] if note else [])


@pytest.mark.parametrize(
    ("data", "text", "notes"),
    [
        ("CRÉDITO".encode(), "CRÉDITO", [UTF8_OVER_CP1252]),
        (b"CR\xc9DITO caf\xe9", "CRÉDITO café", []),  # genuine cp1252: invalid as UTF-8
        (b"CREDITO", "CREDITO", []),  # ASCII proves nothing, and needs no note
    ],
)
def test_a_declared_code_page_yields_only_to_multibyte_utf8(
    data: bytes, text: str, notes: list[str]
) -> None:
    assert decode_file(Path("x.ofx"), data, None, "cp1252") == (text, notes)


# -- --account and --currency for statements that do not say them ----------------------------


def test_a_statement_without_acctid_is_refused_saying_to_give_the_account(
    sqlite_store: Store, tmp_path: Path
) -> None:
    got = _load(sqlite_store, tmp_path, OFX / "asgrim_ofxdata_empty_datetime.ofx")
    assert got.rows == []
    assert got.rejects() == [("statement 1 at line 28", "", GIVE_ACCOUNT)]


def test_a_statement_without_acctid_takes_the_account_option(
    sqlite_store: Store, tmp_path: Path
) -> None:
    got = _load(
        sqlite_store, tmp_path, OFX / "asgrim_ofxdata_empty_datetime.ofx", account="AU-TEST-1"
    )
    assert len(got.rows) == 2
    assert ("AU-TEST-1", "2018-12-14", 33_750, "AUD", "TEST TEST TEST AAAA") in got.rows
    assert "statement 1 at line 28 has no ACCTID: account …ST-1 from the --account option" in (
        got.report.notes
    )
    # The file names no account type either (no BANKACCTFROM): the account row alone is
    # refused, as for any statement whose ACCTTYPE is empty; its transactions load.
    assert got.rejects() == [("statement 1 at line 28", "account_type", "missing value")]


def test_the_mapping_constants_give_the_account_before_the_option(
    sqlite_store: Store, tmp_path: Path
) -> None:
    spec = tmp_path / "m.toml"
    spec.write_text('[constants]\naccount_id = "AU-CONST-9"\naccount_type = "checking"\n')
    got = _load(
        sqlite_store, tmp_path, OFX / "asgrim_ofxdata_empty_datetime.ofx",
        account="AU-TEST-1", mapping=Mapping.load(spec),
    )  # fmt: skip
    assert {i for i, *_ in got.rows} == {"AU-CONST-9"}
    assert got.accounts == [("AU-CONST-9", "AUD")]
    assert got.rejects() == []


def test_a_statement_without_curdef_is_refused_saying_to_give_the_currency(
    sqlite_store: Store, tmp_path: Path
) -> None:
    got = _load(sqlite_store, tmp_path, OFX / "ofxparsernet_comma_decimal.ofx")
    assert got.rows == []
    assert got.rejects() == [
        ("statement 1 (ACCTID 55555-1) at line 4", "", GIVE_CURRENCY),
        ("entry 1 (FITID BR001) at line 13", "currency", GIVE_CURRENCY),
    ]


def test_a_statement_without_curdef_takes_the_currency_option(
    sqlite_store: Store, tmp_path: Path
) -> None:
    got = _load(sqlite_store, tmp_path, OFX / "ofxparsernet_comma_decimal.ofx", currency="BRL")
    assert got.rows == [("55555-1", "2025-03-10", -123_456, "BRL", "Pagamento Boleto")]
    assert got.accounts == [("55555-1", "BRL")]
    assert got.rejects() == []
    assert "statement 1 at line 4 has no CURDEF: currency BRL from the --currency option" in (
        got.report.notes
    )


def test_what_the_statement_says_wins_over_the_options_with_a_note(
    sqlite_store: Store, tmp_path: Path
) -> None:
    got = _load(
        sqlite_store, tmp_path, OFX / "asgrim_ofxdata_bb.ofx", account="AU-TEST-1", currency="EUR"
    )
    assert got.rows == [("455000-5", "2015-11-03", 23_955, "BRL", "DOC CRÉDITO EM CONTA")]
    assert got.accounts == [("455000-5", "BRL")]
    assert [n for n in got.report.notes if "not used" in n] == [
        "statement 1 at line 33 says account …00-5: kept, and …ST-1 from the --account option "
        "not used (it is for statements that say none)",
        "statement 1 at line 33 says currency BRL: kept, and EUR from the --currency option not "
        "used (it is for statements that say none)",
    ]


def test_a_value_elements_late_end_tag_closes_nothing() -> None:
    """American Express closes every element after what follows it; those end tags of value
    elements are ignored, and the transaction keeps its own fields."""
    root = parse(
        "<OFX><STMTTRN><TRNTYPE>DEBIT <TRNAMT>-143.94 <NAME>PRUNE <MEMO>RESTAURANT </MEMO>"
        "</NAME></TRNAMT></TRNTYPE></STMTTRN></OFX>"
    )
    (trn,) = root.iter("STMTTRN")
    assert [(c.tag, (c.text or "").strip()) for c in trn] == [
        ("TRNTYPE", "DEBIT"), ("TRNAMT", "-143.94"), ("NAME", "PRUNE"), ("MEMO", "RESTAURANT")]


def test_an_end_tag_that_closes_the_wrong_aggregate_is_still_refused() -> None:
    with pytest.raises(ParseError, match="does not close"):
        parse("<OFX><BANKTRANLIST><STMTTRN><TRNAMT>-1.00 </BANKTRANLIST></STMTTRN></OFX>")
