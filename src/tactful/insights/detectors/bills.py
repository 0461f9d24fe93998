"""Detectors about recurring payments: a bill due soon, a bill higher than usual, a price rise,
a new recurring charge. All read the series the understanding layer detected, so their truth is
only as good as that detection -- which ``make eval`` measures end to end.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from tactful.domain.actions import ActionFamily
from tactful.domain.enums import PersonalizationLevel
from tactful.enrich.cadence import CADENCES
from tactful.insights.inputs import InsightInputs, with_unit
from tactful.insights.spec import DetectorSpec, FactKind, Urgency, detectors, findings_frame

M, P, D, T, C, N = (FactKind.MONEY, FactKind.PERCENT, FactKind.DATE, FactKind.TEXT,
                    FactKind.CATEGORY, FactKind.DAYS)

BILL_KINDS: Final = ("bill", "subscription", "rent", "mortgage", "loan_payment")
"""Series a customer pays to someone else on a schedule (not transfers to themselves)."""
PER_YEAR: Final[dict[str, float]] = {name: 365.25 / c.mean_days for name, c in CADENCES.items()}


def _bills(data: InsightInputs) -> pl.DataFrame:
    return with_unit(data.series.filter(
        (pl.col("direction") == "out") & pl.col("kind").is_in(BILL_KINDS)
    ))


def _merchant() -> pl.Expr:
    return pl.col("merchant").fill_null(pl.col("merchant_key")).fill_null("a payee")


class UpcomingBill:
    """A recurring payment due in the next few days, with the amount the customer should expect.

    Only series still active: a late or cancelled one has no reliable next date.
    """

    spec = DetectorSpec(
        id="upcoming_bill",
        family=ActionFamily.UPCOMING_BILL,
        facts={"merchant": T, "amount_minor": M, "due_date": D, "days_until": N,
               "balance_minor": M, "account_type": T, "currency": T},
        needs=frozenset({"series", "accounts"}),
        min_level=PersonalizationLevel.BASIC,
        money_critical=True,
        cooldown_days=0,
        expiry_days=3,
        action="view_bill",
        description="a recurring payment due within the next three days",
    )

    def detect(self, data: InsightInputs) -> pl.DataFrame:
        horizon = data.settings.bill_horizon_days
        bills = _bills(data).filter(
            (pl.col("status") == "active")
            & pl.col("next_date").is_between(data.day(1), data.day(horizon))
        )
        balances = data.accounts.select("account_id", "balance_minor",
                                        pl.col("type").alias("account_type"))
        short = (pl.col("account_type") == "checking") & (pl.col("balance_minor")
                                                           < pl.col("amount_minor"))
        out = bills.join(balances, on="account_id", how="left").with_columns(
            _merchant().alias("merchant"),
            (-pl.col("next_amount_minor").fill_null(pl.col("typical_amount_minor")))
            .abs().alias("amount_minor"),
            pl.col("next_date").alias("due_date"),
            (pl.col("next_date") - pl.lit(data.as_of)).dt.total_days().alias("days_until"),
            pl.col("balance_minor").fill_null(0),
            pl.col("account_type").fill_null("checking"),
            pl.col("series_id").alias("subject"),
            pl.col("next_date").cast(pl.String).alias("period"),
        ).with_columns(
            # only a checking account's balance says whether a payment will go through
            pl.when(short).then(pl.lit(Urgency.HIGH.value)).otherwise(pl.lit(Urgency.NORMAL.value))
            .alias("urgency"),
            (0.9 - 0.15 * (pl.col("days_until") - 1) + pl.when(short).then(0.1).otherwise(0))
            .alias("relevance"),
        )
        return findings_frame(out, self.spec)


class BillUnusual:
    """A bill whose amount varies (energy, phone) just came in well above its usual amount."""

    spec = DetectorSpec(
        id="bill_unusual",
        family=ActionFamily.PRICE_INCREASE,
        facts={"merchant": T, "amount_minor": M, "usual_minor": M, "change_pct": P, "date": D,
               "currency": T},
        needs=frozenset({"series"}),
        min_level=PersonalizationLevel.MODERATE,
        cooldown_days=25,
        expiry_days=7,
        action="view_bill",
        description="a varying bill at least 50 % above its usual amount",
    )

    def detect(self, data: InsightInputs) -> pl.DataFrame:
        s = data.settings
        bills = _bills(data).filter(
            pl.col("amount_varies")
            & pl.col("last_date").is_between(data.day(-6), data.as_of)
            & (pl.col("occurrences") >= 4)
        ).with_columns(
            (-pl.col("last_amount_minor")).abs().alias("amount_minor"),
            pl.col("typical_amount_minor").abs().alias("usual_minor"),
        )
        out = bills.filter(
            (pl.col("amount_minor") >= s.bill_unusual_ratio * pl.col("usual_minor"))
            & (pl.col("amount_minor") - pl.col("usual_minor")
               >= s.bill_unusual_min_increase * pl.col("unit"))
        ).with_columns(
            _merchant().alias("merchant"),
            (pl.col("amount_minor") / pl.col("usual_minor") - 1).alias("change_pct"),
            pl.col("last_date").alias("date"),
            pl.col("series_id").alias("subject"),
            pl.col("last_date").cast(pl.String).alias("period"),
            pl.lit(Urgency.NORMAL.value).alias("urgency"),
        ).with_columns((0.4 + 0.5 * (pl.col("change_pct") / (pl.col("change_pct") + 1)))
                       .alias("relevance"))
        return findings_frame(out, self.spec)


class PriceIncrease:
    """A fixed-price subscription or bill now charges more than it did, with the yearly cost.

    Rent and loan repayments change by contract or review, not by a provider's price rise, and
    are left out.
    """

    spec = DetectorSpec(
        id="price_increase",
        family=ActionFamily.PRICE_INCREASE,
        facts={"merchant": T, "old_minor": M, "new_minor": M, "change_pct": P,
               "effective_date": D, "yearly_extra_minor": M, "currency": T},
        needs=frozenset({"series", "series_changes"}),
        min_level=PersonalizationLevel.MODERATE,
        money_critical=True,
        cooldown_days=60,
        expiry_days=14,
        action="review_subscription",
        description="a fixed-price recurring payment whose amount rose",
    )

    def detect(self, data: InsightInputs) -> pl.DataFrame:
        window = data.settings.price_change_window_days
        rises = data.series_changes.filter(
            pl.col("effective_date").is_between(data.day(-window), data.as_of)
        ).with_columns(
            pl.col("old_amount_minor").abs().alias("old_minor"),
            pl.col("new_amount_minor").abs().alias("new_minor"),
        ).filter(pl.col("new_minor") > pl.col("old_minor"))
        bills = _bills(data).filter(
            ~pl.col("amount_varies") & (pl.col("status") != "cancelled")
            & pl.col("kind").is_in(["subscription", "bill"])
        )
        per_year = pl.col("cadence").replace_strict(PER_YEAR, default=12.0, return_dtype=pl.Float64)
        out = (
            rises.drop("customer_id")
            .join(bills, on="series_id")
            .sort("effective_date")
            .unique(subset="series_id", keep="last")
            .with_columns(
                _merchant().alias("merchant"),
                (pl.col("new_minor") / pl.col("old_minor") - 1).alias("change_pct"),
                ((pl.col("new_minor") - pl.col("old_minor")) * per_year).round(0).cast(pl.Int64)
                .alias("yearly_extra_minor"),
                pl.col("series_id").alias("subject"),
                pl.col("effective_date").cast(pl.String).alias("period"),
                pl.lit(Urgency.NORMAL.value).alias("urgency"),
            )
            .with_columns((0.5 + 0.5 * (pl.col("change_pct") / (pl.col("change_pct") + 0.2)))
                          .alias("relevance"))
        )
        return findings_frame(out, self.spec)


class NewRecurring:
    """A subscription or bill that started recently: easy to forget once the free trial ends.

    A series is recognized at its third payment (two months in for a monthly one), so "new"
    means first paid within the last 100 days and recognized only now (at most four payments).
    """

    spec = DetectorSpec(
        id="new_recurring",
        family=ActionFamily.NEW_RECURRING,
        facts={"merchant": T, "amount_minor": M, "cadence": T, "first_date": D,
               "next_date": D, "currency": T},
        needs=frozenset({"series"}),
        min_level=PersonalizationLevel.MODERATE,
        cooldown_days=365,
        expiry_days=10,
        action="review_subscription",
        description="a subscription or bill first paid in the last 100 days",
        optional_facts=frozenset({"next_date"}),
    )

    def detect(self, data: InsightInputs) -> pl.DataFrame:
        window = data.settings.new_recurring_window_days
        history = data.history.select("account_id", pl.col("first_on").alias("account_first"))
        out = (
            _bills(data)
            .filter(pl.col("kind").is_in(["subscription", "bill"])
                    & (pl.col("status") == "active")
                    & (pl.col("occurrences") <= 4)
                    & pl.col("first_date").is_between(data.day(-window), data.as_of))
            .join(history, on="account_id")
            # a series first seen when the account's history starts is old, not new
            .filter(pl.col("first_date") > pl.col("account_first") + pl.duration(days=40))
            .with_columns(
                _merchant().alias("merchant"),
                pl.col("typical_amount_minor").abs().alias("amount_minor"),
                pl.col("series_id").alias("subject"),
                pl.col("first_date").cast(pl.String).alias("period"),
                pl.lit(Urgency.LOW.value).alias("urgency"),
                pl.lit(0.6).alias("relevance"),
            )
        )
        return findings_frame(out, self.spec)


for _detector in (UpcomingBill(), BillUnusual(), PriceIncrease(), NewRecurring()):
    detectors.register(_detector.spec.id)(_detector)
