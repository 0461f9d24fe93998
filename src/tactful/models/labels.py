"""Labels: what happened after a cutoff, for the customers a model would have scored at it.

Churn: the customer closes every account that was open at the cutoff, or goes dormant (no posted
transaction) within the horizon, 90 days by default. Propensity: a customer who did not hold the
product at the cutoff opens it within the horizon (from ``accounts.opened_on`` and the account's
type or product id). The store holds no campaign conversions yet; a bank's own campaign history
trains through ``tabular.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from tactful.errors import ValidationError
from tactful.models.features import open_accounts
from tactful.models.history import History

HORIZON_DAYS = 90


def _check_window(history: History, cutoff: datetime, horizon: timedelta) -> None:
    if cutoff.tzinfo is None:
        raise ValidationError("cutoff must be timezone-aware")
    end = history.end
    if cutoff + horizon > end + timedelta(days=1):
        raise ValidationError(
            f"labels need {horizon.days} days after the cutoff {cutoff:%Y-%m-%d}, but the data "
            f"end on {end:%Y-%m-%d}"
        )


def churn_labels(
    history: History, cutoff: datetime, *, horizon_days: int = HORIZON_DAYS
) -> pl.DataFrame:
    """customer_id, label (1 = closed or dormant within the horizon) for customers active at the
    cutoff (an open account and a posted transaction in the 90 days before it)."""
    horizon = timedelta(days=horizon_days)
    _check_window(history, cutoff, horizon)
    end_day = (cutoff + horizon).date()
    accounts = open_accounts(history, cutoff)
    closed = accounts.group_by("customer_id").agg(
        (pl.col("closed_on").is_not_null() & (pl.col("closed_on") < end_day))
        .all()
        .alias("closed_all")
    )
    posted = history.transactions.filter(pl.col("status") == "posted")
    before = posted.filter(
        (pl.col("booked_at") < cutoff) & (pl.col("booked_at") >= cutoff - timedelta(days=90))
    )
    active = before.select("customer_id").unique()
    after = (
        posted.filter((pl.col("booked_at") >= cutoff) & (pl.col("booked_at") < cutoff + horizon))
        .select("customer_id")
        .unique()
        .with_columns(pl.lit(True).alias("active_after"))
    )
    out = (
        closed.join(active, on="customer_id", how="semi")
        .join(after, on="customer_id", how="left")
        .with_columns(
            (pl.col("closed_all") | pl.col("active_after").is_null()).cast(pl.Int8).alias("label")
        )
    )
    return out.select("customer_id", "label").sort("customer_id")


def product_labels(
    history: History, cutoff: datetime, product: str, *, horizon_days: int = HORIZON_DAYS
) -> pl.DataFrame:
    """customer_id, label (1 = opened ``product`` within the horizon) for customers with an open
    account at the cutoff who did not hold it. ``product`` is an account type (``savings``) or a
    product id (``P-CC-REWARDS``)."""
    horizon = timedelta(days=horizon_days)
    _check_window(history, cutoff, horizon)
    a = history.accounts
    match = (pl.col("type") == product) | (pl.col("product_id") == product)
    if a.filter(match).height == 0:
        raise ValidationError(f"no account in the store has type or product id {product!r}")
    current = open_accounts(history, cutoff)
    holders = current.filter(match).select("customer_id").unique()
    eligible = current.select("customer_id").unique().join(holders, on="customer_id", how="anti")
    day0, day1 = cutoff.date(), (cutoff + horizon).date()
    opened = (
        a.filter(match & (pl.col("opened_on") >= day0) & (pl.col("opened_on") < day1))
        .select("customer_id")
        .unique()
        .with_columns(pl.lit(1, dtype=pl.Int8).alias("label"))
    )
    out = eligible.join(opened, on="customer_id", how="left").with_columns(
        pl.col("label").fill_null(0)
    )
    return out.select("customer_id", "label").sort("customer_id")
