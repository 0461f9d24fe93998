"""Cells made safe for a spreadsheet: files the engine writes for people open in Excel.

The rejects, conflicts and score tables carry the bank's data, which an attacker may have
written (a description, a merchant name, a customer id in a mapped column). OWASP's
CSV-injection guidance: a cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is prefixed with ``'`` so Excel, LibreOffice and Sheets show it as text. Numbers stay
numbers: only text columns are touched, and a text cell that is a plain number (``-12.50``,
``+3``) is left alone, since a spreadsheet reads it as that number and runs nothing.
"""

from __future__ import annotations

import re

import polars as pl

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters a spreadsheet reads as the start of a formula (OWASP, CSV injection)."""

_NUMBER = r"^[+-]?[0-9]+(?:[.,][0-9]+)?$"
_IS_NUMBER = re.compile(_NUMBER)


def spreadsheet_safe(cell: str) -> str:
    """``cell`` with a leading single quote when a spreadsheet would run it as a formula."""
    if cell.startswith(FORMULA_TRIGGERS) and not _IS_NUMBER.match(cell):
        return "'" + cell
    return cell


def spreadsheet_safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every text column passed through ``spreadsheet_safe`` (vectorized)."""
    pattern = "^[" + "".join("\\" + c if c in "-+" else c for c in FORMULA_TRIGGERS) + "]"
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(pattern) & ~pl.col(c).str.contains(_NUMBER))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )
