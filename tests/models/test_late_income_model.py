"""The late-income model on the shared risk machinery (``models.risk``): trained out of time
on its own features, registered as a candidate of ``income_late``, used only once promoted."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tactful.errors import ValidationError
from tactful.insights.late_income_risk import LATE_FEATURES
from tactful.models.late_income import LATE_INCOME, production_late_risk
from tactful.models.registry import MetricFloors, ModelRegistry
from tactful.models.risk import train_risk
from tactful.store.store import Store


def _rows(days: int = 12, per_day: int = 120, seed: int = 0) -> pl.DataFrame:
    """Rows in which a payment many days past due from a payer who is never late is likely
    late, and a payer who often is, or a new payer's credit, makes it less clear."""
    rng = np.random.default_rng(seed)
    n = days * per_day
    data = {c: rng.normal(size=n) for c in LATE_FEATURES}
    logit = 2.0 * data["days_late"] - 1.5 * data["late_share"] + 1.0 * data["new_payer"]
    label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    start = date(2025, 3, 1)
    return pl.DataFrame({
        "stream_id": [f"S{i % per_day}" for i in range(n)],
        "customer_id": [f"C{i % per_day}" for i in range(n)],
        **data, "label": label,
        "as_of": [start + timedelta(days=i // per_day) for i in range(n)],
    })


def test_trained_registered_and_used_only_once_promoted(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'tactful.db'}")
    registry = ModelRegistry(store, tmp_path / "models")
    assert production_late_risk(registry) is None  # no model: the detector keeps its rule
    rows = _rows()
    trained = train_risk(LATE_INCOME, registry, rows, test_days=3, family="logistic",
                         params={"calibration": "sigmoid", "calibration_share": 0.25})
    version = trained.version
    assert version.name == "income_late" and version.stage == "candidate"
    assert version.metrics["roc_auc"] > 0.75
    assert "out of time" in version.validation
    assert production_late_risk(registry) is None  # a candidate is never used
    registry.promote("income_late", version.version, by="test",
                     floors=MetricFloors(require_fairness_report=False))
    risk = production_late_risk(registry)
    assert risk is not None and risk.version == f"income_late v{version.version}"
    test = rows.filter(pl.col("as_of") >= sorted(set(rows["as_of"]))[-3])
    np.testing.assert_allclose(risk.probability(test), trained.test_scores)


def test_no_late_payment_to_learn_from_is_refused(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'tactful.db'}")
    rows = _rows().with_columns(pl.lit(0, pl.Int8).alias("label"))
    with pytest.raises(ValidationError,
                       match="income_late: too few positives in the training days to train"):
        train_risk(LATE_INCOME, ModelRegistry(store, tmp_path / "models"), rows, test_days=3)
