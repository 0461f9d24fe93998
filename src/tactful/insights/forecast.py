"""The cash-flow forecast: each checking account's balance path from tomorrow to the day before
its next income, with an uncertainty band.

The path is today's balance, plus the recurring payments and credits the understanding layer
expects on their dates (a credit-card payment at its statement's amount), plus the customer's
usual spending on essentials (groceries, fuel, transit, pharmacy, convenience stores) and usual
small credits (refunds, ...) outside any series, averaged over the last eight weeks.
Discretionary spending is left out of the path on purpose: households cut it when cash runs low
(JPMorgan Chase Institute, "Weathering Volatility"), so a path that keeps spending it at the
usual rate warns customers who would never have gone short.
The band widens with the square root of the days ahead, from the spread of all day-to-day flows:
a customer whose spending is steady gets a narrow band, one who spends in bursts a wide one. It
is deliberately simple and explainable -- "your balance, less these bills, less your usual
essentials" -- because the customer must be able to check it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import polars as pl

from tactful.insights.inputs import InsightInputs

Z_BAND: Final = 1.2816  # the 10th and 90th percentiles of a normal distribution
HISTORY_DAYS: Final = 56
ESSENTIALS: Final = (
    "FOOD_AND_DRINK_GROCERIES", "TRANSPORTATION_GAS", "TRANSPORTATION_PUBLIC_TRANSIT",
    "MEDICAL_PHARMACIES_AND_SUPPLEMENTS", "GENERAL_MERCHANDISE_CONVENIENCE_STORES",
)
"""Spending a household keeps up when money is short."""
_REPEAT: Final[dict[str, int]] = {"weekly": 7, "biweekly": 14, "four_weekly": 28}
CARD_PAYMENT: Final = "LOAN_PAYMENTS_CREDIT_CARD_PAYMENT"
STATEMENT_DAYS: Final = 21
"""A card statement closes about three weeks before its payment is due (21 days is the least US
law allows, and most issuers in the EU and UK use 20-25)."""

PATH: Final = {
    "account_id": pl.String(),
    "customer_id": pl.String(),
    "currency": pl.String(),
    "day": pl.Date(),
    "ahead": pl.Int64(),
    "scheduled_minor": pl.Int64(),  # recurring payments (negative) and credits up to this day
    "usual_minor": pl.Int64(),  # usual essentials and small credits up to this day
    "expected_minor": pl.Int64(),
    "low_minor": pl.Int64(),
    "high_minor": pl.Int64(),
}


@dataclass(frozen=True)
class Forecast:
    path: pl.DataFrame
    """One row per account and day ahead (``PATH``)."""
    accounts: pl.DataFrame
    """Per account: ``balance_minor`` today, ``next_income`` (null if none is expected within
    the horizon) and ``until``, the last day forecast."""


def _next_income(data: InsightInputs) -> pl.DataFrame:
    streams = data.income.filter(
        (pl.col("status") != "stopped")
        & pl.col("next_date").is_not_null()
        & (pl.col("next_date") > data.as_of)
    )
    return streams.group_by("account_id").agg(pl.col("next_date").min().alias("next_income"))


def _scheduled(data: InsightInputs, last_day: pl.DataFrame) -> pl.DataFrame:
    """Expected recurring amounts per account and day, up to each account's ``until``."""
    series = data.series.filter(
        (pl.col("status") == "active") & pl.col("next_date").is_not_null()
        & (pl.col("next_date") > data.as_of)
    ).with_columns(
        pl.col("next_amount_minor").fill_null(pl.col("typical_amount_minor"))
        .alias("amount"),
        pl.col("cadence").replace_strict(_REPEAT, default=0, return_dtype=pl.Int64)
        .alias("step"),
    )
    # income series are the path's end, not a flow inside it; other credits count
    income_ids: list[str] = data.income.get_column("stream_id").to_list()
    series = _card_payments(data, series.filter(~pl.col("series_id").is_in(income_ids)))
    repeats = [
        series.select("account_id", "next_date", "amount"),
        series.filter(pl.col("step") > 0).select(
            "account_id", (pl.col("next_date") + pl.duration(days=pl.col("step"))), "amount"),
    ]
    occurrences = pl.concat(repeats).join(last_day, on="account_id").filter(
        pl.col("next_date") <= pl.col("until"))
    return occurrences.group_by("account_id", pl.col("next_date").alias("day")).agg(
        pl.col("amount").sum().alias("scheduled"))


def _card_payments(data: InsightInputs, series: pl.DataFrame) -> pl.DataFrame:
    """``series`` with the next credit-card payment from checking capped at what the statement
    asks for: a card payment's typical amount says little about this month's (it is last
    month's spending), but the statement is already known. The statement balance is estimated
    as what the customer's cards owed when it closed (``STATEMENT_DAYS`` before the due date,
    walked back from today's balance), or what they owe now if it has not closed yet. A
    revolver who usually pays less than the statement keeps their usual amount."""
    cards = data.accounts.filter(
        (pl.col("type") == "credit_card")
        & (pl.col("closed_on").is_null() | (pl.col("closed_on") > data.as_of))
    ).select("account_id", "customer_id", "balance_minor")
    due = series.filter((pl.col("category_detailed") == CARD_PAYMENT) & (pl.col("amount") < 0))
    if cards.height == 0 or due.height == 0:
        return series
    closes = due.select(
        "series_id", "customer_id",
        pl.min_horizontal(pl.col("next_date") - pl.duration(days=STATEMENT_DAYS),
                          pl.lit(data.as_of)).alias("closed_on"))
    since = (
        data.in_balance.select("account_id", "customer_id", "booked_on", "amount_minor")
        .join(cards.select("account_id"), on="account_id", how="semi")
        .join(closes, on="customer_id")
        .filter(pl.col("booked_on") > pl.col("closed_on"))
        .group_by("series_id").agg(pl.col("amount_minor").sum().alias("_since"))
    )
    owed = (
        closes.join(cards, on="customer_id")
        .group_by("series_id").agg(pl.col("balance_minor").sum().alias("_now"))
        .join(since, on="series_id", how="left")
        .select("series_id", (-(pl.col("_now") - pl.col("_since").fill_null(0))).clip(0)
                .alias("_owed"))
    )
    return series.join(owed, on="series_id", how="left").with_columns(
        pl.when(pl.col("_owed").is_not_null())
        .then(-pl.min_horizontal(-pl.col("amount"), pl.col("_owed")))
        .otherwise(pl.col("amount")).alias("amount")
    ).drop("_owed")


def _usual(data: InsightInputs) -> pl.DataFrame:
    """Per account: the mean daily flow of essentials and credits outside any series (``mean``),
    and the spread of every day-to-day flow (``spread``), over the last eight weeks."""
    start = data.day(-HISTORY_DAYS + 1)
    daily = data.posted.filter(
        (pl.col("booked_on") >= start) & pl.col("series_id").is_null()
    ).with_columns(
        pl.when(
            (pl.col("category_detailed").is_in(ESSENTIALS) & (pl.col("amount_minor") < 0))
            | ((pl.col("amount_minor") > 0) & (pl.col("category") != "TRANSFER_IN"))
        ).then(pl.col("amount_minor")).otherwise(0).alias("kept")
    ).group_by("account_id", "booked_on").agg(
        pl.col("kept").sum(), pl.col("amount_minor").sum().alias("net"))
    return daily.group_by("account_id").agg(
        (pl.col("kept").sum() / HISTORY_DAYS).alias("mean"),
        # days without any flow count as zero flow
        ((pl.col("net") ** 2).sum() / HISTORY_DAYS
         - (pl.col("net").sum() / HISTORY_DAYS) ** 2).clip(0).sqrt().alias("spread"),
    )


def forecast(data: InsightInputs) -> Forecast:
    """The balance path of every open checking account in ``data``."""
    horizon = data.settings.shortfall_horizon_days
    acc = data.checking.select("account_id", "customer_id", "currency", "balance_minor")
    incomes = _next_income(data)
    acc = acc.join(incomes, on="account_id", how="left").with_columns(
        pl.min_horizontal(
            pl.col("next_income") - pl.duration(days=1), pl.lit(data.day(horizon))
        ).alias("until")
    ).with_columns(
        pl.when(pl.col("next_income") <= data.day(horizon)).then(pl.col("next_income"))
        .alias("next_income")
    )
    if acc.height == 0:
        return Forecast(pl.DataFrame(schema=PATH), acc)
    days = pl.DataFrame({"ahead": list(range(1, horizon + 1))}, schema={"ahead": pl.Int64})
    grid = acc.join(days, how="cross").with_columns(
        (pl.lit(data.as_of) + pl.duration(days=pl.col("ahead"))).alias("day")
    ).filter(pl.col("day") <= pl.col("until"))
    scheduled = _scheduled(data, acc.select("account_id", "until"))
    path = (
        grid.join(scheduled, on=["account_id", "day"], how="left")
        .join(_usual(data), on="account_id", how="left")
        .sort("account_id", "day")
        .with_columns(
            pl.col("scheduled").fill_null(0).cum_sum().over("account_id").alias("scheduled_minor"),
            (pl.col("mean").fill_null(0.0) * pl.col("ahead")).round(0).cast(pl.Int64)
            .alias("usual_minor"),
            (Z_BAND * pl.col("spread").fill_null(0.0) * pl.col("ahead").sqrt()).alias("_band"),
        )
        .with_columns(
            (pl.col("balance_minor") + pl.col("scheduled_minor") + pl.col("usual_minor"))
            .alias("expected_minor")
        )
        .with_columns(
            (pl.col("expected_minor") - pl.col("_band")).round(0).cast(pl.Int64)
            .alias("low_minor"),
            (pl.col("expected_minor") + pl.col("_band")).round(0).cast(pl.Int64)
            .alias("high_minor"),
        )
        .select(list(PATH))
    )
    return Forecast(path, acc)
