"""Detectors about income: a raise (a life event worth a savings plan) and a payment that did
not arrive when it always does."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl

from tactful.domain.actions import ActionFamily
from tactful.domain.enums import PersonalizationLevel
from tactful.insights.inputs import InsightInputs
from tactful.insights.late_income_risk import (
    LATE_FEATURES,
    LateIncomeRisk,
    late_features,
    may_be_late,
)
from tactful.insights.late_one import one_late_features
from tactful.insights.shortfall_risk import should_warn
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

M, P, D, T, N = FactKind.MONEY, FactKind.PERCENT, FactKind.DATE, FactKind.TEXT, FactKind.DAYS


_EMPLOYER = "your employer"
"""The payer a stream without a merchant name is told as."""


def _payer() -> pl.Expr:
    return pl.col("merchant").fill_null(_EMPLOYER)


class SalaryRaise:
    """The customer's pay went up: the moment to save part of the difference, before it is
    absorbed by spending.

    A raise is confirmed by the second payment at the new level (the third for pay that
    varies), so a monthly raise is known a month or two after it takes effect: the window runs
    75 days from the effective date.
    """

    spec = DetectorSpec(
        id="salary_raise",
        family=ActionFamily.INCOME_CHANGE,
        facts={"payer": T, "old_minor": M, "new_minor": M, "change_pct": P,
               "effective_date": D, "currency": T},
        needs=frozenset({"income", "income_changes"}),
        min_level=PersonalizationLevel.MODERATE,
        cooldown_days=90,
        expiry_days=21,
        action="start_saving",
        description="a pay stream whose amount rose in the last 75 days",
    )

    def detect(self, data: InsightInputs) -> pl.DataFrame:
        window = data.settings.raise_window_days
        streams = data.income.filter(pl.col("kind").is_in(["payroll", "pension"])).select(
            "stream_id", "merchant", "currency")
        out = (
            data.income_changes.filter(
                (pl.col("change") == "raise")
                & pl.col("effective_date").is_between(data.day(-window), data.as_of)
            )
            .join(streams, on="stream_id")
            .sort("effective_date")
            .unique(subset="stream_id", keep="last")
            .with_columns(
                _payer().alias("payer"),
                pl.col("old_amount_minor").alias("old_minor"),
                pl.col("new_amount_minor").alias("new_minor"),
                pl.col("change_ratio").alias("change_pct"),
                pl.col("stream_id").alias("subject"),
                pl.col("effective_date").cast(pl.String).alias("period"),
                pl.lit(Urgency.LOW.value).alias("urgency"),
                (0.5 + pl.col("change_ratio").clip(0, 0.4)).alias("relevance"),
            )
        )
        return findings_frame(out, self.spec)


class IncomeLate:
    """A regular income has not arrived some days after the date it always comes.

    With a promoted late-income model (``InsightInputs.late_income_risk``) the decision is the
    model's: P(the payment does not arrive within ``LATE_DAYS`` of its expected date) for every
    stream whose expected payment has not been seen, and a warning where P x
    ``income_late_harm`` exceeds ``income_late_attention_cost``; the relevance is P.
    """

    spec = DetectorSpec(
        id="income_late",
        family=ActionFamily.INCOME_CHANGE,
        facts={"payer": T, "expected_date": D, "days_late": N, "typical_minor": M,
               "currency": T},
        needs=frozenset({"income"}),
        min_level=PersonalizationLevel.BASIC,
        cooldown_days=14,
        expiry_days=7,
        action="contact_support",
        description="a regular income more than four days late",
        realtime_with="late_income_risk",
    )

    def triggered_by(self, new: Sequence[Mapping[str, Any]], data: InsightInputs) -> bool:
        """Only for a stream ``may_be_late`` admits on the event's day (read from the income
        rows and the day alone): the model scores no other, and the rule's window lies inside
        it."""
        day = day_after(new, data)
        return may_be_late(data if day == data.as_of else replace(data, as_of=day))

    def detect(self, data: InsightInputs) -> pl.DataFrame:
        if data.late_income_risk is not None:
            return self._by_probability(data, data.late_income_risk)
        grace = data.settings.income_grace_days
        out = data.income.filter(
            (pl.col("schedule") != "irregular")
            & (pl.col("status") != "stopped")
            & (pl.col("occurrences") >= 3)
            & pl.col("next_date").is_not_null()
            & (pl.col("next_date") < data.day(-grace))
            & (pl.col("next_date") >= data.day(-31))
            & (pl.col("last_date") < pl.col("next_date"))
        ).with_columns(
            _payer().alias("payer"),
            pl.col("next_date").alias("expected_date"),
            (pl.lit(data.as_of) - pl.col("next_date")).dt.total_days().alias("days_late"),
            pl.col("typical_amount_minor").alias("typical_minor"),
            pl.col("stream_id").alias("subject"),
            pl.col("next_date").cast(pl.String).alias("period"),
            pl.lit(Urgency.HIGH.value).alias("urgency"),
            pl.lit(0.8).alias("relevance"),
        )
        return findings_frame(out, self.spec)

    def _by_probability(self, data: InsightInputs, risk: LateIncomeRisk) -> pl.DataFrame:
        s = data.settings
        if data.customers.height == 1:
            return self._one_customer(data, risk)
        feats = late_features(data)
        p = risk.probability(feats)
        warn = should_warn(p, harm=s.income_late_harm, attention_cost=s.income_late_attention_cost)
        return self.findings_of(feats.with_columns(pl.Series("_p", p)).filter(pl.Series(warn)))

    def _one_customer(self, data: InsightInputs, risk: LateIncomeRisk) -> pl.DataFrame:
        """One customer on an event: ``may_be_late`` rules out most customers from the income
        rows alone; the rest get ``one_late_features`` (the batch features, without some
        twenty Polars operations over a one-customer frame) and the model row by row
        (``predict_one`` where the model has it); a warning's findings are built from the
        candidates directly, as ``findings_of`` would give them."""
        s = data.settings
        if not may_be_late(data):
            return no_findings()
        candidates = one_late_features(data)
        if not candidates:
            return no_findings()
        one = getattr(risk.model, "predict_one", None)
        if one is not None:
            p = np.array([one(c.features) for c in candidates], dtype=np.float64)
        else:
            p = np.asarray(risk.model.predict(np.stack([c.features for c in candidates])))
        warn = should_warn(p, harm=s.income_late_harm, attention_cost=s.income_late_attention_cost)
        if not warn.any():
            return no_findings()
        late = LATE_FEATURES.index("days_late")
        return findings_of_rows(self.spec, [
            {"customer_id": c.customer_id, "subject": c.stream_id,
             "period": c.next_date.isoformat(), "urgency": Urgency.HIGH.value,
             "relevance": float(chance), "payer": c.merchant or _EMPLOYER,
             "expected_date": c.next_date,
             "days_late": None if math.isnan(c.features[late]) else int(c.features[late]),
             "typical_minor": c.typical_amount_minor, "currency": c.currency}
            for c, chance, w in zip(candidates, p.tolist(), warn.tolist(), strict=True) if w])

    def findings_of(self, late: pl.DataFrame) -> pl.DataFrame:
        """Findings for rows of ``late_features`` with their probability ``_p`` (the
        evaluation also calls it on every candidate, to measure the candidates' recall)."""
        out = late.with_columns(
            _payer().alias("payer"),
            pl.col("next_date").alias("expected_date"),
            pl.col("days_late").cast(pl.Int64),
            pl.col("typical_amount_minor").alias("typical_minor"),
            pl.col("stream_id").alias("subject"),
            pl.col("next_date").cast(pl.String).alias("period"),
            pl.lit(Urgency.HIGH.value).alias("urgency"),
            pl.col("_p").alias("relevance"),
        )
        return findings_frame(out, self.spec)


for _detector in (SalaryRaise(), IncomeLate()):
    detectors.register(_detector.spec.id)(_detector)
