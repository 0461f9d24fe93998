"""The late-income risk: features cut at the as-of day, labels from the payer's later credits in
the store, and a warning where P x harm exceeds the attention it costs."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from numpy.typing import NDArray
from polars.testing import assert_frame_equal

from tactful.insights.detectors.income import IncomeLate
from tactful.insights.inputs import InsightInputs, InsightSettings
from tactful.insights.late_income_risk import (
    LATE_FEATURES,
    LateIncomeRisk,
    late_features,
    late_labels,
)


def _with_future(inputs: InsightInputs) -> pl.DataFrame:
    """The transactions plus a corrupted future: every credit of the last 40 days booked again
    3 to 20 days after the as-of day, from the same payers, at 37 times the sum, as income."""
    recent = inputs.transactions.filter(
        (pl.col("amount_minor") > 0) & (pl.col("booked_on") > inputs.as_of - timedelta(days=40)))
    shift = pl.duration(days=(pl.int_range(pl.len()) % 18 + 3))
    future = recent.with_columns(
        pl.col("id") + "-future",
        (pl.col("booked_on") + shift + pl.duration(days=40)).alias("booked_on"),
        pl.col("booked_at") + shift + pl.duration(days=40),
        pl.col("amount_minor") * 37, pl.lit("INCOME").alias("category"))
    assert future.filter(pl.col("booked_on") > inputs.as_of).height > 100
    return pl.concat([inputs.transactions, future])


def test_features_do_not_change_when_the_future_does(inputs: InsightInputs) -> None:
    base = late_features(inputs)
    assert base.height >= 5  # late, stopped and irregular streams are there to score
    assert base.get_column("days_late").min() >= 1  # type: ignore[operator]
    corrupted = replace(inputs, transactions=_with_future(inputs))
    assert_frame_equal(late_features(corrupted), base)


def test_every_feature_is_produced(inputs: InsightInputs) -> None:
    out = late_features(inputs)
    assert tuple(c for c in out.columns if c in LATE_FEATURES) == LATE_FEATURES
    assert out.select(LATE_FEATURES).null_count().sum_horizontal().item() < out.height * 3


D = date(2025, 3, 10)
CANDIDATE = pl.DataFrame({"stream_id": ["S"], "account_id": ["A"], "merchant": ["ACME"],
                          "next_date": [D]})


@pytest.mark.parametrize(("payer", "offset", "last_day", "expected"), [
    ("ACME", 0, D + timedelta(days=30), [0]),  # paid on the day
    ("ACME", -3, D + timedelta(days=30), [0]),  # paid three days early
    ("ACME", 7, D + timedelta(days=30), [0]),  # paid a week late: still within the window
    ("ACME", 8, D + timedelta(days=30), [1]),  # eight days late: late
    ("NEW EMPLOYER", 0, D + timedelta(days=30), [1]),  # another payer's credit is not it
    ("ACME", 0, D + timedelta(days=6), []),  # the window runs past the data: unknown
])
def test_labels_by_hand(payer: str, offset: int, last_day: date, expected: list[int]) -> None:
    credits = pl.DataFrame({"account_id": ["A"], "merchant": [payer],
                            "merchant_key": [payer.lower()],
                            "booked_on": [D + timedelta(days=offset)]})
    out = late_labels(CANDIDATE, credits, last_day=last_day)
    assert out.get_column("label").to_list() == expected


@dataclass
class FixedModel:
    """A classifier that says ``p`` for every row."""

    p: float
    feature_names_: tuple[str, ...] = LATE_FEATURES

    def predict(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        assert x.shape[1] == len(LATE_FEATURES)
        return np.full(x.shape[0], self.p)


@pytest.mark.parametrize(("p", "harm", "cost", "fires"), [
    (0.9, 35.0, 28.0, True),  # 31.5 of expected harm avoided > 28 of attention
    (0.7, 35.0, 28.0, False),  # 24.5 < 28
    (0.7, 50.0, 28.0, True),  # a costlier miss makes the same P worth saying
    (0.9, 35.0, 40.0, False),  # a dearer attention silences it
])
def test_the_detector_warns_by_expected_value(inputs: InsightInputs, p: float, harm: float,
                                              cost: float, fires: bool) -> None:
    data = replace(inputs, late_income_risk=LateIncomeRisk(FixedModel(p), "test v1"),
                   settings=replace(InsightSettings(), income_late_harm=harm,
                                    income_late_attention_cost=cost))
    found = IncomeLate().detect(data)
    candidates = late_features(inputs)
    assert found.height == (candidates.height if fires else 0)
    if fires:
        facts = json.loads(found.get_column("facts")[0])
        assert facts["days_late"] >= 1
        assert found.get_column("relevance").to_list() == [p] * found.height


def test_a_model_with_other_features_is_refused() -> None:
    with pytest.raises(ValueError, match="features"):
        LateIncomeRisk(FixedModel(0.5, feature_names_=("gap",)), "old v1")
