"""MT940 read leniently but exactly (issue 16): the variants real banks write lose nothing, and
no amount is ever read as another; a statement whose lines do not add up to its balances is
refused, naming where the running total leaves them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tactful.ingest.mapping import Mapping
from tactful.ingest.readers.mt940 import Mt940Reader
from tactful.ingest.schema import LOCATION, Chunk

MT940 = Path(__file__).parents[1] / "data" / "statements" / "mt940"


def _read(tmp_path: Path, text: str) -> tuple[Chunk, list[Chunk]]:
    path = tmp_path / "s.sta"
    path.write_text(text, encoding="utf-8")
    accounts, *transactions = Mt940Reader().read(path, Mapping(), 100)
    return accounts, transactions


@pytest.mark.parametrize("number", [":28C:00001/001", ":28C:1", ":28C:5/1", ":28:00000/00", ""])
def test_statement_number_variants_are_all_read(tmp_path: Path, number: str) -> None:
    text = (f":20:X\n:25:NL91ABNA0417164300\n{number}\n:60F:C240101EUR10,00\n"
            ":61:2401020102D2,50NTRFNONREF\n:86:coffee\n:62F:C240102EUR7,50\n")
    accounts, (chunk,) = _read(tmp_path, text.replace("\n\n", "\n"))
    assert chunk.frame["amount"].to_list() == ["-2.50"] and chunk.rejects == []
    assert accounts.notes == ["balance check: 1 of 1 statement(s) reconcile"]


def test_dot_decimals_are_read_exactly(tmp_path: Path) -> None:
    # The bank's testers saw 772.55 loaded as 772.00 and 138619. as 1386.19, with exit 0.
    text = (":20:X\n:25:DE89370400440532013000\n:28C:1/1\n:60F:C240101EUR1000.00\n"
            ":61:2401020102D772.55NTRFNONREF\n:86:rent\n"
            ":61:2401030103C138619.NTRFNONREF\n:86:sale\n"
            ":62F:C240103EUR138846.45\n")
    accounts, (chunk,) = _read(tmp_path, text)
    assert chunk.frame["amount"].to_list() == ["-772.55", "138619"]
    assert accounts.frame["balance"].to_list() == ["138846.45"]
    assert accounts.notes == ["balance check: 1 of 1 statement(s) reconcile"]


def test_continuations_reversals_year_end_and_swift_blocks(tmp_path: Path) -> None:
    text = (
        "{1:F01ABNANL2AXXXX0000000000}{2:O940ABNANL2AXXXXN}{3:}{4:\n"
        ":20:X\n:25:NL91ABNA0417164300\n:28C:00001/001\n:60F:C241231EUR100,00\n"
        # entry date 12-31 of a value date in January: booked in the year before
        ":61:2501021231D10,00NTRFLONGREFERENCE123456//B1\nsupplementary details\n"
        ":86:/TRTP/SEPA OVERBOEKING/NAME/Jan Jansen/REMI/USTD//huur\n januari/\n"
        ":61:2501020102RD4,00NCHGNONREF//B2\n:86:fee refund\n"
        ":61:2501020102RC1,00NCHGNONREF//B3\n:86:interest reversed\n"
        ":62F:C250102EUR93,00\n-}{5:}\n"
    )
    accounts, (chunk,) = _read(tmp_path, text)
    assert chunk.rejects == []
    rows = chunk.frame.to_dicts()
    assert [(r["booked_at"], r["value_at"], r["amount"]) for r in rows] == [
        ("2024-12-31", "2025-01-02", "-10.00"), ("2025-01-02", "2025-01-02", "4.00"),
        ("2025-01-02", "2025-01-02", "-1.00")]
    assert (rows[0]["transaction_id"], rows[0]["counterparty"]) == ("B1", "Jan Jansen")
    assert rows[0]["description"] == "huur januari / SEPA OVERBOEKING / supplementary details"
    assert accounts.notes == ["balance check: 1 of 1 statement(s) reconcile"]


def test_several_details_tags_for_one_line_are_joined(tmp_path: Path) -> None:
    text = (":20:X\n:25:1291.99.348EUR\n:28:00000/00\n:60F:C110614EUR100,00\n"
            ":61:110527D10,00N0440121470966      W.P. Jansen\n:86:Terugboeking\n"
            ":86:NIET AKKOORD MET AFSCHRIJVING\n:62F:C110615EUR90,00\n")
    _, (chunk,) = _read(tmp_path, text)
    assert chunk.frame["description"].to_list() == [
        "Terugboeking NIET AKKOORD MET AFSCHRIJVING"]


def test_a_corrupted_amount_is_caught_by_the_balances(tmp_path: Path) -> None:
    text = (MT940 / "asnb_mt940.txt").read_text()
    assert text.count(":61:2001050105D801,55") == 1
    accounts, (chunk,) = _read(tmp_path, text.replace(":61:2001050105D801,55",
                                                      ":61:2001050105D801,05"))
    # Statement 5 no longer adds up: its two lines are refused, every other one loads.
    assert chunk.frame.height == 6
    first, second = chunk.rejects
    assert (first.location, second.location) == ("line 42", "line 50")
    assert first.reason == (
        "statement 5 (NL81ASNB9999999999) does not reconcile: 379.29 (:60F: of 2020-01-05) + 2 "
        "entries (198.95) = 578.24, but :62F: of 2020-01-05 is 577.74 (a difference of -0.50); "
        "the running total diverges between line 42 and line 50")
    assert second.reason == (
        "statement 5 (NL81ASNB9999999999) does not reconcile (see line 42); not loaded")
    assert accounts.notes[0] == "balance check: 30 of 31 statement(s) reconcile, 1 does not"
    assert "line 42" not in chunk.frame[LOCATION].to_list()
