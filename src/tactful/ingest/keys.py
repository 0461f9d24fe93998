"""Stable record ids, so that re-importing a file (or an overlapping one) adds nothing.

A source id (OFX FITID, a CSV transaction id, camt's AcctSvcrRef) is kept as the record's
``external_id`` and, scoped by the account, makes its id: ``<account>:<source id>``.

A source without ids gets a deterministic key instead: a hash of the account, the booking date
(UTC), the amount and currency, the description (case- and space-folded) and the row's
*occurrence*, its rank among rows of the file with the same values. Two identical coffees bought
on the same day are occurrences 0 and 1 in every statement that covers that day, so an
overlapping re-import maps them onto the same two ids. A bank that corrects a description in a
later export makes a new key: such files should carry ids.
"""

from __future__ import annotations

from hashlib import blake2b

import polars as pl

_MAX_ID = 200


def digest(values: pl.Series, size: int = 10) -> pl.Series:
    """A BLAKE2 digest of ``size`` bytes per value, in hex: stable across runs, library versions
    and machines (Polars' own hash is not promised to be)."""
    return pl.Series(
        [blake2b(v.encode(), digest_size=size).hexdigest() for v in values.to_list()],
        dtype=pl.Utf8,
    )


class OccurrenceCounter:
    """Counts rows with the same content key across the batches of one file."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def ranks(self, keys: pl.Series) -> pl.Series:
        frame = pl.DataFrame({"k": keys}).with_columns(within=pl.int_range(pl.len()).over("k"))
        offsets = [self._seen.get(k, 0) for k in frame["k"].to_list()] if self._seen else None
        counts = frame.group_by("k").len()
        for k, n in zip(counts["k"].to_list(), counts["len"].to_list(), strict=True):
            self._seen[k] = self._seen.get(k, 0) + int(n)
        ranks = frame["within"].cast(pl.Int64)
        if offsets is not None:
            ranks = ranks + pl.Series(offsets, dtype=pl.Int64)
        return ranks


def transaction_ids(frame: pl.DataFrame, counter: OccurrenceCounter) -> pl.Series:
    """Ids for typed transaction rows (see module doc)."""
    scoped = pl.col("account_id") + pl.lit(":") + pl.col("transaction_id")
    ids = frame.select(scoped.alias("id"))["id"]
    missing = frame["transaction_id"].is_null()
    if missing.any():
        content = pl.concat_str(
            [
                pl.col("account_id"),
                pl.col("booked_at").dt.date().cast(pl.Utf8),
                pl.col("amount_minor").cast(pl.Utf8),
                pl.col("currency"),
                pl.col("description")
                .fill_null("")
                .str.to_lowercase()
                .str.replace_all(r"\s+", " ")
                .str.strip_chars(),
            ],
            separator="\x1f",
        )
        keys = frame.filter(missing).select(content.alias("k"))["k"]
        ranks = counter.ranks(keys)
        hashed = digest(
            pl.DataFrame({"k": keys, "r": ranks})
            .select(pl.concat_str([pl.col("k"), pl.col("r").cast(pl.Utf8)], separator="\x1f"))
            .to_series()
        )
        fill = frame.filter(missing).select(pl.col("account_id") + ":k" + pl.lit(hashed))
        ids = ids.scatter(missing.arg_true(), fill.to_series())
    too_long = ids.str.len_chars() > _MAX_ID
    if too_long.any():
        ids = pl.select(
            pl.when(pl.lit(too_long))
            .then(pl.lit(frame["account_id"]) + ":x" + pl.lit(digest(ids)))
            .otherwise(pl.lit(ids))
        ).to_series()
    return ids.alias("id")


def event_ids(frame: pl.DataFrame, counter: OccurrenceCounter) -> pl.Series:
    """The source's event id, or a key of customer, kind, time, session and feature."""
    content = pl.concat_str(
        [
            pl.col("customer_id"),
            pl.col("kind"),
            pl.col("occurred_at").dt.strftime("%Y-%m-%dT%H:%M:%S%.6f"),
            pl.col("session_id").fill_null(""),
            pl.col("feature").fill_null(""),
        ],
        separator="\x1f",
    )
    keys = frame.select(content.alias("k"))["k"]
    missing = frame["event_id"].is_null()
    ids = frame["event_id"]
    if missing.any():
        ranks = counter.ranks(keys.filter(missing))
        hashed = "e:" + digest(
            pl.DataFrame({"k": keys.filter(missing), "r": ranks})
            .select(pl.concat_str([pl.col("k"), pl.col("r").cast(pl.Utf8)], separator="\x1f"))
            .to_series()
        )
        ids = ids.scatter(missing.arg_true(), hashed)
    return ids.alias("id")
