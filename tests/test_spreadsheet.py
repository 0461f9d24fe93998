"""Files people open in a spreadsheet never carry a live formula from the bank's data."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

from tactful.ingest.conflicts import ConflictWriter
from tactful.models.scoring import write_table
from tactful.spreadsheet import spreadsheet_safe, spreadsheet_safe_frame

ATTACKS = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def test_every_trigger_is_quoted_and_plain_text_is_not() -> None:
    for cell in ATTACKS:
        assert spreadsheet_safe(cell) == "'" + cell
    assert spreadsheet_safe("Tesco 1,234") == "Tesco 1,234"
    assert spreadsheet_safe("-12.50") == "-12.50"  # a number, not a formula
    assert spreadsheet_safe("-1+2") == "'-1+2"


def test_frame_quotes_text_columns_and_leaves_numbers() -> None:
    frame = pl.DataFrame({"id": [*ATTACKS, "C-1", "-7"], "score": [-0.5] * 8})
    safe = spreadsheet_safe_frame(frame)
    assert safe["id"].to_list() == ["'" + a for a in ATTACKS] + ["C-1", "-7"]
    assert safe["score"].to_list() == [-0.5] * 8


def test_score_table_csv_is_safe_and_parquet_exact(tmp_path: Path) -> None:
    frame = pl.DataFrame({"customer_id": ["=1+1"], "score": [-0.25]})
    write_table(frame, tmp_path / "s.csv")
    rows = list(csv.reader((tmp_path / "s.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[1] == ["'=1+1", "-0.25"]
    write_table(frame, tmp_path / "s.parquet")
    assert pl.read_parquet(tmp_path / "s.parquet")["customer_id"].to_list() == ["=1+1"]


def test_conflicts_file_quotes_the_bank_values(tmp_path: Path) -> None:
    writer = ConflictWriter(tmp_path / "c.csv", "=evil.csv")
    writer.write(
        pl.DataFrame(
            {
                "id": ["t1"],
                "field": ["description"],
                "stored": ["ok"],
                "new": ["=cmd|'/c calc'!A1"],
                "location": ["line 3"],
            }
        )
    )
    writer.close()
    rows = list(csv.reader((tmp_path / "c.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[1][3] == "'=cmd|'/c calc'!A1"
    assert rows[1][4] == "'=evil.csv"
