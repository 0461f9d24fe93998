"""Signs of unsigned amounts (hand-written files, named as such; the real ones are in
``test_bank_csv_corpus.py``): a debit/credit pair whose empty side is ``0,00``, sign columns,
and what is rejected rather than guessed."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tactful.errors import IngestError
from tactful.ingest.conventions import settled
from tactful.ingest.mapping import Mapping
from tactful.ingest.readers import readers
from tactful.ingest.validate import validate_chunk


def _read(tmp_path: Path, text: str, mapping: str = "") -> tuple[pl.DataFrame, list[str]]:
    path = tmp_path / "handwritten.csv"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "m.toml").write_text(mapping)
    frames, rejects = [], []
    for chunk in settled(
        readers.get("csv")().read(path, Mapping.load(tmp_path / "m.toml"), 100), str(path)
    ):
        typed, bad = validate_chunk(chunk)
        frames.append(typed)
        rejects += [f"{r.location}: {r.reason}" for r in bad]
    return pl.concat(frames), rejects


def test_soll_haben_pair_the_zero_side_never_wins(tmp_path: Path) -> None:
    typed, rejects = _read(
        tmp_path,
        "Buchungstag;Verwendungszweck;Soll;Haben;Währung\n"
        "01.03.2024;Miete;850,00;0,00;EUR\n"
        "02.03.2024;Gehalt;0,00;2.500,00;EUR\n"
        "03.03.2024;Erstattung;;12,50;EUR\n"
        "04.03.2024;Unklar;5,00;7,00;EUR\n",
    )
    assert typed["amount_minor"].to_list() == [-85000, 250000, 1250]
    assert rejects == [
        "line 5: both debit '5,00' and credit '7,00' hold an amount; one side must be blank "
        "or zero"
    ]


@pytest.mark.parametrize(
    ("header", "debit", "credit"),
    [("Af Bij", "Af", "Bij"), ("D/K", "D", "K"), ("CR/DR", "DR", "CR"), ("S/H", "S", "H"),
     ("Type", "DEBIT", "CREDIT"), ("Debit/Credit", "Debit", "Credit")],
)  # fmt: skip
def test_a_sign_column_signs_unsigned_amounts(
    tmp_path: Path, header: str, debit: str, credit: str
) -> None:
    typed, rejects = _read(
        tmp_path,
        f"Date,Amount,{header},Currency\n2024-03-01,12.50,{debit},EUR\n"
        f"2024-03-02,100.00,{credit},EUR\n",
    )
    assert rejects == []
    assert typed["amount_minor"].to_list() == [-1250, 10000]


def test_an_unknown_sign_is_rejected_and_a_mapping_fixes_it(tmp_path: Path) -> None:
    text = "Date,Amount,Af Bij,Currency\n2024-03-01,12.50,X,EUR\n2024-03-02,1.00,Bij,EUR\n"
    typed, rejects = _read(tmp_path, text)
    assert typed["amount_minor"].to_list() == [100]
    assert rejects == [
        "line 2: sign 'X' is neither a debit nor a credit word; map it under [values.sign]"
    ]
    typed, rejects = _read(tmp_path, text, '[values.sign]\n"X" = "debit"\n')
    assert (typed["amount_minor"].to_list(), rejects) == ([-1250, 100], [])


def test_a_sign_column_named_in_the_mapping(tmp_path: Path) -> None:
    typed, _ = _read(
        tmp_path,
        "Date,Amount,Richtung,Currency\n2024-03-01,12.50,Soll,EUR\n",
        '[source]\nsign_column = "Richtung"\n',
    )
    assert typed["amount_minor"].to_list() == [-1250]


def test_a_type_column_of_other_words_is_ignored(tmp_path: Path) -> None:
    typed, rejects = _read(
        tmp_path, "Date,Amount,Type,Currency\n2024-03-01,-12.50,ATM,EUR\n2024-03-02,3.00,DEP,EUR\n"
    )
    assert rejects == []
    assert typed["amount_minor"].to_list() == [-1250, 300]
    assert set(typed["channel"]) == {"other"}


def test_a_decimal_mark_nothing_decides_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="the decimal mark cannot be told"):
        _read(tmp_path, "Date,Amount,Currency\n2024-03-01,1.500,EUR\n2024-03-02,2.250,EUR\n")


def test_a_negative_amount_whose_sign_says_credit_is_rejected() -> None:
    from tactful.ingest.signs import apply_sign

    out = apply_sign(pl.DataFrame({"amount": ["-12.00", "5.00"], "sign": ["CR", "D"]}))
    assert out["amount"].to_list() == ["12.00", "-5.00"]
    assert out["_reject"].to_list() == [
        "amount '-12.00' is negative but its sign 'CR' says credit", None]
