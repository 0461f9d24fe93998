"""Conflicts: a file that contradicts the money of a transaction already stored.

A transaction id (``<account>:<source id>``) is the bank's word that two rows are one
transaction. When a later export brings a stored id with a different amount, direction,
currency or booking date, the bank has corrected it (a pending card payment posted for another
amount, a reversed sign, a rebooked day). Treating that row as a duplicate would keep the old
money without a word, so it is a **conflict**: counted in the import's summary, listed in
``import-<id>-<file>.conflicts.csv`` (id, field, stored value, new value, file, location), and
resolved by the policy chosen for the import:

* ``keep`` (the default): the stored row stays as it is; the report says what the file claims.
* ``replace``: the stored row takes the file's row (every source column and the import id),
  and its enrichment (merchant, category, series) is cleared, so the next ``tactful enrich``
  recomputes that customer's categories, series and income with the corrected money.

A ``version`` policy (keep both rows, the newer one current) is not offered: every reader of
transactions (enrichment, features, insights, the profile, the models' history) would have to
skip superseded rows, and one reader that forgets counts the money twice. ``replace`` plus the
conflicts file (which keeps the old values) gives the audit trail without that risk.

Other fields (description, counterparty, channel, status alone) are not money: a re-export that
only changes them stays a duplicate, as before. A transaction without a source id is keyed on its
content, amount included, so a corrected amount there makes a new key; such files should carry
ids (see ``keys.py``).

Detection is free on a first import: only a batch whose write met ids already stored reads the
stored rows of its ids, in one statement, inside the batch's transaction.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, TextIO

import polars as pl

from tactful.ingest.choices import ConflictPolicy as ConflictPolicy  # re-exported: its old home
from tactful.ingest.schema import LOCATION
from tactful.spreadsheet import spreadsheet_safe
from tactful.store import schema

MONEY_FIELDS = ("amount_minor", "currency", "booked_at")
"""The fields a conflict is about; a change of sign is reported as ``direction``."""

ENRICHED = (
    "merchant",
    "merchant_key",
    "category",
    "category_detailed",
    "category_source",
    "series_id",
    "category_confidence",
    "group_key",
)
"""Columns the understanding layer fills; ``replace`` clears them for re-enrichment."""

CONFLICT_COLUMNS = ("id", "field", "stored", "new", "file", "location")


def _as_text(name: str) -> pl.Expr:
    col = pl.col(name)
    if name.startswith("booked_at"):
        return col.dt.strftime("%Y-%m-%dT%H:%M:%S%.f%:z")
    return col.cast(pl.Utf8)


def find_conflicts(new: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """One row per money field where ``new`` (a batch's transaction rows, with their location)
    and ``stored`` (the stored rows of the same ids) disagree: id, field, stored, new, location.

    >>> from datetime import datetime, UTC
    >>> day = datetime(2024, 3, 1, tzinfo=UTC)
    >>> row = {"id": "A:1", "amount_minor": -1250, "currency": "EUR", "booked_at": day}
    >>> new = pl.DataFrame([{**row, "amount_minor": 1250, LOCATION: "line 2"}])
    >>> find_conflicts(new, pl.DataFrame([row])).row(0)
    ('A:1', 'direction', '-1250', '1250', 'line 2')
    """
    cast = [pl.col("booked_at").dt.convert_time_zone("UTC").dt.cast_time_unit("us")]
    joined = (
        new.select("id", *MONEY_FIELDS, LOCATION)
        .with_columns(cast)
        .join(stored.select("id", *MONEY_FIELDS).with_columns(cast), on="id", suffix="_stored")
    )
    parts = []
    for order, name in enumerate(MONEY_FIELDS):
        label: pl.Expr = pl.lit(name)
        if name == "amount_minor":
            label = (
                pl.when(pl.col(name) == -pl.col(f"{name}_stored"))
                .then(pl.lit("direction"))
                .otherwise(label)
            )
        parts.append(
            joined.filter(pl.col(name) != pl.col(f"{name}_stored")).select(
                "id",
                label.alias("field"),
                _as_text(f"{name}_stored").alias("stored"),
                _as_text(name).alias("new"),
                pl.col(LOCATION).cast(pl.Utf8).alias("location"),
                pl.lit(order).alias("_order"),
            )
        )
    return pl.concat(parts).sort("id", "_order").drop("_order")


def replacement_rows(new: pl.DataFrame, ids: pl.Series) -> pl.DataFrame:
    """The file's rows for ``ids``, with the enrichment columns cleared, for ``Store.update``."""
    table = schema.transactions
    cleared = [
        pl.lit(None, dtype=pl.Float64 if name == "category_confidence" else pl.Utf8).alias(name)
        for name in ENRICHED
        if name in table.columns
    ]
    return (
        new.filter(pl.col("id").is_in(ids.implode()))
        .drop(LOCATION, strict=False)
        .with_columns(cleared)
    )


class ConflictWriter:
    """Appends conflicts to a CSV created on the first one, so a clean import leaves no file.

    Cells go through ``spreadsheet_safe``: stored and new values are the bank's data.
    """

    def __init__(self, path: Path, source: str) -> None:
        self.path = path
        self.source = source
        self.count = 0
        self._fh: TextIO | None = None
        self._csv: Any = None

    def write(self, conflicts: pl.DataFrame) -> None:
        if conflicts.height == 0:
            return
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("w", encoding="utf-8", newline="")
            self._csv = csv.writer(self._fh)
            self._csv.writerow(CONFLICT_COLUMNS)
        for ident, field, stored, new, location in conflicts.select(
            "id", "field", "stored", "new", "location"
        ).iter_rows():
            cells = (ident, field, stored, new, self.source, location)
            self._csv.writerow([spreadsheet_safe(str(c)) if c is not None else "" for c in cells])
        self.count += conflicts.height

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
