"""Detectors about how a customer spends: spikes against their own baseline, budgets, large
unusual payments, possible duplicate charges and foreign-transaction fees.

Each compares the customer with themselves, never with other customers: "more than usual" means
more than *this* customer's usual, which is what makes the message true for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from tactful.domain.actions import ActionFamily
from tactful.domain.enums import PersonalizationLevel
from tactful.enrich.taxonomy import SENSITIVE
from tactful.insights.inputs import (
    CARD_CHANNELS,
    InsightInputs,
    is_fee,
    is_spending,
    one_recent_fees,
    recent_fees,
    unit_of,
)
from tactful.insights.spec import (
    DetectorSpec,
    FactKind,
    Urgency,
    detectors,
    findings_frame,
    findings_of_rows,
    no_findings,
)

M, P, D, T, C, N = (FactKind.MONEY, FactKind.PERCENT, FactKind.DATE, FactKind.TEXT,
                    FactKind.CATEGORY, FactKind.COUNT)
_SENSITIVE = list(SENSITIVE)
FOREIGN_FEE = "BANK_FEES_FOREIGN_TRANSACTION_FEES"
DISCRETIONARY = (
    "FOOD_AND_DRINK", "ENTERTAINMENT", "GENERAL_MERCHANDISE", "PERSONAL_CARE", "TRANSPORTATION",
    "TRAVEL", "HOME_IMPROVEMENT",
)
"""Where a spike is the customer's choice and a budget can help; rent, bills and taxes move for
other reasons and have detectors of their own."""


def _not_sensitive() -> pl.Expr:
    return ~pl.col("category_detailed").is_in(_SENSITIVE) & (pl.col("category") != "MEDICAL")


class SpendingSpike:
    """Spending in a category over the last 30 days well above the customer's own average of the
    three 30-day periods before. Sensitive categories (health, gambling, ...) never qualify."""

    spec = DetectorSpec(
        id="spending_spike",
        family=ActionFamily.SPENDING_SPIKE,
        facts={"category": C, "current_minor": M, "baseline_minor": M, "change_pct": P,
               "currency": T},
        needs=frozenset({"transactions"}),
        min_level=PersonalizationLevel.MODERATE,
        cooldown_days=30,
        expiry_days=7,
        action="set_budget",
        description="category spending in the last 30 days against the 90 days before",
    )

    def detect(self, data: InsightInputs) -> pl.DataFrame:
        s = data.settings
        start = data.day(-119)
        tx = data.spending.filter(
            (pl.col("booked_on") >= start) & _not_sensitive()
            & pl.col("category").is_in(DISCRETIONARY) & pl.col("series_id").is_null()
        ).with_columns(
            # food is too broad to compare as one: groceries and dining out move independently
            pl.when(pl.col("category") == "FOOD_AND_DRINK").then(pl.col("category_detailed"))
            .otherwise(pl.col("category")).alias("category")
        )
        history = data.history.group_by("customer_id").agg(pl.col("first_on").min().alias("first"))
        recent = pl.col("booked_on") > data.day(-30)
        agg = (
            tx.group_by("customer_id", "currency", "category")
            .agg(
                pl.col("spend_minor").filter(recent).sum().alias("current_minor"),
                (pl.col("spend_minor").filter(~recent).sum() / 3).round(0).cast(pl.Int64)
                .alias("baseline_minor"),
                pl.col("unit").first(),
            )
            .join(history, on="customer_id")
            .filter(
                (pl.col("first") <= data.day(-112))
                & (pl.col("baseline_minor") >= s.spike_min_baseline * pl.col("unit"))
                & (pl.col("current_minor") > s.spike_ratio * pl.col("baseline_minor"))
                & (pl.col("current_minor") - pl.col("baseline_minor")
                   >= s.spike_min_increase * pl.col("unit"))
            )
            .with_columns(
                (pl.col("current_minor") / pl.col("baseline_minor") - 1).alias("change_pct"),
                pl.col("category").alias("subject"),
                pl.lit(data.as_of.strftime("%Y-%m")).alias("period"),
                pl.lit(Urgency.NORMAL.value).alias("urgency"),
            )
            .with_columns((0.3 + 0.7 * (pl.col("change_pct") / (pl.col("change_pct") + 0.5)))
                          .alias("relevance"))
        )
        return findings_frame(agg, self.spec)


class BudgetProgress:
    """Month-to-date spending against a budget the customer set, at 50, 75 and 100 %.

    Each step is its own subject, so crossing 75 % is news even after the 50 % message; a step
    is said once per month.
    """

    spec = DetectorSpec(
        id="budget_progress",
        realtime=True,
        family=ActionFamily.BUDGET,
        facts={"category": C, "spent_minor": M, "limit_minor": M, "used_pct": P, "step_pct": P,
               "currency": T},
        needs=frozenset({"transactions", "budgets"}),
        min_level=PersonalizationLevel.MODERATE,
        cooldown_days=0,
        expiry_days=5,
        action="view_budget",
        description="month-to-date spending against the customer's own budget",
    )

    def triggered_by(self, new: Sequence[Mapping[str, Any]], data: InsightInputs) -> bool:
        return data.budgets.height > 0 and any(is_spending(r) for r in new)

    def detect(self, data: InsightInputs) -> pl.DataFrame:
        if data.budgets.height == 0:
            return no_findings()
        month_start = data.as_of.replace(day=1)
        tx = data.spending.filter(pl.col("booked_on") >= month_start)
        by_primary = tx.group_by("customer_id", "currency", "category").agg(
            pl.col("spend_minor").sum().alias("spent_minor"))
        by_detailed = tx.group_by("customer_id", "currency",
                                  pl.col("category_detailed").alias("category")).agg(
            pl.col("spend_minor").sum().alias("spent_minor"))
        spent = pl.concat([by_primary, by_detailed])
        steps = sorted(data.settings.budget_steps)
        used = pl.col("spent_minor") / pl.col("limit_minor")
        step = pl.lit(None, pl.Float64)
        for value in steps:
            step = pl.when(used >= value).then(pl.lit(value)).otherwise(step)
        out = (
            data.budgets.join(spent, on=["customer_id", "currency", "category"], how="left")
            .with_columns(pl.col("spent_minor").fill_null(0))
            .with_columns(used.alias("used_pct"), step.alias("step_pct"))
            .filter(pl.col("step_pct").is_not_null() & (pl.col("limit_minor") > 0))
            .with_columns(
                (pl.col("category") + ":" + (pl.col("step_pct") * 100).cast(pl.Int64)
                 .cast(pl.String)).alias("subject"),
                pl.lit(data.as_of.strftime("%Y-%m")).alias("period"),
                pl.when(pl.col("step_pct") >= 1).then(pl.lit(Urgency.HIGH.value))
                .otherwise(pl.lit(Urgency.NORMAL.value)).alias("urgency"),
                (0.4 + 0.6 * pl.col("step_pct").clip(0, 1)).alias("relevance"),
            )
        )
        return findings_frame(out, self.spec)


class LargeTransaction:
    """A card payment far above anything the customer usually pays by card: a "was this you?"
    that catches both fraud and a change in their situation."""

    spec = DetectorSpec(
        id="large_transaction",
        realtime=True,
        family=ActionFamily.UNUSUAL_TRANSACTION,
        facts={"merchant": T, "amount_minor": M, "date": D, "usual_max_minor": M, "currency": T},
        needs=frozenset({"transactions"}),
        consent=None,
        min_level=PersonalizationLevel.BASIC,
        cooldown_days=0,
        expiry_days=5,
        action="review_transaction",
        description="a card payment above four times the customer's usual largest",
    )

    def triggered_by(self, new: Sequence[Mapping[str, Any]], data: InsightInputs) -> bool:
        large = data.settings.large_min
        return any(
            is_spending(r) and r["channel"] in CARD_CHANNELS and r["series_id"] is None
            and -r["amount_minor"] >= large * unit_of(r["currency"])
            for r in new
        )

    def detect(self, data: InsightInputs) -> pl.DataFrame:
        s = data.settings
        card = data.spending.filter(pl.col("channel").is_in(CARD_CHANNELS)
                                    & pl.col("series_id").is_null())
        recent = pl.col("booked_on") > data.day(-3)
        big = recent & (pl.col("spend_minor") >= s.large_min * pl.col("unit"))
        if not card.select(big.any()).item():
            return no_findings()
        history = (
            card.filter(~recent & (pl.col("booked_on") > data.day(-120)))
            .group_by("customer_id", "currency")
            .agg(pl.col("spend_minor").quantile(0.95).alias("usual_max_minor"),
                 pl.len().alias("n"))
            .filter(pl.col("n") >= 20)
            .with_columns(pl.col("usual_max_minor").round(0).cast(pl.Int64))
        )
        out = (
            card.filter(recent)
            .join(history, on=["customer_id", "currency"])
            .filter(
                (pl.col("spend_minor") > s.large_multiple * pl.col("usual_max_minor"))
                & (pl.col("spend_minor") >= s.large_min * pl.col("unit"))
            )
            .with_columns(
                pl.col("merchant").fill_null("an unknown merchant"),
                pl.col("spend_minor").alias("amount_minor"),
                pl.col("booked_on").alias("date"),
                pl.col("id").alias("subject"),
                pl.col("booked_on").cast(pl.String).alias("period"),
                pl.lit(Urgency.HIGH.value).alias("urgency"),
                (0.5 + 0.5 * (1 - s.large_multiple * pl.col("usual_max_minor")
                              / pl.col("spend_minor"))).alias("relevance"),
            )
        )
        return findings_frame(out, self.spec)


class DuplicateCharge:
    """The same amount charged twice by the same merchant on the same card within minutes.

    A customer who buys the same thing at the same place all the time (a daily coffee, a fare)
    is excluded for that merchant and amount: two of those in ten minutes are two purchases.
    """

    spec = DetectorSpec(
        id="duplicate_charge",
        realtime=True,
        family=ActionFamily.DUPLICATE_CHARGE,
        facts={"merchant": T, "amount_minor": M, "date": D, "minutes_apart": N, "currency": T},
        needs=frozenset({"transactions"}),
        consent=None,
        min_level=PersonalizationLevel.BASIC,
        money_critical=True,
        cooldown_days=0,
        expiry_days=14,
        action="dispute_charge",
        description="two identical card charges at one merchant within minutes",
    )

    def triggered_by(self, new: Sequence[Mapping[str, Any]], data: InsightInputs) -> bool:
        return any(
            r["status"] == "posted" and r["channel"] in CARD_CHANNELS and r["amount_minor"] < 0
            and r["merchant_key"] is not None and r["series_id"] is None
            for r in new
        )

    def detect(self, data: InsightInputs) -> pl.DataFrame:
        window = data.settings.duplicate_window_minutes
        candidate = (
            pl.col("channel").is_in(CARD_CHANNELS)
            & (pl.col("amount_minor") < 0)
            & pl.col("merchant_key").is_not_null()
            & pl.col("series_id").is_null()
        )
        key = ["account_id", "merchant_key", "amount_minor"]
        # only a charge seen twice in the look-back week can be a duplicate: most days, none is;
        # an amount seen twice is the necessary condition, read off two columns
        posted = data.posted
        amounts = posted.get_column("amount_minor").filter(
            posted.get_column("booked_on") > data.day(-7))
        if not amounts.filter(amounts < 0).is_duplicated().any():
            return no_findings()
        week = data.posted.filter(candidate & (pl.col("booked_on") > data.day(-7)))
        if not week.select(pl.struct(key).is_duplicated().any()).item():
            return no_findings()
        card = data.posted.filter(candidate & (pl.col("booked_on") > data.day(-120)))
        twice = week.group_by(key).len().filter(pl.col("len") >= 2).select(key)
        card = card.join(twice, on=key, how="semi")
        habitual = (
            card.group_by(key).agg(pl.col("booked_on").n_unique().alias("days"))
            .filter(pl.col("days") >= 3).select(key)
        )
        pairs = (
            card.join(habitual, on=key, how="anti")
            .sort([*key, "booked_at"])
            .with_columns(pl.col("booked_at").shift(1).over(key).alias("previous_at"))
            .with_columns(((pl.col("booked_at") - pl.col("previous_at")).dt.total_seconds() / 60)
                          .alias("gap"))
            .filter(pl.col("gap").is_not_null() & (pl.col("gap") <= window)
                    & (pl.col("booked_on") > data.day(-7)))
        )
        out = pairs.with_columns(
            pl.col("merchant").fill_null(pl.col("merchant_key")),
            (-pl.col("amount_minor")).alias("amount_minor"),
            pl.col("booked_on").alias("date"),
            pl.col("gap").round(0).cast(pl.Int64).alias("minutes_apart"),
            pl.col("id").alias("subject"),
            pl.col("booked_on").cast(pl.String).alias("period"),
            pl.lit(Urgency.HIGH.value).alias("urgency"),
            (1.0 - pl.col("gap") / (2 * max(window, 1))).alias("relevance"),
        )
        return findings_frame(out, self.spec)


class ForeignFees:
    """Foreign-transaction fees paid in the last 30 days: a card without them would have saved
    this much."""

    spec = DetectorSpec(
        id="foreign_fees",
        realtime=True,
        family=ActionFamily.FEES,
        facts={"fees_minor": M, "count": N, "last_date": D, "currency": T},
        needs=frozenset({"transactions"}),
        min_level=PersonalizationLevel.MODERATE,
        cooldown_days=30,
        expiry_days=10,
        action="compare_cards",
        description="foreign-transaction fees over the last 30 days",
    )

    def triggered_by(self, new: Sequence[Mapping[str, Any]], data: InsightInputs) -> bool:
        return any(is_fee(r, (FOREIGN_FEE,), checking_only=False) for r in new)

    def detect(self, data: InsightInputs) -> pl.DataFrame:
        if data.customers.height == 1:  # the event that books the fee: in Python
            return findings_of_rows(self.spec, [
                {**fee, "subject": "foreign_fees", "period": fee["last_date"].strftime("%Y-%m"),
                 "urgency": Urgency.LOW.value,
                 "relevance": 0.3 + 0.1 * min(max(fee["count"], 0), 7)}
                for fee in one_recent_fees(data, (FOREIGN_FEE,), checking_only=False)])
        out = recent_fees(data, (FOREIGN_FEE,), checking_only=False).with_columns(
            pl.lit("foreign_fees").alias("subject"),
            pl.col("last_date").dt.strftime("%Y-%m").alias("period"),
            pl.lit(Urgency.LOW.value).alias("urgency"),
            (0.3 + 0.1 * pl.col("count").clip(0, 7)).alias("relevance"),
        )
        return findings_frame(out, self.spec)


for _detector in (SpendingSpike(), BudgetProgress(), LargeTransaction(), DuplicateCharge(),
                  ForeignFees()):
    detectors.register(_detector.spec.id)(_detector)
