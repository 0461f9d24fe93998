"""Detectors about the customer's own products: progress towards a savings goal they set, and
a welcome sequence for a product they just opened."""

from __future__ import annotations

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

M, P, D, T = FactKind.MONEY, FactKind.PERCENT, FactKind.DATE, FactKind.TEXT
GOAL_STEPS = (0.25, 0.5, 0.75, 1.0)


class SavingsGoal:
    """A savings goal passed a quarter, a half, three quarters or all of its target."""

    spec = DetectorSpec(
        id="savings_goal",
        family=ActionFamily.SAVINGS_OPPORTUNITY,
        facts={"name": T, "saved_minor": M, "target_minor": M, "progress_pct": P,
               "step_pct": P, "target_date": D, "currency": T},
        needs=frozenset({"goals", "accounts"}),
        min_level=PersonalizationLevel.BASIC,
        cooldown_days=0,
        expiry_days=14,
        action="view_goal",
        description="a savings goal's balance passing 25, 50, 75 or 100 % of its target",
        optional_facts=frozenset({"target_date"}),
    )

    def detect(self, data: InsightInputs) -> pl.DataFrame:
        if data.goals.height == 0:
            return no_findings()
        progress = pl.col("saved_minor") / pl.col("target_minor")
        step = pl.lit(None, pl.Float64)
        for value in GOAL_STEPS:
            step = pl.when(progress >= value).then(pl.lit(value)).otherwise(step)
        balances = data.accounts.select("account_id", pl.col("balance_minor").alias("saved_minor"))
        out = (
            data.goals.filter(pl.col("target_minor") > 0)
            .join(balances, on="account_id")
            .with_columns(progress.alias("progress_pct"), step.alias("step_pct"))
            .filter(pl.col("step_pct").is_not_null())
            .with_columns(
                (pl.col("goal_id") + ":" + (pl.col("step_pct") * 100).cast(pl.Int64)
                 .cast(pl.String)).alias("subject"),
                pl.lit("milestone").alias("period"),
                pl.lit(Urgency.LOW.value).alias("urgency"),
                (0.4 + 0.5 * pl.col("step_pct")).alias("relevance"),
            )
        )
        return findings_frame(out, self.spec)


class Welcome:
    """A product the customer opened in the last 30 days, and the one thing to do first with it.

    A service message: it needs no personalization consent, and is what a customer at
    personalization level "none" still receives.
    """

    spec = DetectorSpec(
        id="welcome",
        family=ActionFamily.SERVICE_MESSAGE,
        facts={"product": T, "account_type": T, "opened_on": D},
        needs=frozenset({"accounts"}),
        consent=None,
        min_level=PersonalizationLevel.NONE,
        cooldown_days=0,
        expiry_days=14,
        action="set_up_product",
        description="a product opened in the last 30 days",
    )

    def detect(self, data: InsightInputs) -> pl.DataFrame:
        days = data.settings.welcome_days
        out = data.accounts.filter(
            pl.col("opened_on").is_between(data.day(-days + 1), data.as_of)
            & pl.col("closed_on").is_null()
        ).with_columns(
            pl.col("product_name").fill_null(pl.col("type")).alias("product"),
            pl.col("type").alias("account_type"),
            pl.col("account_id").alias("subject"),
            pl.lit("welcome").alias("period"),
            pl.lit(Urgency.NORMAL.value).alias("urgency"),
            pl.lit(0.7).alias("relevance"),
        )
        return findings_frame(out, self.spec)


for _detector in (SavingsGoal(), Welcome()):
    detectors.register(_detector.spec.id)(_detector)
