"""The statement readers (OFX/QFX, camt.053, MT940) on real-looking exports and broken ones.

Each sample in tests/data is named for what it shows; the nasty ones must give rejects that
point at the exact entry and say what is wrong, while the good rows of the same file still load.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tactful.errors import IngestError
from tactful.ingest.mapping import Mapping
from tactful.ingest.readers import detect_format
from tactful.ingest.readers.base import Reader
from tactful.ingest.readers.camt053 import Camt053Reader
from tactful.ingest.readers.mt940 import Mt940Reader
from tactful.ingest.readers.ofx import OfxReader, ofx_datetime
from tactful.ingest.schema import LOCATION, Chunk, RecordKind, Reject

DATA = Path(__file__).parents[1] / "data"
TRANSACTION_COLUMNS = [
    "account_id", "transaction_id", "booked_at", "value_at", "amount", "currency",
    "description", "counterparty", "mcc", "channel", "status", LOCATION,
]
ACCOUNT_COLUMNS = ["account_id", "account_type", "currency", "balance", "balance_as_of", LOCATION]
SAMPLES = {
    "ofx": sorted(DATA.glob("statement_*")),
    "camt053": sorted(DATA.glob("camt053_*")),
    "mt940": sorted(DATA.glob("mt940_*")),
}
READERS: dict[str, type[Reader]] = {
    "ofx": OfxReader, "camt053": Camt053Reader, "mt940": Mt940Reader,
}


@dataclass
class Read:
    chunks: list[Chunk]

    @property
    def accounts(self) -> pl.DataFrame:
        return self.chunks[0].frame

    @property
    def transactions(self) -> pl.DataFrame:
        return pl.concat([c.frame for c in self.chunks[1:]])

    @property
    def rejects(self) -> list[Reject]:
        return [r for c in self.chunks for r in c.rejects]

    def row(self, location: str) -> dict[str, str | None]:
        (found,) = self.transactions.filter(pl.col(LOCATION) == location).to_dicts()
        return found


def read(name: str, mapping: Mapping | None = None, batch_size: int = 1000) -> Read:
    path = DATA / name
    fmt = detect_format(path)
    assert fmt is not None, name
    return Read(list(READERS[fmt]().read(path, mapping or Mapping(), batch_size)))


# -- sniffing ------------------------------------------------------------------------------

def test_every_sample_is_recognised_by_its_own_reader_only() -> None:
    assert all(SAMPLES.values())
    others = [p for p in sorted(DATA.iterdir()) if p.is_file()]
    for fmt, reader in READERS.items():
        for path in others:
            score = reader().sniff(path.read_bytes()[:65536], path)
            assert (score > 0) == (path in SAMPLES[fmt]), (fmt, path.name, score)
    for fmt, paths in SAMPLES.items():
        for path in paths:
            assert detect_format(path) == fmt, path.name


@pytest.mark.parametrize("head", [b"", b"\x00\xff" * 40, b"OFXHEADER", b"<OFX", b":20:X\n:25:Y\n",
                                  b"\xff\xfe<\x00?\x00", "<Document>é</Document>".encode()])
def test_sniffers_say_no_to_fragments(head: bytes) -> None:
    for reader in READERS.values():
        assert reader().sniff(head, Path("x.dat")) == 0.0


# -- OFX -----------------------------------------------------------------------------------

def test_ofx1_sgml_qfx_in_cp1252_with_unclosed_tags() -> None:
    got = read("statement_chase_checking.qfx")
    assert got.accounts.to_dicts() == [{
        "account_id": "483920147", "account_type": "checking", "currency": "USD",
        "balance": "4208.77", "balance_as_of": "2023-10-31T17:00:00.000-04:00",
        LOCATION: "statement 1 (ACCTID 483920147) at line 35",
    }]
    assert got.rejects == [] and got.chunks[0].notes == [
        "balance check: 0 of 1 statement(s) reconcile, 1 cannot be checked",
        "balance check: not possible for statement 1 (ACCTID 483920147): OFX states no opening "
        "balance (LEDGERBAL is the closing one) and no earlier statement of the account in the "
        "file gives one"]
    assert got.transactions.columns == TRANSACTION_COLUMNS
    assert got.transactions.height == 14
    assert got.row("entry 1 (FITID 2023100224492150) at line 45") == {
        "account_id": "483920147", "transaction_id": "2023100224492150",
        "booked_at": "2023-10-02T12:00:00.000-04:00", "value_at": None, "amount": "-6.75",
        "currency": "USD", "description": "SQ *BLUE BOTTLE COFFEE SAN FRANCISCO CA",
        "counterparty": "SQ *BLUE BOTTLE COFFEE", "mcc": None, "channel": "card",
        "status": "posted", LOCATION: "entry 1 (FITID 2023100224492150) at line 45",
    }
    by_id = {r["transaction_id"]: r for r in got.transactions.to_dicts()}
    assert by_id["2023101624492611"]["counterparty"] == "CAFÉ DU MONDE"
    assert by_id["2023100324011873"]["description"] == "PG&E WEB ONLINE PPD ID: 9498230000"
    atm = by_id["2023100624310021"]  # an empty <MEMO> with no end tag
    assert (atm["description"], atm["value_at"]) == ("ATM WITHDRAWAL 004512 10/06", "2023-10-06")
    assert by_id["2023103124000406"]["amount"] == "0.42"
    assert got.transactions["channel"].to_list() == [
        "card", "direct_debit", "card", "atm", "card", "transfer", "card", "check", "transfer",
        "standing_order", "other", "transfer", "fee", "interest"]


def test_ofx2_xml_credit_card_statement() -> None:
    got = read("statement_amex_card.ofx")
    (account,) = got.accounts.to_dicts()
    assert (account["account_type"], account["balance"]) == ("credit_card", "-1432.18")
    rows = got.transactions.to_dicts()
    assert len(rows) == 7 and got.rejects == []
    assert rows[1]["mcc"] == "3058"
    assert rows[3]["currency"] == "USD"  # ORIGCURRENCY: the amount is already in USD
    assert rows[5]["description"] == "BARNES & NOBLE #2735 NEW YORK NY"
    assert rows[6]["booked_at"] == "2023-11-27"
    assert [r["channel"] for r in rows] == [
        "card", "card", "card", "card", "fee", "card", "transfer"]


def test_ofx_bad_values_reject_their_own_entry_only() -> None:
    got = read("statement_wellsfargo_bad_values.ofx")
    assert [(r.location, r.field, r.reason) for r in got.rejects] == [
        ("entry 3 (FITID WF202311030002) at line 60", "amount",
         "TRNAMT '12.3.4' is not a decimal number"),
        ("entry 5 (FITID WF202311070001) at line 76", "booked_at", "DTPOSTED is missing"),
    ]
    assert "<TRNAMT>12.3.4" in got.rejects[0].raw
    assert got.transactions.height == 6
    # Two different fees under one FITID: an id that repeats is no id.
    assert got.transactions["transaction_id"].to_list() == [
        "WF202311020001", "WF202311030001", "WF202311060001", None, None, "WF202311100001"]


def test_ofx_broken_markup_falls_back_to_one_block_per_transaction() -> None:
    got = read("statement_bofa_broken_markup.ofx")
    assert [(r.location, r.reason) for r in got.rejects] == [
        ("entry 2 (FITID BOA0002) at line 53",
         "malformed OFX markup: end tag </MEMO> does not close <STMTTRN>"),
        ("entry 4 (FITID BOA0004) at line 69", "transaction has no </STMTTRN> end tag"),
    ]
    assert got.transactions["transaction_id"].to_list() == [
        "BOA0001", "BOA0003", "BOA0005", "BOA0006"]
    assert got.transactions["counterparty"][1] == "PANADERÍA LA ESPIGA"
    assert got.accounts["account_type"].to_list() == ["savings"]
    assert got.chunks[0].notes[0] == "not UTF-8: decoded as cp1252"


@pytest.mark.parametrize(("value", "expected"), [
    ("20231005", "2023-10-05"),
    ("20231005120000", "2023-10-05T12:00:00"),
    ("20231005120000.000[-5:EST]", "2023-10-05T12:00:00.000-05:00"),
    ("20231005120000[+5.30:IST]", "2023-10-05T12:00:00+05:30"),
    ("20231005120000[0:GMT]", "2023-10-05T12:00:00+00:00"),
    ("20231005120000[EDT]", "2023-10-05T12:00:00-04:00"),
    ("20231005120000[-3:XYZ]", "2023-10-05T12:00:00-03:00"),
    ("20231305", None),
    ("2023-10-05", None),
    ("20231005120000[-15:XYZ]", None),
])
def test_ofx_datetimes_keep_their_offset(value: str, expected: str | None) -> None:
    assert ofx_datetime(value) == expected


def test_ofx_without_a_statement_is_an_ingest_error(tmp_path: Path) -> None:
    path = tmp_path / "signon.ofx"
    path.write_text("OFXHEADER:100\nDATA:OFXSGML\n\n<OFX><SIGNONMSGSRSV1><SONRS><STATUS>"
                    "<CODE>15500<SEVERITY>ERROR</STATUS></SONRS></SIGNONMSGSRSV1></OFX>")
    with pytest.raises(IngestError, match="no bank or credit-card statement"):
        list(OfxReader().read(path, Mapping(), 100))



TRUNCATED = "the file is truncated: it ends at line {} without </OFX>"


def _cut(tmp_path: Path, sample: str, after: str) -> Read:
    """``sample`` cut right after the first occurrence of ``after``."""
    data = (DATA / sample).read_bytes()
    path = tmp_path / f"cut_{sample}"
    path.write_bytes(data[: data.index(after.encode()) + len(after)])
    return Read(list(OfxReader().read(path, Mapping(), 1000)))


@pytest.mark.parametrize(("sample", "after", "rows", "location", "reason"), [
    # OFX 1.x SGML: inside a value (TRNAMT -15.49 cut to -15.), inside a tag, between entries.
    ("statement_chase_checking.qfx", "<TRNAMT>-15.", 2, "entry 3 at line 61",
     TRUNCATED.format(64) + ", inside this transaction, which was not read; "
     "the 2 complete transaction(s) before it were"),
    ("statement_chase_checking.qfx", "<FITID>2023100624310021\r\n<NA", 3,
     "entry 4 (FITID 2023100624310021) at line 69", TRUNCATED.format(75)
     + ", inside this transaction, which was not read; the 3 complete transaction(s) before "
     "it were"),
    ("statement_chase_checking.qfx", "<MEMO>PPD ID: 9498230000\r\n</STMTT", 1,
     "entry 2 (FITID 2023100324011873) at line 53", TRUNCATED.format(60)
     + ", inside this transaction, which was not read; the 1 complete transaction(s) before "
     "it were"),
    # OFX 2.x XML, one line per transaction: inside an end tag.
    ("statement_amex_card.ofx", "<NAME>DELTA AIR LINES</NAM", 1,
     "entry 2 (FITID 320233100398765432) at line 23",
     TRUNCATED.format(23) + ", inside this transaction, which was not read; "
     "the 1 complete transaction(s) before it were"),
])
def test_ofx_truncated_keeps_every_complete_transaction_before_the_cut(
    tmp_path: Path, sample: str, after: str, rows: int, location: str, reason: str
) -> None:
    got = _cut(tmp_path, sample, after)
    full = read(sample)
    assert got.transactions.to_dicts() == full.transactions.head(rows).to_dicts()
    assert [(r.location, r.reason) for r in got.rejects] == [(location, reason)]
    (account,) = got.accounts.to_dicts()
    assert account["account_id"] == full.accounts["account_id"][0]
    assert account["balance"] is None  # LEDGERBAL comes after the transactions


def test_ofx_cut_inside_the_closing_balance_keeps_no_half_balance(tmp_path: Path) -> None:
    got = _cut(tmp_path, "statement_chase_checking.qfx", "<LEDGERBAL>\r\n<BALAMT>4208.7")
    assert got.transactions.height == 14
    assert got.accounts["balance"].to_list() == [None]  # not 4208.7
    assert [(r.location, r.reason) for r in got.rejects] == [
        ("line 157", TRUNCATED.format(157) + "; every complete transaction before was read")]


@pytest.mark.parametrize("sample", ["statement_chase_checking.qfx", "statement_amex_card.ofx"])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_ofx_any_cut_keeps_the_transactions_closed_before_it(
    tmp_path_factory: pytest.TempPathFactory, sample: str, data: st.DataObject
) -> None:
    text = (DATA / sample).read_bytes()
    first = text.index(b"<STMTTRN>")
    cut = data.draw(st.integers(first, text.index(b"</OFX>")))
    path = tmp_path_factory.mktemp("ofx") / sample
    path.write_bytes(text[:cut])
    got = Read(list(OfxReader().read(path, Mapping(), 1000)))
    closed = text[:cut].count(b"</STMTTRN>")
    assert got.transactions.to_dicts() == read(sample).transactions.head(closed).to_dicts()
    (reject,) = got.rejects
    assert reject.reason.startswith("the file is truncated")


# -- camt.053 ------------------------------------------------------------------------------

def test_camt053_v02_entries_batches_and_statuses() -> None:
    got = read("camt053_v02_sparkasse.xml")
    assert got.accounts.to_dicts() == [{
        "account_id": "DE05701500001004187632", "account_type": "checking", "currency": "EUR",
        "balance": "4402.07", "balance_as_of": "2023-10-31",
        LOCATION: "statement 1 (2023-10-31-00001) at line 8",
    }]
    assert [(r.location, r.reason) for r in got.rejects] == [
        ("entry 7 (AcctSvcrRef 2023101000006789) at line 110",
         "informational entry (Sts INFO), not a booking")]
    assert got.transactions.height == 15
    assert got.row("entry 2 (AcctSvcrRef 2023100400002345) at line 42") | {LOCATION: ""} == {
        "account_id": "DE05701500001004187632", "transaction_id": "2023100400002345",
        "booked_at": "2023-10-04", "value_at": "2023-10-04", "amount": "-98.00",
        "currency": "EUR",
        "description": "Abschlag Strom Oktober 2023 Vertragskonto 400123456789 / "
                       "SEPA-Basislastschrift",
        "counterparty": "Stadtwerke München GmbH", "mcc": None, "channel": "direct_debit",
        "status": "posted", LOCATION: "",
    }
    salary = got.row("entry 1 (AcctSvcrRef 2023100200001234) at line 29")
    assert (salary["amount"], salary["counterparty"]) == ("3412.58", "Siemens AG")
    split = got.transactions.filter(pl.col(LOCATION).str.starts_with("entry 4,"))
    assert split.select("transaction_id", "amount", "counterparty").rows() == [
        ("SAMMLER-1-01", "-850.00", "Hausverwaltung Schmidt KG"),
        ("SAMMLER-1-02", "-250.00", "Finanzamt München"),
        ("SAMMLER-1-03", "-150.00", "Tierarztpraxis Dr. Huber"),
    ]
    refund = got.row("entry 5 (AcctSvcrRef 2023100600004568) at line 83")
    assert refund["amount"] == "64.90"  # two TxDtls without their own amounts: one row
    assert refund["description"] == (
        "Erstattung Bestellung 302-1234567-1234567; Erstattung Bestellung "
        "302-7654321-7654321 / SEPA Gutschrift")
    pending = got.row(
        "entry 6 (AcctSvcrRef 2023100900005678) at line 97 (no BookgDt: booked on its ValDt)")
    assert (pending["status"], pending["booked_at"]) == ("pending", "2023-10-09")
    assert got.row("entry 8 (AcctSvcrRef 2023101100007890) at line 122")["currency"] == "XYZ"
    assert got.row("entry 10 at line 148")["transaction_id"] is None  # AcctSvcrRef NONREF
    repeated = got.transactions.filter(pl.col(LOCATION).str.contains("2023101300009999"))
    assert repeated["transaction_id"].to_list() == [None, None]
    assert got.transactions["channel"].to_list() == [
        "transfer", "direct_debit", "card", "transfer", "transfer", "transfer", "transfer",
        "direct_debit", "card", "atm", "card", "card", "card", "fee", "interest"]


def test_camt053_later_version_shapes() -> None:
    got = read("camt053_v08_ing.xml")
    rows = got.transactions.to_dicts()
    assert got.rejects == [] and len(rows) == 6
    assert rows[0]["counterparty"] == "Booking.com B.V."  # Dbtr/Pty/Nm, for a credit
    assert rows[1]["booked_at"] == "2023-11-03T14:22:05+01:00"
    assert (rows[3]["channel"], rows[3]["transaction_id"]) == ("standing_order",
                                                               "INGB2023110100103")
    assert [(r["transaction_id"], r["amount"]) for r in rows[4:]] == [
        ("GEM-PV-2023-11", "-45.00"), ("GEM-AF-2023-11", "-15.00")]


def test_camt053_truncated_file_keeps_the_entries_before_the_cut() -> None:
    got = read("camt053_truncated.xml")
    assert got.accounts["balance"].to_list() == ["-1123.45"]
    assert got.transactions.height == 6  # entries 1-3 and the three transfers of batch 4
    (reject,) = got.rejects
    assert reject.location == "line 93, column 194"
    assert "truncated" in reject.reason and "entry 5 (from line 83)" in reject.reason


def test_camt053_entity_bomb_is_refused_without_expanding() -> None:
    started = time.perf_counter()
    with pytest.raises(IngestError, match=r"DTD or entities.*entity-expansion"):
        read("camt053_entity_bomb.xml")
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(("text", "message"), [
    ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&x;</Document>',
     "refused: the XML declares a DTD"),
    ('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"><CstmrCdtTrfInitn/>'
     '</Document>', "not a camt.053 file"),
    ("this is not XML at all", "not a readable camt.053 file"),
    ('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.04"><BkToCstmrStmt>'
     "<GrpHdr><MsgId>1</MsgId></GrpHdr></BkToCstmrStmt></Document>", "no statement"),
])
def test_camt053_files_that_cannot_be_read_at_all(tmp_path: Path, text: str,
                                                  message: str) -> None:
    path = tmp_path / "camt.xml"
    path.write_text(text)
    with pytest.raises(IngestError, match=message):
        list(Camt053Reader().read(path, Mapping(), 100))


# -- MT940 ---------------------------------------------------------------------------------

def test_mt940_two_german_statements_in_cp1252() -> None:
    got = read("mt940_commerzbank_two_statements.sta")
    # Two daily statements of one account: one account row, with the later closing balance.
    assert got.accounts.to_dicts() == [{
        "account_id": "37040044/0532013000", "account_type": "checking", "currency": "EUR",
        "balance": "4803.89", "balance_as_of": "2023-10-06",
        LOCATION: "statement 2 at line 40",
    }]
    assert got.chunks[0].notes == [
        "not UTF-8: decoded as cp1252", "balance check: 2 of 2 statement(s) reconcile"]
    assert got.rejects == [] and got.transactions.height == 9
    assert got.row("line 5") == {
        "account_id": "37040044/0532013000", "transaction_id": "SWM4001234567",
        "booked_at": "2023-10-05", "value_at": "2023-10-05", "amount": "-98.00",
        "currency": "EUR",
        "description": "Abschlag Strom Oktober 2023 Vertragskonto 400123456789 / "
                       "SEPA-BASISLASTSCHRIFT",
        "counterparty": "Stadtwerke München GmbH", "mcc": None, "channel": "direct_debit",
        "status": "posted", LOCATION: "line 5",
    }
    assert got.row("line 17")["counterparty"] == "Bäckerei Müller GmbH & Co. KG"
    rent = got.row("line 44")
    assert (rent["booked_at"], rent["value_at"], rent["channel"]) == (
        "2023-10-06", "2023-10-07", "standing_order")
    assert got.row("line 59")["transaction_id"] is None  # no bank reference
    assert got.row("line 71")["amount"] == "12.99"  # RD: a reversed debit puts money back
    assert got.transactions["channel"].to_list() == [
        "direct_debit", "transfer", "other", "atm", "standing_order", "transfer",
        "direct_debit", "other", "fee"]


def test_mt940_broken_statement_line_costs_only_its_transaction() -> None:
    got = read("mt940_abnamro_broken_line.sta")
    (reject,) = got.rejects
    assert reject.location == "line 19"
    assert reject.reason == (
        "malformed statement line: :61: '2311O51105D12,50N426NONREF' does not follow the "
        "MT940 layout")
    assert reject.raw == ":61:2311O51105D12,50N426NONREF"
    rows = got.transactions.to_dicts()
    assert [r[LOCATION] for r in rows] == ["line 8", "line 12", "line 16", "line 22", "line 27"]
    assert (rows[0]["description"], rows[0]["counterparty"]) == (
        "Huur november 2023 Kinkerstraat 112-2 / SEPA OVERBOEKING",
        "Stichting Woonzorg Nederland")
    assert rows[2]["description"] == (
        "BEA NR:4XK301 03.11.23/14.22 ALBERT HEIJN 1432,PAS123 AMSTERDAM")
    assert [r["channel"] for r in rows] == ["transfer", "transfer", "card", "direct_debit", "fee"]


def test_mt940_bad_amount_and_bad_header(tmp_path: Path) -> None:
    path = tmp_path / "bad.sta"
    path.write_text(
        ":20:STMT1\n:25:DE89370400440532013000\n:28C:1/1\n:60F:C231004EUR100,00\n"
        ":61:2310051005D12,3,4NTRFNONREF\n:86:bad amount\n"
        ":61:2310051005D2,00NTRFNONREF\n:86:good\n:62F:C231005EUR98,00\n"
        ":20:STMT2\n:25:DE89370400440532013000\n:28C:2/1\n:60F:X\n"
        ":61:2310061006D1,00NTRFNONREF\n:62F:C231006EUR97,00\n")
    got = Read(list(Mt940Reader().read(path, Mapping(), 100)))
    assert [(r.location, r.reason) for r in got.rejects] == [
        ("statement 2 at line 10", "statement header cannot be read: :60F: 'X' does not "
         "follow the MT940 layout; its 1 transactions were not read"),
        ("line 5", "malformed statement line: an amount is not a number"),
    ]
    assert got.transactions["amount"].to_list() == ["-2.00"]


def test_mt940_without_a_statement_is_an_ingest_error(tmp_path: Path) -> None:
    path = tmp_path / "mt942.sta"
    path.write_text(":25:DE89370400440532013000\n:28C:1/1\n:34F:EURD0,00\n")
    with pytest.raises(IngestError, match="no MT940 statement"):
        list(Mt940Reader().read(path, Mapping(), 100))


def test_mt940_encoding_from_the_mapping_must_fit(tmp_path: Path) -> None:
    spec = tmp_path / "m.toml"
    spec.write_text('[source]\nencoding = "utf-8"\n')
    with pytest.raises(IngestError, match="cannot decode as utf-8"):
        read("mt940_commerzbank_two_statements.sta", Mapping.load(spec))


# -- shared behaviour ----------------------------------------------------------------------

def test_chunks_are_text_batches_with_rejects_where_they_occurred() -> None:
    got = read("statement_wellsfargo_bad_values.ofx", batch_size=2)
    assert [c.kind for c in got.chunks] == [RecordKind.ACCOUNT] + [RecordKind.TRANSACTION] * 3
    assert [c.frame.height for c in got.chunks[1:]] == [2, 2, 2]
    assert [len(c.rejects) for c in got.chunks[1:]] == [0, 2, 0]
    for chunk in got.chunks:
        assert set(chunk.frame.dtypes) == {pl.Utf8}
        assert chunk.frame.columns == (
            ACCOUNT_COLUMNS if chunk.kind is RecordKind.ACCOUNT else TRANSACTION_COLUMNS)
        assert chunk.options.decimal == "."


def test_constants_and_value_maps_from_the_mapping_apply(tmp_path: Path) -> None:
    spec = tmp_path / "m.toml"
    spec.write_text('[constants]\ncustomer_id = "C-1001"\n'
                    '[values.channel]\nstanding_order = "transfer"\n')
    got = read("camt053_v08_ing.xml", Mapping.load(spec))
    assert got.accounts["customer_id"].to_list() == ["C-1001"]
    assert "customer_id" not in got.transactions.columns
    assert "standing_order" not in got.transactions["channel"].to_list()


HEADERS = {
    "ofx": b"OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\n\r\n<OFX><BANKMSGSRSV1><STMTTRNRS>"
           b"<STMTRS><CURDEF>USD<BANKACCTFROM><ACCTID>1<ACCTTYPE>CHECKING</BANKACCTFROM>"
           b"<BANKTRANLIST><STMTTRN><TRNTYPE>",
    "camt053": b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
               b'camt.053.001.02"><BkToCstmrStmt><Stmt><Acct><Id><IBAN>DE89370400440532013000'
               b"</IBAN></Id></Acct><Ntry><Amt>",
    "mt940": b":20:X\r\n:25:DE89370400440532013000\r\n:28C:1/1\r\n:60F:C231004EUR10,00\r\n:61:",
}


def _read_anything(fmt: str, data: bytes, tmp: Path) -> None:
    """Reading ``data`` raises IngestError or gives chunks whose rejects all say why."""
    path = tmp / "upload.dat"
    path.write_bytes(data)
    try:
        chunks = list(READERS[fmt]().read(path, Mapping(), 7))
    except IngestError as exc:
        assert str(exc).strip()
        return
    assert chunks[0].kind is RecordKind.ACCOUNT
    for chunk in chunks:
        assert set(chunk.frame.dtypes) <= {pl.Utf8}
        assert chunk.frame.height <= 7
        assert all(r.reason.strip() and r.location.strip() for r in chunk.rejects)


@pytest.mark.parametrize("fmt", sorted(READERS))
@settings(max_examples=70, deadline=None)
@given(data=st.data())
def test_arbitrary_bytes_give_rows_rejects_or_an_ingest_error(
    tmp_path_factory: pytest.TempPathFactory, fmt: str, data: st.DataObject
) -> None:
    header = data.draw(st.sampled_from([b"", HEADERS[fmt]]))
    body = data.draw(st.binary(max_size=400))
    if header:
        assert READERS[fmt]().sniff(header + body, Path("x")) > 0
    _read_anything(fmt, header + body, tmp_path_factory.mktemp(fmt))


@pytest.mark.parametrize("fmt", sorted(READERS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_damaged_samples_give_rows_rejects_or_an_ingest_error(
    tmp_path_factory: pytest.TempPathFactory, fmt: str, data: st.DataObject
) -> None:
    sample = data.draw(st.sampled_from(SAMPLES[fmt])).read_bytes()
    start = data.draw(st.integers(0, len(sample)))
    end = data.draw(st.integers(start, min(len(sample), start + 40)))
    patch = data.draw(st.binary(max_size=12) | st.sampled_from(
        [b"", b"<", b">", b"</STMTTRN>", b"<STMTTRN>", b"?2", b"\r\n:61:", b"\r\n:20:", b"&"]))
    _read_anything(fmt, sample[:start] + patch + sample[end:], tmp_path_factory.mktemp(fmt))
