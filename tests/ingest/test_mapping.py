"""Column mappings: a bank's own headers, constants and codes, and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tactful.errors import ConfigError
from tactful.ingest.loader import Loader
from tactful.ingest.mapping import Mapping, normalize_header
from tactful.store import schema
from tactful.store.store import Store

EXPORT = (
    "Datum|Omschrijving|Bedrag (EUR)|Code\n"
    "03-01-2024|Albert Heijn 1403 AMSTERDAM|-23,40|BA\n"
    "04-01-2024|Huur januari|-1.250,00|IC\n"
    "05-01-2024|Salaris ACME BV|3.100,00|OV\n"
)
MAPPING = """
[source]
timezone = "Europe/Amsterdam"
decimal = ","
delimiter = "|"
date_format = "%d-%m-%Y"

[columns]
"Bedrag (EUR)" = "amount"
"Code" = "channel"

[constants]
account_id = "NL91ABNA0417164300"
currency = "EUR"

[values.channel]
BA = "card"
IC = "direct_debit"
OV = "transfer"

[[files]]
pattern = "ignored_*.csv"
kind = "events"
"""


def test_a_bank_specific_export_through_a_mapping(sqlite_store: Store, tmp_path: Path) -> None:
    export = tmp_path / "abn_2024.csv"
    export.write_text(EXPORT, encoding="utf-8")
    mapping_file = tmp_path / "abn.toml"
    mapping_file.write_text(MAPPING, encoding="utf-8")
    loader = Loader(sqlite_store, mapping=Mapping.load(mapping_file), report_dir=tmp_path / "r")
    (report,) = loader.ingest([export]).files
    assert (report.inserted, report.rejected) == (3, 0)
    t = schema.transactions
    rows = sqlite_store.rows(select(t.c.account_id, t.c.booked_at, t.c.amount_minor, t.c.channel)
                             .order_by(t.c.booked_at))
    assert [(r.amount_minor, r.channel) for r in rows] == [
        (-2340, "card"), (-125000, "direct_debit"), (310000, "transfer")]
    assert rows[0].account_id == "NL91ABNA0417164300"
    assert rows[0].booked_at.isoformat() == "2024-01-02T23:00:00+00:00"  # midnight Amsterdam


@pytest.mark.parametrize(("text", "message"), [
    ('[source]\ndecimal = ";"\n', "source.decimal: Input should be '.' or ','"),
    ('[columns]\n"Betrag" = "amont"\n', "column 'Betrag' maps to unknown field 'amont'"),
    ("[sauce]\n", "sauce: Extra inputs are not permitted"),
    ('[source]\nkind = "loans"\n', "source.kind: Input should be"),
    ("[source\n", "cannot read mapping file"),
])
def test_bad_mapping_files_are_named_with_the_field(tmp_path: Path, text: str,
                                                    message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Mapping.load(path)


@pytest.mark.parametrize(("header", "key"), [
    ("Booking-Date ", "bookingdate"), ("\ufeffWährung", "wahrung"), ("Montant (€)", "montant"),
])
def test_header_matching_ignores_case_accents_and_punctuation(header: str, key: str) -> None:
    assert normalize_header(header) == key


def test_kind_is_told_from_columns(tmp_path: Path) -> None:
    from tactful.ingest.readers.tabular import plan_columns
    from tactful.ingest.schema import RecordKind

    fm = Mapping().for_file(tmp_path / "x.csv")
    assert plan_columns(["Account", "Type", "Currency"], fm, tmp_path / "x.csv")[0] is \
        RecordKind.ACCOUNT
    assert plan_columns(["Date", "Amount", "Currency", "IBAN"], fm, tmp_path / "x.csv")[0] is \
        RecordKind.TRANSACTION
    assert plan_columns(["user_id", "event", "ts"], fm, tmp_path / "x.csv")[0] is RecordKind.EVENT
