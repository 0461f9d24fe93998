"""The shortfall evaluation's label agreement: the label the engine trains on (built from the
store's later history) against the simulator's truth."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from tactful.evaluation.bank import build_bank
from tactful.evaluation.shortfall import label_agreement, label_metrics, store_labels
from tactful.insights.shortfall_risk import risk_features
from tactful.models.replay import Replay


@pytest.mark.parametrize(("labels", "truth", "expected"), [
    ([], set(), (0, 0, 0, 0)),
    ([("a", 1), ("b", 0)], set(), (2, 1, 0, 0)),
    ([("a", 1), ("b", 0)], {"a"}, (2, 1, 1, 1)),
    ([("a", 0), ("b", 0)], {"a", "b"}, (2, 0, 2, 0)),
    # a customer with two checking accounts: each account-day counts, as the scored rows do
    ([("a", 1), ("a", 0), ("c", 1)], {"a", "z"}, (3, 2, 2, 1)),
])
def test_label_agreement_counts(labels: list[tuple[str, int]], truth: set[str],
                                expected: tuple[int, int, int, int]) -> None:
    frame = pl.DataFrame(labels, schema={"customer_id": pl.String, "label": pl.Int8},
                         orient="row")
    assert label_agreement(frame, truth) == expected


def test_label_metrics_are_precision_and_recall() -> None:
    precision, recall = label_metrics([90, 40, 36, 30], 100)
    assert precision.value == pytest.approx(30 / 40)
    assert recall.value == pytest.approx(30 / 36)
    assert "90 of 100 scored account-days labelled" in precision.note
    none_short, none_true = label_metrics([5, 0, 0, 0], 5)
    assert none_short.value is None and none_true.value is None


def test_the_store_label_agrees_with_the_truth_on_a_simulated_bank(tmp_path: Path) -> None:
    """On a development bank (not the evaluation seed), the label the model is trained on
    finds the simulator's coming shortfalls and few others."""
    bank = build_bank(tmp_path / "bank", customers=120, months=7, seed=11,
                      start=date(2025, 1, 1))
    replay = Replay.of(bank.store, everyone=True)
    eod, income = replay.outcomes()
    needs = pl.read_parquet(bank.truth / "customer_needs.parquet").with_columns(
        pl.col("date").str.to_date(), pl.col("shortfall_date").str.to_date())
    horizon = replay.base.settings.shortfall_risk_days
    total = [0, 0, 0, 0]
    for back in (50, 64, 78, 92, 106):
        d = replay.last - timedelta(days=back)
        data = replay.on(d)
        feats = risk_features(data, horizon=horizon).filter(
            pl.col("balance_minor") >= data.settings.shortfall_buffer * pl.col("unit"))
        labels = store_labels(feats, eod, income, d, horizon=horizon,
                              buffer=data.settings.shortfall_buffer)
        truth = set(needs.filter((pl.col("date") == d) & pl.col("shortfall_date").is_not_null())
                    .get_column("customer_id").to_list())
        total = [a + b for a, b in zip(total, label_agreement(labels, truth), strict=True)]
    bank.store.close()
    labelled, short, true, both = total
    assert labelled > 300 and true >= 10, total
    assert both / short >= 0.9, total
    assert both / true >= 0.9, total


def test_future_spending_counts_only_the_discretionary_outflows_of_the_window() -> None:
    """What the oracle feature adds up: the account's own posted discretionary outflows booked
    after the as-of day and within the window -- not that day's, not a series' (bills), not
    essentials, transfers or income, not another account's, not a pending one."""
    from tactful.evaluation.shortfall import future_spending

    day = date(2025, 3, 1)
    base = {"account_id": "A", "amount_minor": -1000, "status": "posted", "series_id": None,
            "account_type": "checking", "category": "ENTERTAINMENT",
            "category_detailed": "ENTERTAINMENT_OTHER"}
    cases = [
        ({"booked_on": day + timedelta(days=1)}, 10.0),
        ({"booked_on": day + timedelta(days=14)}, 10.0),
        ({"booked_on": day}, 0.0),
        ({"booked_on": day + timedelta(days=15)}, 0.0),
        ({"booked_on": day + timedelta(days=2), "series_id": "S1"}, 0.0),
        ({"booked_on": day + timedelta(days=2), "category": "TRANSFER_OUT"}, 0.0),
        ({"booked_on": day + timedelta(days=2),
          "category_detailed": "FOOD_AND_DRINK_GROCERIES"}, 0.0),
        ({"booked_on": day + timedelta(days=2), "amount_minor": 5000}, 0.0),
        ({"booked_on": day + timedelta(days=2), "account_id": "B"}, 0.0),
        ({"booked_on": day + timedelta(days=2), "status": "pending"}, 0.0),
    ]
    rows = pl.DataFrame({"account_id": ["A"], "as_of": [day], "unit": [100]})
    for change, expected in cases:
        tx = pl.DataFrame([{**base, **change}])
        assert future_spending(tx, rows, days=14).to_list() == [expected], change
    every = pl.DataFrame([{**base, **change} for change, _ in cases])
    assert future_spending(every, rows, days=14).to_list() == [20.0]
    # every outflow: the series, the transfer and the groceries count too (not the pending one,
    # the credit, another account's or those outside the window)
    assert future_spending(every, rows, days=14, every_outflow=True).to_list() == [50.0]


def _one_flow_decides(seed: int, amount: np.ndarray, *, days: int, category: str,
                      detailed: str, label: np.ndarray) -> tuple[Any, ...]:
    """``ceiling_metrics`` on accounts whose label one booking decides: each account books
    ``amount`` ``days`` after its as-of day, the features are noise, and so is ``p``."""
    from tactful.evaluation.shortfall import ceiling_metrics
    from tactful.insights.shortfall_risk import FEATURES

    rng = np.random.default_rng(seed)
    n, first = len(amount), date(2025, 2, 1)
    as_of = [first + timedelta(days=int(i)) for i in sorted(rng.integers(0, 60, n))]
    accounts = [f"A{i}" for i in range(n)]
    tx = pl.DataFrame({"account_id": accounts,
                       "booked_on": [d + timedelta(days=days) for d in as_of],
                       "amount_minor": amount, "status": "posted", "series_id": None,
                       "account_type": "checking", "category": category,
                       "category_detailed": detailed})
    frame = pl.DataFrame({f: rng.normal(size=n) for f in FEATURES}).with_columns(
        pl.Series("account_id", accounts), pl.Series("as_of", as_of), pl.lit(100).alias("unit"),
        pl.Series("label", label.astype(np.int8)))
    rows, scored = frame.head(2 * n // 3), frame.tail(n - 2 * n // 3)
    y = scored.get_column("label").to_numpy()
    return tuple(ceiling_metrics(tx, rows, scored, y, rng.random(len(y)), y))


def test_the_oracle_ceiling_reads_the_future_spending() -> None:
    """Labels set by the future's spending alone (the features are noise): the model given the
    oracle feature reaches precision 1 at the target recall, the noise model's ``p`` does not."""
    from tactful.evaluation.shortfall import TARGET_RECALL

    spend = np.random.default_rng(4).integers(0, 100_000, 3000)
    near, known, every, inflows, both = _one_flow_decides(
        4, -spend, days=3, category="SHOPPING", detailed="GENERAL_MERCHANDISE_OTHER",
        label=spend > 80_000)
    assert known.value == 1.0
    assert every.value == 1.0  # the spending is an outflow too
    assert both.value == 1.0
    assert inflows.value is not None and inflows.value < 0.5  # no inflow says anything here
    assert near.value is not None and near.value < 0.5
    assert str(TARGET_RECALL) in known.name and "inflows" in inflows.name


def test_the_oracle_ceiling_reads_the_future_inflows() -> None:
    """Labels set by whether money comes in the window (a top-up, pay that arrives in time):
    only the oracles that know the inflows reach precision 1 at the target recall."""
    inflow = np.random.default_rng(5).integers(0, 100_000, 3000)
    _, known, every, inflows, both = _one_flow_decides(
        5, inflow, days=5, category="TRANSFER_IN", detailed="TRANSFER_IN_ACCOUNT_TRANSFER",
        label=inflow < 20_000)
    assert inflows.value == 1.0 and both.value == 1.0
    assert known.value is not None and known.value < 0.5
    assert every.value is not None and every.value < 0.5
