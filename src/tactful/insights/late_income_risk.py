"""The late-income risk: per regular income stream whose expected payment has not been seen, the
probability that it does not arrive within ``LATE_DAYS`` of its expected date -- its features,
its store labels, and the same expected-value rule the shortfall warning uses.

Why a model beside the rule (``IncomeLate``: "more than four days late"): most payments the rule
calls late did arrive, on a date the stream's schedule did not predict (a weekend or holiday
shift, a payer that is always a few days late, a four-weekly cadence read as monthly) or under
another name or into another account, and most late payments the rule missed were of streams
it had not yet trusted. Those are features here: the stream's own past lateness, the expected
date's weekday, the stream's age and spread, credits of a similar sum that came from another
payer since the expected date (a job change, a renamed payer), the account's activity.

Everything is a pure function of ``InsightInputs`` cut at ``as_of`` (``point_in_time``); the
labels (``late_labels``) read past it, and only the store's own bookings.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

import polars as pl

from tactful.insights.inputs import InsightInputs, frame_rows
from tactful.insights.shortfall_risk import NO_EVENT, Risk, point_in_time

LATE_DAYS: Final = 7
"""The payment is late if it has not arrived seven days after its expected date (payroll runs
a few days late around holidays; a week is beyond any schedule's shift)."""
EARLY_DAYS: Final = 3
"""A payment up to three days before the expected date is the expected payment, paid early."""
LOOK_BACK: Final = 31
"""How long after its expected date a missing payment is still news."""
MIN_LATE: Final = 1
"""The model is asked from the day after the expected date on."""
SIMILAR: Final = 0.5
"""A credit from another payer of at least half the stream's typical sum may replace it."""

KINDS: Final = ("payroll", "pension", "benefit", "gig")
SCHEDULE_DAYS: Final = {"weekly": 7.0, "biweekly": 14.0, "four_weekly": 28.0,
                        "semi_monthly": 15.0, "monthly": 30.0, "quarterly": 91.0}
LATE_FEATURES: Final = (
    "days_late", "gap", "irregular", "gap_cv", "gap_max_over", "late_share", "late_max",
    "early_share",
    "occurrences", "age_days", "amount_cv", "expected_weekday", "expected_weekend",
    "expected_month_end", "status_late", "status_stopped", "other_streams",
    "similar_credits", "similar_share", "new_payer", "days_since_any_income",
    "tx_14", "days_since_tx", "balance_to_pay", *(f"kind_{k}" for k in KINDS),
)


class LateIncomeRisk(Risk):
    """A fitted late-income model with its registry version, as ``IncomeLate`` uses it."""

    features = LATE_FEATURES


def _payer() -> pl.Expr:
    return pl.col("merchant").fill_null(pl.col("merchant_key"))


def _stream_history(data: InsightInputs, credits: pl.DataFrame) -> pl.DataFrame:
    """Per income stream: the gaps between its payer's credits to its account since the stream
    began (median, spread, how often and how far beyond the median) and the sums' spread."""
    gap = pl.col("schedule").replace_strict(SCHEDULE_DAYS, default=None, return_dtype=pl.Float64)
    return (
        data.income.select("stream_id", "account_id", "merchant", "first_date",
                           gap.alias("_sched"))
        .join(credits.select("account_id", "_payer", "booked_on", "amount_minor"),
              left_on=["account_id", "merchant"], right_on=["account_id", "_payer"])
        .filter(pl.col("booked_on") >= pl.col("first_date"))
        .sort("stream_id", "booked_on")
        .with_columns(pl.col("booked_on").diff().dt.total_days().cast(pl.Float64)
                      .over("stream_id").alias("_gap"))
        .with_columns((pl.col("_gap") - pl.col("_gap").median().over("stream_id"))
                      .alias("_over"))
        .group_by("stream_id").agg(
            pl.col("_gap").median().fill_null(pl.col("_sched").first()).alias("gap"),
            (pl.col("_gap").std() / pl.col("_gap").mean()).alias("gap_cv"),
            pl.col("_over").max().alias("gap_max_over"),
            (pl.col("_over") > 2).mean().alias("late_share"),
            pl.col("_over").max().clip(0).alias("late_max"),
            (pl.col("_over") < -2).mean().alias("early_share"),
            (pl.col("amount_minor").std() / pl.col("amount_minor").mean()).alias("amount_cv"),
        )
    )


def _credits(data: InsightInputs) -> pl.DataFrame:
    return data.transactions.filter((pl.col("amount_minor") > 0)
                                    & (pl.col("status") == "posted")).with_columns(
        _payer().alias("_payer"))


def candidates(data: InsightInputs, history: pl.DataFrame | None = None) -> pl.DataFrame:
    """The streams whose next payment was expected between ``LOOK_BACK`` days ago and
    ``MIN_LATE`` days ago and has not been booked: the rows the model scores, with the
    stream's ``history``. A stream the engine calls irregular is expected its median gap after
    its last payment (gig payouts come weekly or fortnightly, only not on a fixed weekday)."""
    d = data.as_of
    if history is None:
        history = _stream_history(data, _credits(data))
    return data.income.filter(pl.col("occurrences") >= 3).join(
        history, on="stream_id", how="left").with_columns(
        pl.coalesce(pl.col("next_date"),
                    pl.col("last_date") + pl.duration(days=pl.col("gap").round(0)
                                                      .cast(pl.Int64))).alias("next_date"),
        (pl.col("schedule") == "irregular").cast(pl.Float64).alias("irregular"),
    ).filter(
        pl.col("next_date").is_between(d - timedelta(days=LOOK_BACK),
                                       d - timedelta(days=MIN_LATE))
        & (pl.col("last_date") < pl.col("next_date"))
    )


def may_be_late(data: InsightInputs) -> bool:
    """Whether ``candidates`` can find a stream at all, read from the income rows alone: one
    customer on an event has, most days, no stream expected in the window, and building the
    features (some twenty Polars operations) only to score no row is most of the on-event
    cost. Exact for a stream with an expected date; a stream without one (irregular) counts
    as possible, its date coming from its gaps."""
    d = data.as_of
    first, last = d - timedelta(days=LOOK_BACK), d - timedelta(days=MIN_LATE)
    for occurrences, next_date, last_date in frame_rows(
            data.income, ("occurrences", "next_date", "last_date")):
        if occurrences is None or occurrences < 3:
            continue
        if next_date is None:
            return True
        if first <= next_date <= last and last_date is not None and last_date < next_date:
            return True
    return False


def late_features(data: InsightInputs) -> pl.DataFrame:
    """One row per candidate stream with ``LATE_FEATURES``, from what was known at ``as_of``."""
    data = point_in_time(data)
    d = data.as_of
    credits = _credits(data)
    cand = candidates(data, _stream_history(data, credits))
    if cand.height == 0:
        return cand.with_columns(*(pl.lit(None, pl.Float64).alias(c) for c in LATE_FEATURES))
    since = (
        cand.select("stream_id", "customer_id", "merchant", "next_date",
                    "typical_amount_minor")
        .join(credits.select("customer_id", "_payer", "booked_on", "amount_minor", "category"),
              on="customer_id")
        .filter((pl.col("booked_on") >= pl.col("next_date") - timedelta(days=EARLY_DAYS))
                & (pl.col("_payer").fill_null("") != pl.col("merchant").fill_null("")))
        .group_by("stream_id").agg(
            (pl.col("amount_minor") >= SIMILAR * pl.col("typical_amount_minor")).sum()
            .cast(pl.Float64).alias("similar_credits"),
            (pl.col("amount_minor").max() / pl.col("typical_amount_minor").first())
            .alias("similar_share"),
            ((pl.col("category") == "INCOME")
             & (pl.col("amount_minor") >= SIMILAR * pl.col("typical_amount_minor"))).any()
            .cast(pl.Float64).alias("new_payer"),
        )
    )
    income_days = credits.filter(pl.col("category") == "INCOME").group_by("account_id").agg(
        pl.col("booked_on").max().alias("_last_income"))
    activity = data.transactions.filter(pl.col("booked_on") > d - timedelta(days=14)).group_by(
        "account_id").agg(pl.len().cast(pl.Float64).alias("tx_14"))
    last_tx = data.transactions.group_by("account_id").agg(
        pl.col("booked_on").max().alias("_last_tx"))
    streams = data.income.filter(pl.col("status") != "stopped").group_by("customer_id").agg(
        pl.len().cast(pl.Float64).alias("_streams"))
    bal = data.accounts.select("account_id", "balance_minor")
    nd = pl.col("next_date")
    out = (
        cand.join(since, on="stream_id", how="left")
        .join(income_days, on="account_id", how="left")
        .join(activity, on="account_id", how="left")
        .join(last_tx, on="account_id", how="left")
        .join(streams, on="customer_id", how="left")
        .join(bal, on="account_id", how="left")
        .with_columns(
            (pl.lit(d) - nd).dt.total_days().cast(pl.Float64).alias("days_late"),
            pl.col("gap").fill_null(30.0),
            pl.col("occurrences").cast(pl.Float64),
            (pl.lit(d) - pl.col("first_date")).dt.total_days().cast(pl.Float64)
            .alias("age_days"),
            nd.dt.weekday().cast(pl.Float64).alias("expected_weekday"),
            (nd.dt.weekday() >= 6).cast(pl.Float64).alias("expected_weekend"),
            (nd.dt.month_end() - nd).dt.total_days().le(2).cast(pl.Float64)
            .alias("expected_month_end"),
            (pl.col("status") == "late").cast(pl.Float64).alias("status_late"),
            (pl.col("status") == "stopped").cast(pl.Float64).alias("status_stopped"),
            (pl.col("_streams").fill_null(0.0) - 1).clip(0).alias("other_streams"),
            pl.col("similar_credits").fill_null(0.0),
            pl.col("similar_share").fill_null(0.0),
            pl.col("new_payer").fill_null(0.0),
            (pl.lit(d) - pl.col("_last_income")).dt.total_days().cast(pl.Float64)
            .fill_null(NO_EVENT).alias("days_since_any_income"),
            pl.col("tx_14").fill_null(0.0),
            (pl.lit(d) - pl.col("_last_tx")).dt.total_days().cast(pl.Float64)
            .fill_null(NO_EVENT).alias("days_since_tx"),
            (pl.col("balance_minor") / pl.max_horizontal(pl.col("typical_amount_minor"),
                                                          pl.lit(1))).alias("balance_to_pay"),
            *((pl.col("kind") == k).cast(pl.Float64).alias(f"kind_{k}") for k in KINDS),
        )
    )
    return out.select("stream_id", "customer_id", "account_id", "merchant", "currency",
                      "typical_amount_minor", "next_date",
                      *(pl.col(c).cast(pl.Float64) for c in LATE_FEATURES))


def late_labels(candidates: pl.DataFrame, credits: pl.DataFrame, *, last_day: date) -> (
    pl.DataFrame
):
    """``label`` 1 per candidate (``stream_id``, ``account_id``, ``merchant``, ``next_date``)
    when no credit from its payer reached its account (``credits``: the store's posted credits,
    ``account_id``, ``merchant``, ``merchant_key``, ``booked_on``) from ``EARLY_DAYS`` before the
    expected date to ``LATE_DAYS`` after it. Candidates whose window ends after ``last_day``
    (the store's last booking day) are left out: the store does not know yet."""
    known = candidates.filter(pl.col("next_date") + timedelta(days=LATE_DAYS) <= last_day)
    arrived = (
        known.select("stream_id", "account_id", "merchant", "next_date")
        .join(credits.select("account_id", _payer().alias("merchant"), "booked_on"),
              on=["account_id", "merchant"])
        .filter(pl.col("booked_on").is_between(
            pl.col("next_date") - timedelta(days=EARLY_DAYS),
            pl.col("next_date") + timedelta(days=LATE_DAYS)))
        .select("stream_id").unique()
    )
    return known.select("stream_id").with_columns(
        (~pl.col("stream_id").is_in(arrived.get_column("stream_id").implode()))
        .cast(pl.Int8).alias("label"))
