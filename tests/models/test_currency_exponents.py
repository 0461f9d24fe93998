"""Money by the currency's exponent, through features, scores and insights: a JPY customer's
JPY 12,345 is 12345 major units (not 123.45) and a BHD customer's BHD 1.234 is 1.234 (not
12.34)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tactful.domain.money import from_minor, minor_per_major, to_major
from tactful.insights.inputs import ACCOUNTS, CUSTOMERS, TRANSACTIONS, InsightInputs, unit_of
from tactful.insights.rules import features as rule_features
from tactful.models.features import FEATURE_INFO, FEATURES, customer_features
from tactful.models.history import ACCOUNT_SCHEMA, EVENT_SCHEMA, TXN_SCHEMA, History
from tactful.models.logistic import LogisticModel
from tactful.models.scoring import reasons_json

from .conftest import START, txn

CUTOFF = START + timedelta(days=60)
# (customer, currency, a spend of 12,345 / 1.234 / 12.34 major units in minor units)
CUSTOMERS_BY_CURRENCY = [("JP", "JPY", 12_345), ("BH", "BHD", 1_234), ("EU", "EUR", 1_234)]


def _history() -> History:
    rows = []
    for customer, currency, amount in CUSTOMERS_BY_CURRENCY:
        rows.append(txn(len(rows), customer, 40, -amount, currency=currency))
        rows[-1]["balance_after_minor"] = amount
    accounts = [
        {
            "id": f"A-{c}",
            "customer_id": c,
            "type": "checking",
            "opened_on": date(2024, 1, 1),
            "closed_on": None,
            "product_id": "P-CHK",
        }
        for c, _, _ in CUSTOMERS_BY_CURRENCY
    ]
    ids = [c for c, _, _ in CUSTOMERS_BY_CURRENCY]
    return History(
        customers=pl.DataFrame({"customer_id": ids, "timezone": ["UTC"] * len(ids)}),
        accounts=pl.DataFrame(accounts, schema=ACCOUNT_SCHEMA),
        transactions=pl.DataFrame(rows, schema=TXN_SCHEMA),
        logins=pl.DataFrame([], schema=EVENT_SCHEMA),
    )


def test_features_are_in_major_units_of_each_currency() -> None:
    f = customer_features(_history(), CUTOFF).sort("customer_id")
    got = {r["customer_id"]: r for r in f.iter_rows(named=True)}
    for name in ("outflow_30d", "card_spend_30d", "deposit_balance"):
        assert got["JP"][name] == pytest.approx(12_345.0), name
        assert got["BH"][name] == pytest.approx(1.234), name
        assert got["EU"][name] == pytest.approx(12.34), name


def test_score_reasons_say_major_units_of_each_currency() -> None:
    rng = np.random.default_rng(0)
    train = rng.normal(50.0, 10.0, size=(400, len(FEATURES)))
    j = FEATURES.index("deposit_balance")
    y = (train[:, j] > 50.0).astype(int)
    model = LogisticModel().fit(train, y, FEATURES, FEATURE_INFO)
    f = customer_features(_history(), CUTOFF).sort("customer_id")
    x = f.select(FEATURES).to_numpy().astype(np.float64)
    x[:, [i for i in range(len(FEATURES)) if i != j]] = 50.0
    texts = dict(zip(f["customer_id"], reasons_json(model, x), strict=True))
    assert '"text": "balance on current and savings accounts high: 12345 (typical' in texts["JP"]
    assert "123.45" not in texts["JP"]


def _inputs() -> InsightInputs:
    accounts = [
        {
            "account_id": f"A-{c}",
            "customer_id": c,
            "type": "checking",
            "currency": currency,
            "balance_minor": amount,
            "opened_on": date(2024, 1, 1),
        }
        for c, currency, amount in CUSTOMERS_BY_CURRENCY
    ]
    customers = [{"customer_id": c, "timezone": "UTC"} for c, _, _ in CUSTOMERS_BY_CURRENCY]
    return InsightInputs(
        as_of=date(2025, 3, 1),
        customers=pl.DataFrame(customers, schema=CUSTOMERS),
        accounts=pl.DataFrame(accounts, schema=ACCOUNTS),
        transactions=pl.DataFrame(schema=TRANSACTIONS),
    )


@pytest.mark.parametrize(
    ("threshold", "passing"),
    [(12_345.0, {"JP"}), (12_346.0, set()), (1.234, {"JP", "BH", "EU"}), (12.34, {"JP", "EU"})],
)
def test_insight_thresholds_are_in_major_units_of_each_currency(
    threshold: float, passing: set[str]
) -> None:
    feats = rule_features(_inputs(), frozenset({"checking_balance"}))
    hit = feats.filter(pl.col("checking_balance") >= pl.lit(threshold) * pl.col("unit"))
    assert set(hit["customer_id"]) == passing
    assert unit_of("JPY") == minor_per_major("JPY") == 1
    assert unit_of("BHD") == minor_per_major("BHD") == 1000


@given(
    minor=st.integers(-(10**15), 10**15),
    currency=st.sampled_from(["JPY", "BHD", "EUR", "KWD", "CLF", "ISK", "HUF"]),
)
def test_to_major_matches_the_exact_decimal(minor: int, currency: str) -> None:
    frame = pl.DataFrame({"amount_minor": [minor], "currency": [currency]})
    got = frame.select(to_major(pl.col("amount_minor"), frame["currency"]))["amount_minor"][0]
    assert got == pytest.approx(float(from_minor(minor, currency)), rel=1e-15)
