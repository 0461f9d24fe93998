"""The shortfall model's calibration figures against hand-computed cases, and its way through
the registry: trained out of time, registered as a candidate, used only once promoted."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tactful.errors import ValidationError
from tactful.insights.shortfall_risk import FEATURES
from tactful.models.registry import MetricFloors, ModelRegistry
from tactful.models.shortfall import (
    expected_calibration_error,
    precision_at_recall,
    production_risk,
    reliability,
    train_shortfall,
)
from tactful.store.store import Store


def test_reliability_by_hand() -> None:
    """Bins of width 0.25: {0.1, 0.2} -> mean 0.15, 1 of 2; {0.3} -> 0.3, 0 of 1; {0.8, 1.0}
    (1.0 belongs to the last bin) -> 0.9, 2 of 2."""
    y = np.array([1, 0, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.8, 1.0])
    assert reliability(y, p, bins=4) == [(0.15, 0.5, 2), (0.3, 0.0, 1), (0.9, 1.0, 2)]


def test_ece_by_hand() -> None:
    """|0.15 - 0.5| x 2 + |0.3 - 0| x 1 + |0.9 - 1| x 2 = 0.7 + 0.3 + 0.2 = 1.2, over 5 rows."""
    y = np.array([1, 0, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.8, 1.0])
    assert expected_calibration_error(y, p, bins=4) == pytest.approx(0.24)


def test_perfect_calibration_has_no_error() -> None:
    y = np.array([0] * 8 + [1] * 2 + [1] * 8 + [0] * 2)
    p = np.array([0.2] * 10 + [0.8] * 10)
    assert expected_calibration_error(y, p) == pytest.approx(0.0)


@pytest.mark.parametrize(("recall", "expected"), [
    (0.25, (1.0, 0.9)),  # the top row alone
    (0.5, (1.0, 0.8)),  # the top two rows, both shortfalls
    (0.75, (4 / 6, 0.1)),  # all six rows (4 of 6) beat stopping at five (3 of 5)
    (1.0, (4 / 6, 0.1)),
])
def test_precision_at_recall_by_hand(recall: float, expected: tuple[float, float]) -> None:
    y = np.array([1, 1, 0, 0, 1, 1])
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.1])
    got = precision_at_recall(y, p, recall)
    assert got == pytest.approx(expected)


def test_tied_scores_are_one_operating_point() -> None:
    """Three rows share P 0.5: a threshold takes all three or none."""
    y = np.array([1, 0, 0, 1])
    p = np.array([0.9, 0.5, 0.5, 0.5])
    assert precision_at_recall(y, p, 1.0) == pytest.approx((0.5, 0.5))


@pytest.mark.parametrize(("call", "message"), [
    (lambda: reliability(np.array([1, 0]), np.array([0.5])), "differ in shape"),
    (lambda: reliability(np.array([1]), np.array([0.5]), bins=0), "bins must be >= 1, got 0"),
    (lambda: precision_at_recall(np.array([0, 0]), np.array([0.1, 0.2]), 0.5),
     "needs at least one positive"),
])
def test_bad_inputs_are_named(call: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        call()  # type: ignore[operator]


def _rows(days: int = 12, per_day: int = 150, seed: int = 0) -> pl.DataFrame:
    """Rows in which a low rule forecast and a thin history of top-ups make a shortfall
    likely, as the features say it should."""
    rng = np.random.default_rng(seed)
    n = days * per_day
    data = {c: rng.normal(size=n) for c in FEATURES}
    risk = -2.0 * data["rule_min"] - 1.0 * data["topup_share"] - 3.0
    label = (rng.random(n) < 1 / (1 + np.exp(-risk))).astype(np.int8)
    start = date(2025, 3, 1)
    return pl.DataFrame({
        "account_id": [f"A{i % per_day}" for i in range(n)],
        "customer_id": [f"C{i % per_day}" for i in range(n)],
        **data, "label": label,
        "as_of": [start + timedelta(days=i // per_day) for i in range(n)],
    })


def test_trained_registered_and_used_only_once_promoted(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'tactful.db'}")
    registry = ModelRegistry(store, tmp_path / "models")
    assert production_risk(registry) is None  # no model: the detector keeps the rule
    rows = _rows()
    trained = train_shortfall(registry, rows, test_days=3, family="logistic",
                              params={"calibration": "sigmoid", "calibration_share": 0.25})
    version = trained.version
    assert version.stage == "candidate"
    assert version.artifact_path.suffix == ".npz"
    assert set(version.metrics) >= {"roc_auc", "brier", "ece"}
    assert version.metrics["roc_auc"] > 0.75
    assert "out of time" in version.validation
    assert production_risk(registry) is None  # a candidate is never used
    registry.promote("shortfall", version.version, by="test",
                     floors=MetricFloors(require_fairness_report=False))
    risk = production_risk(registry)
    assert risk is not None and risk.version == f"shortfall v{version.version}"
    test = rows.filter(pl.col("as_of") >= sorted(set(rows["as_of"]))[-3])
    np.testing.assert_allclose(risk.probability(test), trained.test_scores)


def test_too_few_test_days_is_refused(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'tactful.db'}")
    with pytest.raises(ValidationError, match="2 as-of days cannot hold 3 test days"):
        train_shortfall(ModelRegistry(store, tmp_path / "models"), _rows(days=2), test_days=3)
