"""Detectors about the balance: a shortfall coming before the next income, a low balance now,
overdraft fees paid, and cash sitting idle that could earn interest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from tactful.domain.actions import ActionFamily
from tactful.domain.enums import PersonalizationLevel
from tactful.insights.forecast import Forecast, forecast
from tactful.insights.inputs import (
    InsightInputs,
    frame_rows,
    is_fee,
    one_recent_fees,
    recent_fees,
    unit_of,
)
from tactful.insights.risk_one import one_risk_features
from tactful.insights.shortfall_risk import (
    ShortfallRisk,
    risk_features,
    risk_forecast,
    should_warn,
)
from tactful.insights.spec import (
    DetectorSpec,
    FactKind,
    Urgency,
    day_after,
    detectors,
    findings_frame,
    findings_of_rows,
    no_findings,
)

M, P, D, T, N = FactKind.MONEY, FactKind.PERCENT, FactKind.DATE, FactKind.TEXT, FactKind.COUNT

OVERDRAFT_FEES = (
    "BANK_FEES_OVERDRAFT_FEES", "BANK_FEES_INSUFFICIENT_FUNDS", "BANK_FEES_INTEREST_CHARGE",
)


def _one_customer_probabilities(data: InsightInputs, risk: ShortfallRisk) -> (
    tuple[list[str], NDArray[np.float64]]
):
    """The open checking accounts of one customer at or above the line, with the risk's
    probability for each: ``one_risk_features`` and the model row by row (``predict_one`` where
    the model has it), what ``risk_features`` and ``Risk.probability`` give for them."""
    s = data.settings
    vectors = one_risk_features(data, horizon=s.shortfall_risk_days)
    acc = data.accounts
    balances = dict(zip(acc.get_column("account_id").to_list(),
                        zip(acc.get_column("balance_minor").to_list(),
                            acc.get_column("currency").to_list(), strict=True), strict=True))
    ids = [a for a, (balance, currency) in balances.items()
           if a in vectors and balance >= s.shortfall_buffer * unit_of(currency)]
    if not ids:
        return ids, np.zeros(0)
    one = getattr(risk.model, "predict_one", None)
    if one is not None:
        return ids, np.array([one(vectors[a]) for a in ids], dtype=np.float64)
    return ids, np.asarray(risk.model.predict(np.stack([vectors[a] for a in ids])))


def _with_income(frame: pl.DataFrame, data: InsightInputs) -> pl.DataFrame:
    return frame.join(data.monthly_income, on=["customer_id", "currency"], how="left").with_columns(
        pl.col("monthly_income_minor").fill_null(0))


def _may_be_low(data: InsightInputs) -> bool:
    """False when no checking balance can be under its threshold: every balance is at least the
    largest threshold any account could have (the floor in the largest unit, and the income
    share of all the shard's income together). A few column reads instead of a join and three
    frame steps, on the real-time path where most events leave the balance well above it."""
    checking = data.checking
    if checking.height == 0:
        return False
    s = data.settings
    income = data.income.get_column("monthly_amount_minor").fill_null(0).clip(0).sum()
    units = checking.get_column("unit").max()
    ceiling = max((income if isinstance(income, int) else 0) * s.low_balance_income_share,
                  (units if isinstance(units, int) else 100) * s.low_balance_floor)
    lowest = checking.get_column("balance_minor").min()
    return not isinstance(lowest, int) or lowest < ceiling


class Shortfall:
    """The forecast balance goes below zero (or the bank's buffer) before the next income, by
    more than the forecast's margin of error.

    Said only while the balance is still above the line today: once it is below, the customer
    needs the low-balance message, not a forecast. A customer whose balance has not been below
    the line in the last 90 days is told only when the forecast gap is clear
    (``shortfall_clear_margin``): such customers mostly close a small gap themselves, moving
    money from savings or spending less, and a warning they did not need costs the next one its
    credibility. On two development banks this raised precision from 0.82 and 0.72 to 0.84 each,
    for recall 0.81 -> 0.77 and 0.79 -> 0.76.

    With a promoted shortfall model (``InsightInputs.shortfall_risk``) the decision is the
    model's: P(the balance goes below the line before the next income) for every account still
    above it, and a warning where P x ``shortfall_harm`` exceeds ``shortfall_attention_cost``
    -- expected benefit against the attention it costs, no margin. The rule forecast over the
    same horizon still writes the message: the first day its path goes below the line (or, when
    the customer's habits rather than the bills make the dip likely, the path's lowest day), the
    balance then, and the payments and usual spending that bring it there. The relevance is P.
    """

    spec = DetectorSpec(
        id="shortfall",
        family=ActionFamily.SHORTFALL,
        facts={"shortfall_date": D, "projected_minor": M, "balance_minor": M,
               "scheduled_minor": M, "usual_minor": M, "next_income_date": D, "currency": T},
        needs=frozenset({"accounts", "transactions", "series", "income"}),
        min_level=PersonalizationLevel.MODERATE,
        money_critical=True,
        cooldown_days=7,
        expiry_days=3,
        action="move_money",
        description="the balance forecast to go below zero before the next income",
        optional_facts=frozenset({"next_income_date"}),
        realtime_with="shortfall_risk",
    )

    def triggered_by(self, new: Sequence[Mapping[str, Any]], data: InsightInputs) -> bool:
        """Money that moves (anything not declined) changes the balances, the spending and the
        forecast; a new day moves the horizon. A declined payment on the same day changes
        nothing the forecast or the model reads."""
        return (any(r["status"] != "declined" for r in new)
                or day_after(new, data) > data.as_of)

    def detect(self, data: InsightInputs) -> pl.DataFrame:
        if data.shortfall_risk is not None:
            return self._by_probability(data, data.shortfall_risk)
        f = forecast(data)
        if f.path.height == 0:
            return no_findings()
        s = data.settings
        start = f.accounts.select("account_id", "balance_minor", "next_income").join(
            data.checking.select("account_id", "unit"), on="account_id")
        line = s.shortfall_buffer * pl.col("unit")
        below = (
            data.daily_balances.filter(pl.col("eod_minor") < line)
            .select("account_id").unique().with_columns(pl.lit(True).alias("_been_below"))
        )
        margin = pl.when(pl.col("_been_below").fill_null(False)).then(
            pl.lit(s.shortfall_margin)).otherwise(pl.lit(s.shortfall_clear_margin))
        first = (
            f.path.join(start, on="account_id").join(below, on="account_id", how="left")
            .filter((pl.col("balance_minor") >= line)
                    & (pl.col("expected_minor") < line - margin * pl.col("unit")))
            .sort("account_id", "day")
            .unique(subset="account_id", keep="first")
        )
        out = first.with_columns(
            *_shortfall_columns(),
            pl.when(pl.col("high_minor") < line).then(0.95)
            .otherwise(0.75 - 0.02 * pl.col("ahead")).alias("relevance"),
        )
        return findings_frame(out, self.spec)

    def _by_probability(self, data: InsightInputs, risk: ShortfallRisk) -> pl.DataFrame:
        s = data.settings
        f: Forecast | None = None
        if data.customers.height == 1:
            # one customer on an event: the one-customer builder (same features, a tenth of
            # the time); the forecast is built only for a warning's explanation
            ids, p = _one_customer_probabilities(data, risk)
        else:
            f = risk_forecast(data, s.shortfall_risk_days)
            if f.path.height == 0:
                return no_findings()
            feats = risk_features(data, horizon=s.shortfall_risk_days, fc=f).filter(
                pl.col("balance_minor") >= s.shortfall_buffer * pl.col("unit"))
            ids, p = feats["account_id"].to_list(), risk.probability(feats)
        warn = should_warn(p, harm=s.shortfall_harm, attention_cost=s.shortfall_attention_cost)
        if not warn.any():  # most events: nothing to say, and no frame to build
            return no_findings()
        warned = pl.DataFrame({"account_id": ids, "p": p},
                              schema={"account_id": pl.String, "p": pl.Float64}).filter(
            pl.Series(warn))
        if f is None:
            f = risk_forecast(data, s.shortfall_risk_days)
            if f.path.height == 0:
                return no_findings()
        line = s.shortfall_buffer * pl.col("unit")
        path = (
            f.path.join(warned, on="account_id")
            .join(data.checking.select("account_id", "unit"), on="account_id")
            .join(f.accounts.select("account_id", "balance_minor", "next_income"),
                  on="account_id")
            .with_columns((pl.col("expected_minor") < line).alias("_below"))
        )
        # the first day below the line, or else the lowest day of the path
        first = path.sort(["account_id", "_below", "day"], descending=[False, True, False])
        lowest = path.sort(["account_id", "expected_minor", "day"])
        pick = pl.concat([
            first.filter(pl.col("_below")).unique(subset="account_id", keep="first"),
            lowest.unique(subset="account_id", keep="first"),
        ]).unique(subset="account_id", keep="first", maintain_order=True)
        out = pick.with_columns(*_shortfall_columns(), pl.col("p").alias("relevance"))
        return findings_frame(out, self.spec)


class LowBalance:
    """The checking balance is below a tenth of the customer's monthly income (and a floor):
    what counts as low depends on what comes in."""

    spec = DetectorSpec(
        id="low_balance",
        realtime=True,
        family=ActionFamily.LOW_BALANCE,
        facts={"balance_minor": M, "threshold_minor": M, "currency": T},
        needs=frozenset({"accounts", "income"}),
        min_level=PersonalizationLevel.BASIC,
        cooldown_days=7,
        expiry_days=2,
        action="move_money",
        description="the checking balance below 10 % of monthly income",
    )

    def triggered_by(self, new: Sequence[Mapping[str, Any]], data: InsightInputs) -> bool:
        """Only money leaving a checking account can make its balance low."""
        return any(r["status"] != "declined" and r["amount_minor"] < 0
                   and r["account_type"] == "checking" for r in new)

    def detect(self, data: InsightInputs) -> pl.DataFrame:
        s = data.settings
        if data.customers.height == 1:
            return findings_of_rows(self.spec, self._one_customer(data))
        if not _may_be_low(data):
            return no_findings()
        threshold = pl.max_horizontal(
            (pl.col("monthly_income_minor").fill_null(0) * s.low_balance_income_share).round(0)
            .cast(pl.Int64),
            (pl.col("unit") * s.low_balance_floor).cast(pl.Int64),
        )
        out = (
            _with_income(data.checking, data)
            .with_columns(threshold.alias("threshold_minor"))
            .filter(pl.col("balance_minor") < pl.col("threshold_minor"))
            .with_columns(
                pl.col("account_id").alias("subject"),
                pl.lit(data.as_of.isoformat()).alias("period"),
                pl.when(pl.col("balance_minor") < 0).then(pl.lit(Urgency.HIGH.value))
                .otherwise(pl.lit(Urgency.NORMAL.value)).alias("urgency"),
                pl.when(pl.col("balance_minor") < 0).then(0.9).otherwise(0.6).alias("relevance"),
            )
        )
        return findings_frame(out, self.spec)

    def _one_customer(self, data: InsightInputs) -> list[dict[str, Any]]:
        """``detect``'s findings for one customer, in Python: the event path runs this on
        every payment out of a checking account, and the frame steps cost more than the few
        accounts and streams it reads."""
        s = data.settings
        income = data.monthly_income_by
        found = []
        for account_id, customer_id, kind, currency, balance, closed_on in frame_rows(
                data.accounts, ("account_id", "customer_id", "type", "currency",
                                "balance_minor", "closed_on")):
            if kind != "checking" or (closed_on is not None and closed_on <= data.as_of):
                continue
            threshold = max(round(income.get((customer_id, currency), 0)
                                  * s.low_balance_income_share),
                            int(unit_of(currency) * s.low_balance_floor))
            if balance is None or balance >= threshold:
                continue
            found.append({
                "customer_id": customer_id, "subject": account_id,
                "period": data.as_of.isoformat(),
                "urgency": (Urgency.HIGH if balance < 0 else Urgency.NORMAL).value,
                "relevance": 0.9 if balance < 0 else 0.6,
                "balance_minor": balance, "threshold_minor": threshold, "currency": currency,
            })
        return found


class FeesPaid:
    """Overdraft, insufficient-funds or overdraft-interest charges in the last 30 days, with a
    low-balance alert as the remedy. Money trouble is sensitive: private channels only."""

    spec = DetectorSpec(
        id="fees_paid",
        realtime=True,
        family=ActionFamily.FEES,
        facts={"fees_minor": M, "count": N, "last_date": D, "currency": T},
        needs=frozenset({"transactions"}),
        min_level=PersonalizationLevel.BASIC,
        sensitive=True,
        money_critical=True,
        cooldown_days=30,
        expiry_days=10,
        action="set_low_balance_alert",
        description="overdraft fees or interest charged in the last 30 days",
    )

    def triggered_by(self, new: Sequence[Mapping[str, Any]], data: InsightInputs) -> bool:
        return any(is_fee(r, OVERDRAFT_FEES, checking_only=True) for r in new)

    def detect(self, data: InsightInputs) -> pl.DataFrame:
        if data.customers.height == 1:  # the event that books the fee: in Python
            return findings_of_rows(self.spec, [
                {**fee, "subject": "overdraft_fees", "period": fee["last_date"].isoformat(),
                 "urgency": Urgency.NORMAL.value,
                 "relevance": 0.6 + 0.1 * min(max(fee["count"], 0), 4)}
                for fee in one_recent_fees(data, OVERDRAFT_FEES, checking_only=True)])
        out = recent_fees(data, OVERDRAFT_FEES, checking_only=True).with_columns(
            pl.lit("overdraft_fees").alias("subject"),
            pl.col("last_date").cast(pl.String).alias("period"),
            pl.lit(Urgency.NORMAL.value).alias("urgency"),
            (0.6 + 0.1 * pl.col("count").clip(0, 4)).alias("relevance"),
        )
        return findings_frame(out, self.spec)


class IdleCash:
    """The checking balance has stayed well above what the customer needs for two months: money
    that could earn interest in savings without ever being missed."""

    spec = DetectorSpec(
        id="idle_cash",
        family=ActionFamily.SAVINGS_OPPORTUNITY,
        facts={"lowest_minor": M, "monthly_income_minor": M, "suggested_minor": M, "days": N,
               "currency": T},
        needs=frozenset({"accounts", "transactions", "income"}),
        min_level=PersonalizationLevel.MODERATE,
        cooldown_days=60,
        expiry_days=14,
        action="open_savings",
        description="the lowest balance of 60 days above 1.5 months of income",
    )

    def detect(self, data: InsightInputs) -> pl.DataFrame:
        s = data.settings
        days = s.idle_cash_days
        balances = data.daily_balances
        if balances.height == 0:
            return no_findings()
        history = data.history.select("account_id", pl.col("first_on").alias("first"))
        low = (
            balances.filter(pl.col("day") > data.day(-days))
            .group_by("account_id", "customer_id", "currency")
            .agg(pl.col("eod_minor").min().alias("lowest_minor"), pl.col("unit").first())
            .join(history, on="account_id")
            .filter(pl.col("first") <= data.day(-days))
        )
        out = (
            _with_income(low, data)
            .filter(
                (pl.col("monthly_income_minor") > 0)
                & (pl.col("lowest_minor")
                   > s.idle_cash_income_multiple * pl.col("monthly_income_minor"))
                & (pl.col("lowest_minor") >= s.idle_cash_min * pl.col("unit"))
            )
            .with_columns(
                # keep a month of income as a cushion; suggest the rest in round hundreds
                ((pl.col("lowest_minor") - pl.col("monthly_income_minor"))
                 // (100 * pl.col("unit")) * (100 * pl.col("unit"))).alias("suggested_minor"),
                pl.lit(days).alias("days"),
                pl.col("account_id").alias("subject"),
                pl.lit(data.as_of.strftime("%Y-%m")).alias("period"),
                pl.lit(Urgency.LOW.value).alias("urgency"),
                (0.4 + 0.5 * (1 - pl.col("monthly_income_minor") / pl.col("lowest_minor")))
                .alias("relevance"),
            )
            .filter(pl.col("suggested_minor") > 0)
        )
        return findings_frame(out, self.spec)


for _detector in (Shortfall(), LowBalance(), FeesPaid(), IdleCash()):
    detectors.register(_detector.spec.id)(_detector)


def _shortfall_columns() -> list[pl.Expr]:
    """A forecast path's day as a shortfall finding's fields (both the rule and the model warn
    with the same message, so the rule forecast explains either)."""
    return [
        pl.col("day").alias("shortfall_date"),
        pl.col("expected_minor").alias("projected_minor"),
        (-pl.col("usual_minor")).alias("usual_minor"),
        (-pl.col("scheduled_minor")).alias("scheduled_minor"),
        pl.col("next_income").alias("next_income_date"),
        pl.col("account_id").alias("subject"),
        pl.col("day").cast(pl.String).alias("period"),
        pl.when(pl.col("ahead") <= 3).then(pl.lit(Urgency.HIGH.value))
        .otherwise(pl.lit(Urgency.NORMAL.value)).alias("urgency"),
    ]
