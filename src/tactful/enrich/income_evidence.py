"""Whether a stream of credits is income, from amounts, dates and the payer alone.

Many exports name the payer only by an account number, and many credits that repeat are not
income: a friend paying back lunch every Friday, a flatmate's share of the bills, interest the
bank books each month. A description or a category says which is which when there is one; when
there is none, the money's own shape has to. Pay and benefits are large against what the
account spends, a large share of what comes into it, and paid on the payer's fixed day (a
weekly payroll on the same weekday, a platform's payouts on its payout day even when some weeks
pay nothing); repayments between people are small and fall on any day.

``evidence`` measures that per candidate stream; ``income_like`` turns it into a decision with
thresholds set on the simulated bank (see ``docs/evaluation.md``: they were never tuned on the
real data the evaluation holds out). ``account_as_of`` gives each account its own as-of date:
a file or a store ends at one date for all accounts, but an account that went quiet earlier
(closed, moved to another bank, cut off by the export) did not stop its pay; its streams are
judged against its own last activity.

>>> import polars as pl
>>> from datetime import date, timedelta
>>> days = [date(2025, 1, 3) + timedelta(days=7 * i) for i in range(10)]
>>> frame = pl.DataFrame({
...     "id": [f"t{i}" for i in range(20)], "account_id": "a", "status": "posted",
...     "booked_on": days + days, "amount_minor": [52000] * 10 + [-60000] * 10,
... })
>>> members = pl.DataFrame({"transaction_id": [f"t{i}" for i in range(10)], "stream_id": "s"})
>>> row = evidence(frame, members, account_as_of(frame, date(2025, 3, 7))).row(0, named=True)
>>> row["weekday_share"], round(row["size"], 2), row["share"]
(1.0, 0.79, 1.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import polars as pl

from tactful.enrich.recurring import COUNTED_STATUSES

__all__ = [
    "BUSINESS_SHARE",
    "BUSINESS_SIZE",
    "MIN_SHARE",
    "MIN_SIZE",
    "MIN_WEEKDAY_SHARE",
    "PAYOUT_SIZE",
    "WEEKLY_SIZE",
    "account_as_of",
    "account_spans",
    "benefit",
    "evidence",
    "income_like",
]

MIN_SIZE = 0.05
"""The smallest income a regular stream brings in a month, against what its account spends in
a month: below it, a repeated credit is a refund, cashback, interest or pocket money."""
MIN_SHARE = 0.05
"""The smallest share of the account's credits (over the stream's own span) a regular stream
must bring, for the same reason: interest and small repayments are a sliver of what comes in."""
WEEKLY_SIZE = 0.1
"""A weekly stream must bring more: weekly repayments between people are the commonest
regular credits that are not pay."""
MIN_WEEKDAY_SHARE = 0.7
"""Pay counted in days (weekly, fortnightly, four-weekly) and platform payouts land on the
payer's own weekday; a person's transfers land on any day. The share of a stream's payments on
its commonest weekday must reach this (a bank holiday moves a few)."""
WEEK_STEPS = 0.8
"""Payouts with weeks skipped: the share of intervals that are whole weeks (+-1 day)."""
BUSINESS_SHARE = 0.5
"""An irregular stream off the weekly grid is business income only when it is most of what
comes in (and ``BUSINESS_SIZE`` of what goes out): a self-employed person's clients, not a
friend settling up."""
BUSINESS_SIZE = 0.25
MIN_IRREGULAR = 5
"""The fewest payments of a stream of weekly payouts with skipped weeks."""
PAYOUT_SIZE = 0.02
"""Payouts on a fixed weekday on the weekly grid need less size to be income: no person pays
another that way. A side gig of a few hours some weeks is a few percent of spending."""

SAME_AMOUNT = 0.6
"""An irregular benefit pays its one sum in at least this share of its payments."""
ROUND_MINOR = 500
"""A round sum: a multiple of this many minor units (5.00). People send round sums."""
MIN_CREDITS = 3
"""The fewest payments of an irregular benefit."""

_MONTH = 365.25 / 12


def account_spans(frame: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Per account, in whole numbers: its first and last counted booking (``_first``,
    ``_last``) up to ``as_of`` and what it spent (``_spent``, minor units). All
    ``account_as_of`` needs: a night's increment, which loads only some of an account's
    payments, has the store compute these over all of them (``repository.account_spans``)."""
    counted = frame.filter(
        pl.col("status").is_in(COUNTED_STATUSES) & (pl.col("booked_on") <= as_of)
    )
    return counted.group_by("account_id").agg(
        pl.col("booked_on").min().alias("_first"),
        pl.col("booked_on").max().alias("_last"),
        (-pl.col("amount_minor")).filter(pl.col("amount_minor") < 0).sum().cast(pl.Int64)
        .alias("_spent"),
    )


def account_as_of(
    frame: pl.DataFrame,
    as_of: date,
    known: Mapping[str, date] | None = None,
    *,
    spans: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per account: ``_as_of``, the date its streams are judged against, and ``_spend_month``,
    what it spends a month over its active span (at least four weeks).

    ``_as_of`` is the date ``known`` gives the account (the store's own as-of for it: the day
    its statement was last brought up to date), else its own last counted booking; never
    after ``as_of``. ``spans`` (``account_spans``' columns) stands in for the frame's own."""
    if spans is None:
        spans = account_spans(frame, as_of)
    days = (pl.col("_last") - pl.col("_first")).dt.total_days() + 1
    out = spans.select(
        "account_id",
        pl.col("_last").alias("_as_of"),
        (pl.col("_spent") / pl.max_horizontal(days, pl.lit(28)) * _MONTH).alias("_spend_month"),
    )
    if known:
        given = pl.DataFrame(
            {"account_id": list(known), "_known": list(known.values())},
            schema={"account_id": pl.String, "_known": pl.Date},
        )
        out = out.join(given, on="account_id", how="left").with_columns(
            pl.min_horizontal(pl.coalesce("_known", "_as_of"), pl.lit(as_of)).alias("_as_of")
        ).drop("_known")
    return out


def evidence(
    frame: pl.DataFrame, members: pl.DataFrame, accounts: pl.DataFrame
) -> pl.DataFrame:
    """Per stream of ``members`` (transaction_id, stream_id; credits of ``frame``): ``size``,
    its income a month against its account's spending a month; ``share``, its part of the
    account's credits over its span; ``weekday_share``, the share of its payments on its
    commonest weekday; ``week_steps``, the share of its intervals that are whole weeks (+-1 day);
    ``same_amount``, the share of its payments of its commonest amount, and ``odd_amount``,
    whether that amount is not a round sum (``ROUND_MINOR``); ``payments``."""
    credits = frame.filter(
        pl.col("status").is_in(COUNTED_STATUSES) & (pl.col("amount_minor") > 0)
    ).select("id", "account_id", "booked_on", "amount_minor")
    rows = members.join(credits, left_on="transaction_id", right_on="id").sort(
        "stream_id", "booked_on"
    )
    gap = pl.col("booked_on").diff().dt.total_days()
    weekly_gap = (gap >= 6) & (((gap + 1) % 7) <= 2)
    per = rows.group_by("stream_id").agg(
        pl.col("account_id").first(),
        pl.col("booked_on").min().alias("_first"),
        pl.col("booked_on").max().alias("_last"),
        pl.col("amount_minor").sum().alias("_total"),
        pl.len().alias("_n"),
        pl.col("booked_on").dt.weekday().value_counts(sort=True).first().struct.field("count")
        .alias("_modal"),
        weekly_gap.drop_nulls().mean().fill_null(0.0).alias("week_steps"),
        pl.col("amount_minor").value_counts(sort=True).first().struct.field("count")
        .alias("_same"),
        pl.col("amount_minor").mode().sort().first().alias("_mode"),
        gap.drop_nulls().median().fill_null(_MONTH).alias("_step"),
    )
    inflow = (
        per.select("stream_id", "account_id", "_first", "_last")
        .join(
            credits.select(
                "account_id", pl.col("booked_on").alias("_on"), pl.col("amount_minor").alias("_a")
            ),
            on="account_id",
        )
        .filter(pl.col("_on").is_between(pl.col("_first"), pl.col("_last")))
        .group_by("stream_id")
        .agg(pl.col("_a").sum().alias("_inflow"))
    )
    span = (pl.col("_last") - pl.col("_first")).dt.total_days() + pl.col("_step")
    monthly = pl.col("_total") / pl.max_horizontal(span, pl.lit(7.0)) * _MONTH
    return (
        per.join(inflow, on="stream_id", how="left")
        .join(accounts.select("account_id", "_spend_month"), on="account_id", how="left")
        .select(
            "stream_id",
            (monthly / pl.col("_spend_month").clip(lower_bound=1)).alias("size"),
            (pl.col("_total") / pl.col("_inflow").clip(lower_bound=1)).alias("share"),
            (pl.col("_modal") / pl.col("_n")).alias("weekday_share"),
            "week_steps",
            pl.col("_n").alias("payments"),
            (pl.col("_same") / pl.col("_n")).alias("same_amount"),
            (pl.col("_mode") % ROUND_MINOR != 0).alias("odd_amount"),
        )
    )


def income_like(schedule: pl.Expr, fixed: pl.Expr) -> pl.Expr:
    """Whether a stream of ``schedule`` (a cadence, or ``irregular``) with the ``evidence``
    columns is income without a label saying so: see the module docstring. ``fixed``: its
    amount repeats to the cent. A fixed sum on a fixed schedule slower than weekly is what
    payroll systems and benefit, pension and standing-order payers send, however small (child
    benefit is a few percent of a family's spending); an amount that varies must be large
    enough to be pay."""
    day_counted = schedule.is_in(["weekly", "biweekly", "four_weekly"])
    on_its_day = pl.col("weekday_share") >= MIN_WEEKDAY_SHARE
    sizeable = (pl.col("size") >= MIN_SIZE) & (pl.col("share") >= MIN_SHARE)
    regular = (
        (sizeable | (fixed & (schedule != "weekly")))
        & (~day_counted | on_its_day)
        & ((schedule != "weekly") | (pl.col("size") >= WEEKLY_SIZE))
    )
    return (
        pl.when(schedule == "irregular")
        .then(payouts() | business() | benefit())
        .otherwise(regular)
    )


def payouts() -> pl.Expr:
    """An irregular stream that is weekly payouts with weeks skipped (a gig platform's)."""
    return (
        (pl.col("payments") >= MIN_IRREGULAR)
        & (pl.col("week_steps") >= WEEK_STEPS)
        & (pl.col("weekday_share") >= MIN_WEEKDAY_SHARE)
        & (pl.col("size") >= PAYOUT_SIZE)
    )


def benefit() -> pl.Expr:
    """An irregular stream of one odd sum paid again and again: an amount a formula set (a
    benefit, a tax credit, a maintenance order), not one a person picks (people send round
    sums)."""
    return (
        (pl.col("payments") >= MIN_CREDITS)
        & (pl.col("same_amount") >= SAME_AMOUNT)
        & pl.col("odd_amount")
        & (pl.col("size") >= MIN_SIZE)
    )


def business() -> pl.Expr:
    """An irregular stream off the weekly grid large enough to be a client's invoices."""
    return (pl.col("size") >= BUSINESS_SIZE) & (pl.col("share") >= BUSINESS_SHARE)
