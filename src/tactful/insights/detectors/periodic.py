"""Periodic summaries: a daily cash-flow note for customers who open the app most days, and a
weekly roundup for everyone else. When they are sent is the decisioning layer's job (matched to
each customer's own rhythm); here they are only made true and ready."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from tactful.domain.actions import ActionFamily
from tactful.domain.enums import PersonalizationLevel
from tactful.insights.inputs import InsightInputs
from tactful.insights.spec import (
    DetectorSpec,
    FactKind,
    Urgency,
    detectors,
    findings_frame,
    no_findings,
)

M, D, T, C, N = FactKind.MONEY, FactKind.DATE, FactKind.TEXT, FactKind.CATEGORY, FactKind.COUNT


def _balance(data: InsightInputs) -> pl.DataFrame:
    return data.checking.group_by("customer_id", "currency").agg(
        pl.col("balance_minor").sum())


class DailySummary:
    """Yesterday's money in one line, for the customer who checks the app every day anyway."""

    spec = DetectorSpec(
        id="daily_summary",
        family=ActionFamily.PERIODIC_SUMMARY,
        facts={"date": D, "spent_minor": M, "count": N, "balance_minor": M, "currency": T},
        needs=frozenset({"transactions", "accounts", "logins"}),
        min_level=PersonalizationLevel.BASIC,
        cooldown_days=0,
        expiry_days=1,
        action="open_account",
        description="the day's spending and balance for customers who log in most days",
    )

    def detect(self, data: InsightInputs) -> pl.DataFrame:
        daily_users = (
            data.logins.filter(pl.col("day") > data.day(-7))
            .group_by("customer_id").agg(pl.col("day").n_unique().alias("days"))
            .filter(pl.col("days") >= 4).select("customer_id")
        )
        if daily_users.height == 0:
            return no_findings()
        spent = data.spending.filter(pl.col("booked_on") == data.as_of).group_by(
            "customer_id", "currency").agg(pl.col("spend_minor").sum().alias("spent_minor"),
                                           pl.len().alias("count"))
        out = (
            _balance(data).join(daily_users, on="customer_id")
            .join(spent, on=["customer_id", "currency"], how="left")
            .with_columns(
                pl.lit(data.as_of).alias("date"),
                pl.col("spent_minor").fill_null(0), pl.col("count").fill_null(0),
                pl.lit("daily").alias("subject"),
                pl.lit(data.as_of.isoformat()).alias("period"),
                pl.lit(Urgency.LOW.value).alias("urgency"),
                pl.lit(0.3).alias("relevance"),
            )
        )
        return findings_frame(out, self.spec)


class WeeklyRoundup:
    """The week's spending against the customer's usual week, and where most of it went."""

    spec = DetectorSpec(
        id="weekly_roundup",
        family=ActionFamily.PERIODIC_SUMMARY,
        facts={"week_start": D, "spent_minor": M, "usual_minor": M, "top_category": C,
               "top_minor": M, "balance_minor": M, "currency": T},
        needs=frozenset({"transactions", "accounts"}),
        min_level=PersonalizationLevel.BASIC,
        cooldown_days=6,
        expiry_days=3,
        action="open_spending",
        description="the last seven days' spending against the four weeks before",
    )

    def detect(self, data: InsightInputs) -> pl.DataFrame:
        week = pl.col("booked_on") > data.day(-7)
        tx = data.spending.filter(pl.col("booked_on") > data.day(-35))
        if tx.height == 0:
            return no_findings()
        totals = tx.group_by("customer_id", "currency").agg(
            pl.col("spend_minor").filter(week).sum().alias("spent_minor"),
            (pl.col("spend_minor").filter(~week).sum() / 4).round(0).cast(pl.Int64)
            .alias("usual_minor"),
        ).filter(pl.col("spent_minor") > 0)
        top = (
            tx.filter(week).group_by("customer_id", "currency", "category")
            .agg(pl.col("spend_minor").sum().alias("top_minor"))
            .sort("top_minor", "category", descending=[True, False])
            .unique(subset=["customer_id", "currency"], keep="first")
            .rename({"category": "top_category"})
        )
        iso = data.as_of.isocalendar()
        out = (
            totals.join(top, on=["customer_id", "currency"])
            .join(_balance(data), on=["customer_id", "currency"], how="left")
            .with_columns(
                pl.lit(data.as_of - timedelta(days=6)).alias("week_start"),
                pl.col("balance_minor").fill_null(0),
                pl.lit("weekly").alias("subject"),
                pl.lit(f"{iso.year}-W{iso.week:02d}").alias("period"),
                pl.lit(Urgency.LOW.value).alias("urgency"),
                pl.lit(0.3).alias("relevance"),
            )
        )
        return findings_frame(out, self.spec)


for _detector in (DailySummary(), WeeklyRoundup()):
    detectors.register(_detector.spec.id)(_detector)
