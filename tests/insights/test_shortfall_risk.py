"""The shortfall risk: features cut at the as-of day, labels from what the store's balances did,
and a warning where P x harm exceeds the attention it costs."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from numpy.typing import NDArray
from polars.testing import assert_frame_equal
from tests.insights.test_forecast_and_gates import AS_OF, _tiny

from tactful.insights.catalog import Catalog
from tactful.insights.inputs import InsightInputs, InsightSettings, as_of_day
from tactful.insights.shortfall_risk import (
    FEATURES,
    ShortfallRisk,
    daily_eod,
    risk_features,
    shortfall_labels,
    should_warn,
)


def test_features_do_not_change_when_the_future_does(inputs: InsightInputs) -> None:
    """Features as of a day three weeks back are the same whether the rows after it are the
    real ones, corrupted, or absent."""
    d = inputs.as_of - timedelta(days=21)
    accounts, _ = as_of_day(inputs.accounts, inputs.transactions, d)
    real = replace(inputs, as_of=d, accounts=accounts)
    later = pl.col("booked_on") > d
    corrupted = inputs.transactions.with_columns(
        pl.when(later).then(pl.col("amount_minor") * -37 + 1).otherwise(pl.col("amount_minor"))
        .alias("amount_minor"),
        pl.when(later).then(pl.lit("INCOME")).otherwise(pl.col("category")).alias("category"),
    )
    assert corrupted.filter(later).height > 1000  # the future is really there to corrupt
    cut = inputs.transactions.filter(~later)
    base = risk_features(real, horizon=35)
    assert base.height > 50
    assert base.select(pl.col("rule_dips").sum()).item() >= 0
    for tx in (corrupted, cut):
        assert_frame_equal(risk_features(replace(real, transactions=tx), horizon=35), base)


def test_every_feature_is_produced(inputs: InsightInputs) -> None:
    out = risk_features(inputs, horizon=35)
    assert tuple(c for c in out.columns if c in FEATURES) == FEATURES
    # days_below counts days under zero in the habit window: never more than the window
    assert out.get_column("days_below").max() <= 180  # type: ignore[operator]


def _eod(balances: list[int], start: date = date(2025, 3, 1)) -> pl.DataFrame:
    return pl.DataFrame({
        "account_id": "A", "day": [start + timedelta(days=i) for i in range(len(balances))],
        "eod_minor": balances})


LINE = pl.DataFrame({"account_id": ["A"], "line_minor": [0]})
NO_INCOME = pl.DataFrame(schema={"account_id": pl.String, "day": pl.Date})


@pytest.mark.parametrize(("balances", "income_day", "expected"), [
    ([100, 50, -10, 200, 200, 200], None, 1),  # below zero on day 2
    ([100, 50, 20, 200, 200, 200], None, 0),  # never below
    ([100, 50, 20, -5, 200, 200], 3, 0),  # the dip is on pay day: the pay came first
    ([100, -50, 20, 200, 200, 200], 3, 1),  # below before the pay
    ([-100, 50, 20, 200, 200, 200], None, None),  # already below: not a forecast to label
    ([100, 50, 20], None, None),  # the window runs past the data: unknown, not "none"
])
def test_labels_by_hand(balances: list[int], income_day: int | None,
                        expected: int | None) -> None:
    start = date(2025, 3, 1)
    income = NO_INCOME if income_day is None else pl.DataFrame(
        {"account_id": ["A"], "day": [start + timedelta(days=income_day)]})
    out = shortfall_labels(_eod(balances), income, start, horizon=5, line=LINE)
    assert out.get_column("label").to_list() == ([] if expected is None else [expected])


def test_daily_eod_walks_back_from_the_balance() -> None:
    accounts = pl.DataFrame({"account_id": ["A"], "balance_minor": [1_000]})
    flows = pl.DataFrame({"account_id": ["A", "A"], "booked_on": [date(2025, 3, 2),
                                                               date(2025, 3, 3)],
                          "amount_minor": [-300, 500]})
    out = daily_eod(accounts, flows, date(2025, 3, 1), date(2025, 3, 3))
    assert out.get_column("eod_minor").to_list() == [800, 500, 1_000]


@dataclass
class FixedModel:
    """A classifier that says ``p`` for every row."""

    p: float
    feature_names_: tuple[str, ...] = FEATURES

    def predict(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        assert x.shape[1] == len(FEATURES)
        return np.full(x.shape[0], self.p)


AT = datetime(2025, 3, 10, 23, tzinfo=UTC)


def _warned(p: float, **settings: float) -> list[dict[str, object]]:
    data = replace(_tiny(), shortfall_risk=ShortfallRisk(FixedModel(p), "test v1"),
                   settings=replace(InsightSettings(), **settings))
    found = Catalog.default(only=["shortfall"]).findings(data)
    return [{**json.loads(f), "relevance": r}
            for f, r in found.select("facts", "relevance").iter_rows()]


def test_warns_where_expected_benefit_exceeds_attention_cost() -> None:
    """Harm 35, attention 28: P 0.9 is worth 31.5 (warn), P 0.7 is worth 24.5 (silent); a bank
    that prices attention at 20 hears the 0.7 one too."""
    assert _warned(0.7, shortfall_harm=35.0, shortfall_attention_cost=28.0) == []
    [fact] = _warned(0.9, shortfall_harm=35.0, shortfall_attention_cost=28.0)
    assert fact["relevance"] == pytest.approx(0.9)
    [cheap] = _warned(0.7, shortfall_harm=35.0, shortfall_attention_cost=20.0)
    assert cheap["relevance"] == pytest.approx(0.7)


def test_the_rule_forecast_still_explains_the_warning() -> None:
    """The rent on the 13th takes the balance below zero: the message names that day and the
    amount the rule path gives, whatever the model's probability."""
    [fact] = _warned(0.95)
    assert fact["shortfall_date"] == "2025-03-13"
    assert fact["projected_minor"] == 50_000 - 3_000 - 80_000
    assert fact["scheduled_minor"] == 80_000
    assert fact["next_income_date"] == "2025-03-16"


def test_a_likely_dip_the_bills_do_not_show_is_dated_at_the_lowest_day() -> None:
    """Without the rent the rule path stays above zero; a model sure of a dip (the customer's
    habits) is told with the path's lowest day, the day before the pay."""
    data = _tiny()
    no_rent = replace(data, series=data.series.clear())
    found = Catalog.default(only=["shortfall"]).findings(
        replace(no_rent, shortfall_risk=ShortfallRisk(FixedModel(0.99), "test v1")))
    [facts] = [json.loads(f) for f in found.get_column("facts")]
    assert facts["shortfall_date"] == str(date(2025, 3, 15))
    assert facts["projected_minor"] == 50_000 - 5 * 1_000


def test_no_model_keeps_the_rule() -> None:
    assert _tiny().shortfall_risk is None
    [ins] = Catalog.default(only=["shortfall"]).insights(_tiny(), at=AT)
    assert ins.facts["shortfall_date"] == "2025-03-13"
    assert date(2025, 3, 10) == AS_OF


def test_a_model_with_other_features_is_refused() -> None:
    with pytest.raises(ValueError, match="features"):
        ShortfallRisk(FixedModel(0.5, feature_names_=("balance",)), "old v1")


@pytest.mark.parametrize(("harm", "cost", "message"), [
    (0.0, 1.0, "harm must be positive, got 0.0"),
    (35.0, -1.0, "attention_cost must be >= 0, got -1.0"),
])
def test_should_warn_refuses_bad_prices(harm: float, cost: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        should_warn(np.array([0.5]), harm=harm, attention_cost=cost)
