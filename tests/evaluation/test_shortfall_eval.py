"""The shortfall evaluation's label agreement: the label the engine trains on (built from the
store's later history) against the simulator's truth."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from tactful.evaluation.bank import build_bank
from tactful.evaluation.history_replay import Replay
from tactful.evaluation.shortfall import label_agreement, label_metrics, store_labels
from tactful.insights.shortfall_risk import risk_features


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
    replay = Replay.of(bank)
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
