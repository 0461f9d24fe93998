"""The frames the understanding layer passes between its steps: one schema each, checked once.

The batch pipeline loads a shard of customers from the store into ``TRANSACTIONS`` and every
enrichment step is a pure function that returns the same frame with its own columns added
(``merchant``, then ``category*``, then ``series_id``), or a new frame of its own (series, income
streams). Keeping the schemas here, not in each step, is what lets the store, the batch executor,
the evaluation and a Spark worker agree on what a shard is.

>>> sorted(TRANSACTIONS)[:3]
['account_id', 'account_type', 'amount_minor']
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from tactful.errors import ValidationError

UTC_TIME = pl.Datetime("us", "UTC")

TRANSACTIONS: Mapping[str, pl.DataType] = {
    "id": pl.String(),
    "account_id": pl.String(),
    "customer_id": pl.String(),
    "account_type": pl.String(),
    "booked_at": UTC_TIME,
    "booked_on": pl.Date(),  # the booking date in the customer's own time zone
    "amount_minor": pl.Int64(),  # signed: credits positive
    "currency": pl.String(),
    "description": pl.String(),
    "counterparty": pl.String(),
    "mcc": pl.String(),
    "channel": pl.String(),
    "status": pl.String(),  # posted / pending / declined
}
"""One row per transaction of a shard, as loaded from the store."""

MERCHANT_COLUMNS: Mapping[str, pl.DataType] = {
    "merchant": pl.String(),  # canonical display name; null when the row has no counterparty
    "merchant_key": pl.String(),  # upper-case normalized key used for grouping and rules
}

CATEGORY_COLUMNS: Mapping[str, pl.DataType] = {
    "category": pl.String(),  # primary, e.g. FOOD_AND_DRINK
    "category_detailed": pl.String(),  # e.g. FOOD_AND_DRINK_COFFEE
    "category_source": pl.String(),  # user / rule / mcc / model / uncategorized
    "category_confidence": pl.Float64(),
}

SERIES: Mapping[str, pl.DataType] = {
    "series_id": pl.String(),
    "customer_id": pl.String(),
    "account_id": pl.String(),
    "merchant_key": pl.String(),
    "merchant": pl.String(),
    "kind": pl.String(),  # subscription, bill, loan_payment, rent, transfer, payroll, ...
    "cadence": pl.String(),  # weekly, biweekly, semi_monthly, monthly, quarterly, yearly, ...
    "direction": pl.String(),  # in / out
    "category_detailed": pl.String(),
    "currency": pl.String(),
    "typical_amount_minor": pl.Int64(),
    "last_amount_minor": pl.Int64(),
    "amount_varies": pl.Boolean(),
    "first_date": pl.Date(),
    "last_date": pl.Date(),
    "occurrences": pl.Int64(),
    "next_date": pl.Date(),
    "next_amount_minor": pl.Int64(),
    "status": pl.String(),  # active / late / cancelled
}
"""One row per detected recurring series."""

SERIES_CHANGES: Mapping[str, pl.DataType] = {
    "series_id": pl.String(),
    "effective_date": pl.Date(),
    "old_amount_minor": pl.Int64(),
    "new_amount_minor": pl.Int64(),
}

SERIES_MEMBERS: Mapping[str, pl.DataType] = {
    "transaction_id": pl.String(),
    "series_id": pl.String(),
}

INCOME_STREAMS: Mapping[str, pl.DataType] = {
    "stream_id": pl.String(),
    "customer_id": pl.String(),
    "account_id": pl.String(),
    "merchant": pl.String(),  # the payer
    "kind": pl.String(),  # payroll, pension, benefit, gig, business, other
    "schedule": pl.String(),  # a cadence, or irregular
    "currency": pl.String(),
    "typical_amount_minor": pl.Int64(),
    "monthly_amount_minor": pl.Int64(),  # typical income per month from this stream
    "first_date": pl.Date(),
    "last_date": pl.Date(),
    "next_date": pl.Date(),  # null for irregular streams
    "occurrences": pl.Int64(),
    "status": pl.String(),  # active / late / stopped
}

INCOME_CHANGES: Mapping[str, pl.DataType] = {
    "stream_id": pl.String(),
    "customer_id": pl.String(),
    "effective_date": pl.Date(),
    "old_amount_minor": pl.Int64(),
    "new_amount_minor": pl.Int64(),
    "change": pl.String(),  # raise / cut
    "change_ratio": pl.Float64(),  # new / old - 1
}


def with_local_dates(frame: pl.DataFrame, *, timezone: str = "timezone") -> pl.DataFrame:
    """``frame`` with ``booked_on``: the UTC ``booked_at`` as a date in each row's own time zone.

    A customer's "day" is where they live, not in UTC; Polars converts one zone per expression,
    so the frame is split by zone (a bank has a handful) and put back together.
    """
    parts = [
        part.with_columns(
            pl.col("booked_at").dt.convert_time_zone(str(tz)).dt.date().alias("booked_on")
        )
        for (tz,), part in frame.group_by(timezone)
    ]
    return pl.concat(parts).with_columns(pl.col("booked_at").cast(UTC_TIME))


def empty(schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """An empty frame of ``schema``: what a step returns when it finds nothing."""
    return pl.DataFrame(schema=dict(schema))


def conform(frame: pl.DataFrame, schema: Mapping[str, pl.DataType], *, what: str) -> pl.DataFrame:
    """``frame`` with exactly ``schema``'s columns, in order and type; a missing column is an error.

    Extra columns are kept after the schema's, so a step can pass through what it does not own.
    """
    missing = [name for name in schema if name not in frame.columns]
    if missing:
        raise ValidationError(f"{what} frame lacks column(s): {', '.join(missing)}")
    cast = [pl.col(name).cast(dtype) for name, dtype in schema.items()]
    rest = [name for name in frame.columns if name not in schema]
    return frame.select([*cast, *rest])
