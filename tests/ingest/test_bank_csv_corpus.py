"""Real bank CSV statements from other projects' fixtures (``tests/data/SOURCES.md``): each
loads with its row count, a known amount and date, and its running balance where it has one.

Nothing here was written for Tactful; the corrupted-amount test alters one amount of a real file
in a temporary copy, and the Soll/Haben and sign tests use hand-written files, named as such.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from tactful.errors import IngestError
from tactful.ingest.conventions import settled
from tactful.ingest.csv_statement import derived_account
from tactful.ingest.loader import Loader
from tactful.ingest.mapping import Mapping
from tactful.ingest.readers import detect_format, readers
from tactful.ingest.validate import validate_chunk
from tactful.store.store import Store

CORPUS = Path(__file__).parent.parent / "data" / "statements" / "csv"


@dataclass(frozen=True)
class Statement:
    path: str
    rows: int
    row: int
    """Index of the row whose amount and date are pinned."""
    booked: date
    amount_minor: int
    balance: bool
    currency: str | None = None
    """Given as --currency: the file says none."""


STATEMENTS = [
    Statement("nl-ing/ing_ok.csv", 6, 0, date(2020, 2, 13), -125, False),
    # cp1250 (Czech), which cp1252 reads as French and Spanish letters ("zaúètování").
    Statement("cz-bank/Movements_1234512345_201805271848.csv", 1, 0, date(2018, 5, 27), -100,
              False),
    Statement("nl-asn/transactie-historie_NL00ASNB9999999999_20220717204133.csv", 11, 1,
              date(2022, 6, 17), -20000, True),
    Statement("nl-knab/Knab_transactieoverzicht_ok.csv", 27, 0, date(2019, 6, 21), -82775, False),
    Statement("de-ing/test_with_saldo.csv", 9, 1, date(2018, 12, 28), 5000, True),
    Statement("de-sparda/umsaetze-1234567-2024-02-13-12-00-00.csv", 7, 2, date(2024, 1, 29),
              243210, False),
    Statement("de-sparkasse-freiburg/simple1.csv", 2, 0, date(2018, 3, 28), -123456, False),
    Statement("de-gls/gls.csv", 1, 0, date(2017, 10, 10), -9876, False),
    Statement("de-n26/n26-fr.csv", 2, 1, date(2020, 3, 7), -32800, False),
    Statement("at-easybank/easybank-giro.csv", 10, 4, date(2014, 1, 19), -100100, False),
    Statement("at-raiffeisen/raiffeisen.csv", 7, 0, date(2013, 6, 28), 58, False),
    Statement("gb-lloyds/sample-statement.csv", 6, 3, date(2023, 12, 1), 200000, True, "GBP"),
    Statement("ch-ubs/ubs-ch-fr_trimmed.csv", 3, 1, date(2019, 2, 28), 24000, True),
    Statement("us-schwab/schwab-checking.csv", 4, 1, date(2022, 8, 14), -10300, True, "USD"),
    Statement("lt-swedbank/swedbank.csv", 5, 0, date(2012, 1, 2), -1434, False),
    # collected later, after the importer was written (2026-12-07): each showed a defect
    Statement("gb-johnlewis/sample-statement.csv", 8, 5, date(2020, 4, 21), 123456, False),
    Statement("sg-dbs/dbs.csv", 9, 0, date(2020, 5, 6), -3465, False, "SGD"),
    Statement("us-capitalone/capitalone.csv", 2, 0, date(2015, 12, 31), -100000, False, "USD"),
    Statement("ee-seb/sample-statement.csv", 59, 0, date(2022, 7, 4), -295, False),
    # a second round, the same evening
    Statement("de-dkb/non_empty.csv", 1, 0, date(2018, 1, 16), -1537, False),
    Statement("gb-monzo/MonzoDataExport_February2018.csv", 1, 0, date(2018, 2, 25), -1000, False),
    Statement("be-kbc-card/export_KBC-Mastercard_20200204_1604.csv", 3, 0, date(2020, 2, 1),
              -1652, False),
    Statement("de-sparkasse-card/umsatz-20180227.csv", 1, 0, date(2018, 2, 20), -500, False),
    Statement("be-fintro/sample.csv", 4, 0, date(2017, 2, 27), -19113, False),
    Statement("se-nordea-plusgiro/plusgirokonto.csv", 25, 0, date(2022, 5, 23), -184400, True),
    Statement("hu-erste/W80844_EBH_201945.202122.csv", 2, 0, date(2019, 4, 19), -35000, False),
    Statement("us-dcu/Main_Checking_Account_Transactions.csv", 10, 0, date(2021, 12, 31),
              -797139, False, "USD"),
    Statement("nl-bunq/bunq-statement.csv", 7, 0, date(2018, 12, 6), -878, False),
    # a third round
    Statement("it-bancoposta/bancoposta.csv", 4, 0, date(2018, 1, 3), -290, False, "EUR"),
    Statement("ch-zkb/ZKB_Sample.csv", 7, 0, date(2024, 1, 1), 500000, True),
    Statement("ru-alfabank/alfabank.csv", 3, 0, date(2017, 5, 31), 3312356, False),
]  # fmt: skip
REFUSED = {
    # the file's own running balance does not add up (442.67 + 0.00 is not 420.74)
    "eu-revolut/2022-january.csv": "line 3: the running balance does not reconcile",
    # which of the two is the statement's own account only the bank knows
    "de-c24/c24.csv": "columns 'IBAN' and 'Kontonummer' both map to account_id",
    "de-sparkasse-camt/sparkasse.csv":
        "columns 'Auftragskonto' and 'Kontonummer' both map to account_id",
    # its balance column does not add up from the second row (1719.90 + 2.69 is not 2447.31)
    "es-ing/ingesp.csv": "line 3: the running balance does not reconcile",
}  # fmt: skip
"""Given --currency EUR (the Spanish file says none; the others' own currency wins)."""


def _read(path: Path, mapping: Mapping) -> tuple[pl.DataFrame, list[str], list[str]]:
    frames, rejects, notes = [], [], []
    for chunk in settled(readers.get("csv")().read(path, mapping, 1000), str(path)):
        typed, bad = validate_chunk(chunk)
        frames.append(typed)
        rejects += [str(r) for r in bad]
        notes += chunk.notes
    return pl.concat(frames), rejects, notes


@pytest.mark.parametrize("case", STATEMENTS, ids=[s.path.split("/")[0] for s in STATEMENTS])
def test_a_real_bank_statement_loads_exactly(case: Statement) -> None:
    path = CORPUS / case.path
    assert detect_format(path) == "csv"
    mapping = Mapping().with_statement(account=None, currency=case.currency)
    typed, rejects, notes = _read(path, mapping)
    assert rejects == []
    assert typed.height == case.rows
    assert typed["amount_minor"][case.row] == case.amount_minor
    assert typed["booked_at"][case.row].date() == case.booked
    reconciled = [n for n in notes if n.startswith("running balance reconciles")]
    assert bool(reconciled) == case.balance, notes
    assert typed["account_id"].null_count() == 0


def test_the_four_files_with_a_balance_and_dollar_or_pound_amounts_need_a_currency() -> None:
    with pytest.raises(IngestError, match="does not say its currency"):
        _read(CORPUS / "gb-lloyds/sample-statement.csv", Mapping())


def test_the_account_comes_from_the_preamble_the_file_name_or_is_derived() -> None:
    de_ing, _, notes = _read(CORPUS / "de-ing/test_with_saldo.csv", Mapping())
    assert set(de_ing["account_id"]) == {"DE12345678901234567890"}
    assert "account …7890 from the preamble" in notes
    asn = CORPUS / "nl-asn/transactie-historie_NL00ASNB9999999999_20220717204133.csv"
    assert set(_read(asn, Mapping())[0]["account_id"]) == {"NL00ASNB9999999999"}
    raiffeisen = CORPUS / "at-raiffeisen/raiffeisen.csv"
    typed, _, notes = _read(raiffeisen, Mapping())
    assert set(typed["account_id"]) == {derived_account(raiffeisen)}
    given = Mapping().with_statement(account="AT611904300234573201", currency=None)
    assert set(_read(raiffeisen, given)[0]["account_id"]) == {"AT611904300234573201"}


def test_a_type_column_is_never_a_channel() -> None:
    typed, _, _ = _read(CORPUS / "us-schwab/schwab-checking.csv",
                        Mapping().with_statement(account=None, currency="USD"))  # fmt: skip
    assert set(typed["channel"]) == {"other"}


def test_a_balance_before_each_row_is_stored_as_the_balance_after() -> None:
    asn = CORPUS / "nl-asn/transactie-historie_NL00ASNB9999999999_20220717204133.csv"
    typed, _, _ = _read(asn, Mapping())
    assert typed["balance_after_minor"][0] == 13044 + 22377


def _corrupt(tmp_path: Path, source: str, old: str, new: str) -> Path:
    text = (CORPUS / source).read_text(encoding="utf-8")
    assert text.count(old) == 1
    out = tmp_path / Path(source).name
    out.write_text(text.replace(old, new), encoding="utf-8")
    return out


@pytest.mark.parametrize(
    ("source", "old", "new", "line"),
    [
        ("de-ing/test_with_saldo.csv", "-1,50;EUR", "-1,05;EUR", "line 18"),
        ("us-schwab/schwab-checking.csv", '"$75.00"', '"$57.00"', "line 4"),
        # A balance *before* each row: the wrong amount of line 3 shows in line 4's balance.
        ("nl-asn/transactie-historie_NL00ASNB9999999999_20220717204133.csv", "-2.20", "-22.0",
         "line 4"),
    ],
)  # fmt: skip
def test_a_corrupted_amount_is_caught_by_the_running_balance(
    sqlite_store: Store, tmp_path: Path, source: str, old: str, new: str, line: str
) -> None:
    path = _corrupt(tmp_path, source, old, new)
    loader = Loader(
        sqlite_store,
        report_dir=tmp_path / "reports",
        mapping=Mapping().with_statement(account=None, currency="USD"),
    )
    (report,) = loader.ingest([path]).files
    assert report.inserted == 0
    assert report.rejects_path is not None
    with open(report.rejects_path, encoding="utf-8", newline="") as fh:
        (reject,) = list(csv.DictReader(fh))
    assert reject["location"] == "file"
    assert reject["reason"].startswith(f"{line}: the running balance does not reconcile")


def test_a_flagged_mismatch_loads_with_the_first_diverging_row_in_a_note(tmp_path: Path) -> None:
    path = _corrupt(tmp_path, "de-ing/test_with_saldo.csv", "-1,50;EUR", "-1,05;EUR")
    (tmp_path / "m.toml").write_text('[source]\non_balance_mismatch = "flag"\n')
    typed, _, notes = _read(path, Mapping.load(tmp_path / "m.toml"))
    assert typed.height == 9
    assert any(n.startswith("line 18: the running balance does not reconcile") for n in notes)


def test_the_report_groups_what_could_not_be_read_by_cause_with_the_fix(
    sqlite_store: Store, tmp_path: Path
) -> None:
    handwritten = tmp_path / "handwritten_sign.csv"
    handwritten.write_text(
        "Date,Amount,Af Bij,Currency,Account\n"
        "2024-03-01,12.50,X,EUR,NL91ABNA0417164300\n2024-03-02,1.00,Y,EUR,NL91ABNA0417164300\n"
    )
    report = Loader(sqlite_store, report_dir=tmp_path / "r").ingest(
        [handwritten, CORPUS / "gb-lloyds/sample-statement.csv"]
    )
    sign, currency = report.unread()
    assert (sign.title, sign.count, sign.fix) == (
        "unknown debit/credit sign", 2, '[values.sign] "X" = "debit"'
    )
    assert sign.examples[0].startswith("handwritten_sign.csv: line 2: sign 'X'")
    assert (currency.title, currency.count) == ("no currency", 1)
    assert currency.fix == '[constants] currency = "EUR"  (or --currency)'


@pytest.mark.parametrize("path", sorted(REFUSED), ids=[p.split("/")[0] for p in sorted(REFUSED)])
def test_a_real_statement_that_cannot_load_as_is_says_why(path: str) -> None:
    with pytest.raises(IngestError, match=REFUSED[path]):
        _read(CORPUS / path, Mapping().with_statement(account=None, currency="EUR"))


def test_a_desc_column_is_the_description(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text('[source]\non_balance_mismatch = "flag"\n')
    mapping = Mapping.load(tmp_path / "m.toml").with_statement(account=None, currency="EUR")
    typed, rejects, _ = _read(CORPUS / "es-ing/ingesp.csv", mapping)
    assert rejects == [] and typed.height == 10
    assert typed["description"][0] == "Abono por campaña Abono Shopping NARANJA:GALP"


def test_a_sign_column_that_marks_only_credits_makes_the_blank_rows_debits() -> None:
    """John Lewis prints purchases unsigned and "CR" in an unnamed column beside a payment
    received: read without that column, every purchase was stored as income (exit 0)."""
    typed, _, notes = _read(CORPUS / "gb-johnlewis/sample-statement.csv", Mapping())
    assert (typed["amount_minor"] < 0).sum() == 7
    assert typed["amount_minor"].sum() == 123456 - 35856  # +876.00 over the statement
    assert "column '' marks only one side: a blank there is a debit" in notes


def test_a_reference_column_of_type_codes_is_no_transaction_id() -> None:
    """DBS's "Reference" is MST/ITR/BILL: read as ids, 4 of 9 rows were refused as
    conflicting duplicates."""
    typed, rejects, notes = _read(CORPUS / "sg-dbs/dbs.csv",
                                  Mapping().with_statement(account=None, currency="SGD"))
    assert rejects == [] and typed.height == 9 and typed["transaction_id"].null_count() == 9
    assert typed["amount_minor"].sum() == -1688026
    assert any(n.startswith("column 'Reference' is no transaction id") for n in notes)


def test_a_card_export_books_the_purchase_and_keeps_the_posting_as_value_date() -> None:
    typed, _, _ = _read(CORPUS / "us-capitalone/capitalone.csv",
                        Mapping().with_statement(account=None, currency="USD"))
    assert typed["value_at"][0].date() == date(2016, 1, 2)
    assert typed["amount_minor"].to_list() == [-100000, 100000]


def test_a_state_column_in_the_banks_words_keeps_pending_payments_pending(tmp_path: Path) -> None:
    """Revolut's header (Started Date, State: COMPLETED/PENDING) was not recognized, the file
    read as headerless, and with --currency its two pending card payments were stored as
    posted."""
    (tmp_path / "m.toml").write_text('[source]\non_balance_mismatch = "flag"\n')
    typed, rejects, _ = _read(CORPUS / "eu-revolut/2022-january.csv",
                              Mapping.load(tmp_path / "m.toml"))
    assert rejects == [] and typed.height == 9
    pending = typed.filter(typed["status"] == "pending")
    assert sorted(pending["amount_minor"].to_list()) == [-7358, -4457]
    assert pending["value_at"].null_count() == 2  # not completed yet


def test_the_preamble_names_the_account_when_the_account_column_is_the_payees() -> None:
    """DKB's preamble says "Kontonummer: DE99... / Girokonto"; its Kontonummer column is the
    payee's IBAN, under which the payments were stored (exit 0)."""
    typed, _, notes = _read(CORPUS / "de-dkb/non_empty.csv", Mapping())
    assert set(typed["account_id"]) == {"DE99999999999999999999"}
    assert any("names another party's account" in n for n in notes)


def test_columns_named_in_other_words_are_read_by_what_they_hold() -> None:
    # Swedish "Valuta" is the currency (Dutch and German: the value date)
    plusgiro, _, _ = _read(CORPUS / "se-nordea-plusgiro/plusgirokonto.csv", Mapping())
    assert set(plusgiro["currency"]) == {"SEK"} and plusgiro["value_at"].null_count() == 25
    # bunq: "Description" is the text, "Name" beside it the payee's; the IBAN gives EUR
    bunq, _, notes = _read(CORPUS / "nl-bunq/bunq-statement.csv", Mapping())
    assert bunq["description"][0].startswith("CLOUDFLARE")
    assert "currency EUR from the country of its IBAN" in notes
    # Sparkasse card: Buchungsbetrag and Buchungswährung; Transaktionsbeschreibung the text
    card, _, _ = _read(CORPUS / "de-sparkasse-card/umsatz-20180227.csv", Mapping())
    assert card["description"][0].startswith("AMREST STARBUCKS")


def test_a_bank_id_longer_than_an_id_column_is_kept_as_its_digest() -> None:
    """DCU's ids are 232 characters of base64: every row was refused."""
    mapping = Mapping().with_statement(account=None, currency="USD")
    first, rejects, _ = _read(CORPUS / "us-dcu/Main_Checking_Account_Transactions.csv", mapping)
    again, _, _ = _read(CORPUS / "us-dcu/Main_Checking_Account_Transactions.csv", mapping)
    assert rejects == [] and first["transaction_id"].str.starts_with("b2:").all()
    assert first["transaction_id"].n_unique() == 10
    assert first["transaction_id"].to_list() == again["transaction_id"].to_list()


def test_a_pending_card_payment_without_a_date_is_refused_saying_so() -> None:
    typed, rejects, notes = _read(CORPUS / "gb-ms-bank/statement-2019-12.csv", Mapping())
    assert typed.height == 10 and len(rejects) == 3
    assert all("'Pending' is no date: the payment is not booked yet" in r for r in rejects)
    assert "column '' marks only one side: a blank there is a debit" in notes


def test_every_csv_in_the_corpus_has_a_case_and_a_source() -> None:
    files = sorted(str(p.relative_to(CORPUS)) for p in CORPUS.glob("*/*"))
    others = ["gb-ms-bank/statement-2019-12.csv"]  # pending rows: its own test
    assert files == sorted([s.path for s in STATEMENTS] + list(REFUSED) + others)
    sources = (CORPUS.parent.parent / "SOURCES.md").read_text(encoding="utf-8")
    for name in files:
        assert f"`{name}`" in sources, name


def test_a_time_column_beside_a_date_column_is_not_a_second_date(tmp_path: Path) -> None:
    """Handwritten, in PC Financial Mastercard's layout: "Time" is a booking-date alias, and
    beside "Date" the file was refused as two columns for one field."""
    path = tmp_path / "handwritten_date_time.csv"
    path.write_text('"Merchant Name","Date","Time","Amount"\n'
                    '"Mobil","01/10/2019","06:50 PM","-36.33"\n'
                    '"APL*ITUNES.COM/BILL","12/15/2018","05:08 PM","-13.98"\n')
    typed, rejects, _ = _read(path, Mapping().with_statement(account=None, currency="CAD"))
    assert rejects == [] and typed["booked_at"][0].date() == date(2019, 1, 10)
    assert typed["booked_at"][1].date() == date(2018, 12, 15)


# Handwritten files, each pinning what a file that loaded before these rules still does.


def _handwritten(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"handwritten_{name}.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_date_format_reads_year_first_dates_as_written(tmp_path: Path) -> None:
    path = _handwritten(tmp_path, "dots", "Date,Amount,Currency,Description\n"
                                          "2019.04.19,-12.50,EUR,coffee\n")
    (tmp_path / "m.toml").write_text('[source]\ndate_format = "%Y.%m.%d"\n')
    typed, rejects, _ = _read(path, Mapping.load(tmp_path / "m.toml"))
    assert rejects == [] and typed["booked_at"][0].date() == date(2019, 4, 19)


def test_a_column_the_mapping_names_wins_over_a_default_alias(tmp_path: Path) -> None:
    path = _handwritten(tmp_path, "named", "Buchungstag;Buchungstext;Verwendungszweck;Betrag;"
                        "Waehrung\n01.02.2024;LASTSCHRIFT;Miete Februar;-800,00;EUR\n")
    (tmp_path / "m.toml").write_text('[columns]\n"Buchungstext" = "description"\n')
    typed, rejects, _ = _read(path, Mapping.load(tmp_path / "m.toml"))
    assert rejects == [] and typed["description"][0] == "LASTSCHRIFT"


def test_a_second_value_date_is_left_out_and_other_second_dates_still_clash(
    tmp_path: Path,
) -> None:
    path = _handwritten(tmp_path, "value_dates", "Booking Date,Value Date,Valutadatum,Amount,"
                        "Currency\n2024-02-01,2024-02-02,2024-02-03,-5.00,EUR\n")
    typed, rejects, _ = _read(path, Mapping())
    assert rejects == [] and typed["value_at"][0].date() == date(2024, 2, 2)
    created = _handwritten(tmp_path, "created", "Date,Created,Amount,Currency\n"
                           "2024-02-01,2024-01-30 10:00,-5.00,EUR\n")
    with pytest.raises(IngestError, match="'Date' and 'Created' both map to booked_at"):
        _read(created, Mapping())


def test_a_one_sided_sign_column_beside_signed_amounts_sets_no_default(tmp_path: Path) -> None:
    path = _handwritten(tmp_path, "signed", "Date,Description,Amount,Type,Currency\n"
                        "2024-02-01,Shop,-12.00,,EUR\n2024-02-02,Salary,500.00,CR,EUR\n"
                        "2024-02-03,Interest,0.35,,EUR\n")
    typed, rejects, notes = _read(path, Mapping())
    assert not any("marks only one side" in n for n in notes)
    assert -35 not in typed["amount_minor"].to_list() and len(rejects) == 2


def test_an_unnamed_placeholder_column_is_no_sign(tmp_path: Path) -> None:
    path = _handwritten(tmp_path, "placeholder", "Date,Description,Amount,,Currency\n"
                        "2024-02-01,Salary,500.00,-,EUR\n2024-02-02,Shop,12.00,-,EUR\n")
    typed, rejects, _ = _read(path, Mapping())
    assert rejects == [] and typed["amount_minor"].to_list() == [50000, 1200]


def test_a_sign_cell_of_spaces_is_a_blank(tmp_path: Path) -> None:
    path = _handwritten(tmp_path, "spaces", "Date,Description,Amount,\n"
                        "01-Apr-2020,Shop,£12.00, \n02-Apr-2020,Payment,£50.00,CR\n")
    typed, rejects, _ = _read(path, Mapping())
    assert rejects == [] and typed["amount_minor"].to_list() == [-1200, 5000]


def test_a_repeated_bank_id_stays_the_id(sqlite_store: Store, tmp_path: Path) -> None:
    """An export that repeats a row keeps the bank's ids, so an overlapping later file lands
    on the same transactions."""
    head = "Date,Transaction ID,Amount,Currency,Description\n"
    one = _handwritten(tmp_path, "ids1", head + "2024-02-01,TX1001,-5.00,EUR,a\n"
                       "2024-02-01,TX1001,-5.00,EUR,a\n2024-02-02,TX1002,-7.00,EUR,b\n")
    two = _handwritten(tmp_path, "ids2", head + "2024-02-01,TX1001,-5.00,EUR,a\n"
                       "2024-02-02,TX1002,-7.00,EUR,b\n2024-02-03,TX1003,-9.00,EUR,c\n")
    mapping = Mapping().with_statement(account="ACC-1", currency=None)
    loader = Loader(sqlite_store, report_dir=tmp_path / "r", mapping=mapping)
    loader.ingest([one])
    loader.ingest([two])
    assert sqlite_store.counts()["transactions"] == 3


def test_an_account_column_of_two_countries_gives_no_currency(tmp_path: Path) -> None:
    path = _handwritten(tmp_path, "two_countries", "Date,IBAN,Amount,Description\n"
                        "2024-02-01,DE89370400440532013000,-5.00,a\n"
                        "2024-02-01,CH9300762011623852957,-5.00,b\n")
    with pytest.raises(IngestError, match="does not say its currency"):
        _read(path, Mapping())


def test_an_account_column_holding_the_preambles_account_is_kept(tmp_path: Path) -> None:
    path = _handwritten(tmp_path, "bban", "Account;12345678\n\nDate;Account;Amount;Currency\n"
                        "2024-02-01;GB33BUKB20201512345678;-5,00;GBP\n")
    typed, _, notes = _read(path, Mapping())
    assert set(typed["account_id"]) == {"GB33BUKB20201512345678"}
    assert not any("another party's account" in n for n in notes)


def test_a_posting_date_is_the_value_date_before_or_after_the_transaction_date(
    tmp_path: Path,
) -> None:
    for name, head, row in (
        ("after", "Transaction Date,Posted Date", "2024-02-01,2024-02-03"),
        ("before", "Posted Date,Transaction Date", "2024-02-03,2024-02-01"),
    ):
        path = _handwritten(tmp_path, name, f"{head},Amount,Currency\n{row},-5.00,USD\n")
        typed, rejects, _ = _read(path, Mapping())
        assert rejects == [], name
        assert typed["booked_at"][0].date() == date(2024, 2, 1), name
        assert typed["value_at"][0].date() == date(2024, 2, 3), name


def test_opening_and_closing_balance_rows_are_no_payments_on_the_fast_path() -> None:
    """BancoPosta's "SALDO FINALE" row (28,359.05 in the credit column) was stored as a
    payment: the native reader took the file, and only the careful one skipped such rows."""
    typed, rejects, notes = _read(CORPUS / "it-bancoposta/bancoposta.csv",
                                  Mapping().with_statement(account=None, currency="EUR"))
    assert rejects == [] and typed["amount_minor"].sum() == -390
    assert any("2 opening/closing balance" in n for n in notes)


def test_an_empty_currency_column_leaves_the_currency_to_the_file() -> None:
    typed, _, notes = _read(CORPUS / "ch-zkb/ZKB_Sample.csv", Mapping())
    assert set(typed["currency"]) == {"CHF"}
    assert "column 'Curr' is empty: not read as the currency" in notes
    assert "currency CHF from the header 'Debit CHF'" in notes
    assert typed["description"][0].startswith("Credit salary")


def test_headers_in_cyrillic_are_read_and_can_be_mapped(tmp_path: Path) -> None:
    typed, _, _ = _read(CORPUS / "ru-alfabank/alfabank.csv", Mapping())
    assert set(typed["currency"]) == {"RUB"}  # RUR, the rouble's code of 1992-1997
    assert typed["description"][0].startswith("{VO11111} Перечисление")
    (tmp_path / "m.toml").write_text('[columns]\n"Референс проводки" = "transaction_id"\n')
    mapped, rejects, _ = _read(CORPUS / "ru-alfabank/alfabank.csv",
                               Mapping.load(tmp_path / "m.toml"))
    assert rejects == [] and mapped["transaction_id"][0] == "ABCDEF11111111111"
