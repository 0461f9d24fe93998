"""A calibrated risk model trained point-in-time on the bank's own history: the machinery the
shortfall and late-income models share -- time-ordered fitting with the classifier's calibration
fold, out-of-time registration behind the registry's gate, loading the promoted version, and the
calibration figures (reliability curve, ECE, best precision at a recall).

A ``RiskTask`` names one such model: its registry name, its target and its features. Rows are
one per (subject, as-of day) with the features, ``label`` and ``as_of``; the caller builds them
from its own feature and label functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Final

import numpy as np
import polars as pl
from numpy.typing import NDArray

from tactful.errors import NotFoundError, ValidationError
from tactful.insights.shortfall_risk import feature_matrix
from tactful.models.artifacts import Artifact
from tactful.models.base import Classifier, families
from tactful.models.metrics import classifier_metrics
from tactful.models.registry import ModelRegistry, ModelVersion

F64 = NDArray[np.float64]
_REFERENCE_ROWS: Final = 5_000


@dataclass(frozen=True)
class RiskTask:
    """One risk model: what the registry calls it, what it predicts, on which features."""

    name: str
    target: str
    features: tuple[str, ...]
    params: Mapping[str, Any]
    """The classifier's parameters when the caller gives none (chosen on the development bank)."""
    notes: tuple[str, ...] = ()


def fit_risk(task: RiskTask, rows: pl.DataFrame, *, family: str = "gbm",
             params: Mapping[str, Any] | None = None) -> Classifier:
    """A calibrated classifier of ``task`` on ``rows`` (in time order of ``as_of``)."""
    cls = families.get(family)
    if not issubclass(cls, Classifier):
        raise ValidationError(f"family {family!r} is not a classifier")
    chosen = dict(task.params if params is None else params)
    if family != "gbm":
        chosen = {k: v for k, v in chosen.items()
                  if k in ("calibration", "calibration_share", "seed")}
    ordered = rows.sort("as_of", maintain_order=True)
    model = cls(**chosen)
    return model.fit(feature_matrix(ordered, task.features),
                     ordered.get_column("label").to_numpy(), task.features)


@dataclass(frozen=True)
class RiskTraining:
    """A registered candidate with its out-of-time test scores."""

    version: ModelVersion
    model: Classifier
    test_scores: F64
    test_labels: NDArray[np.int8]


def train_risk(
    task: RiskTask,
    registry: ModelRegistry,
    rows: pl.DataFrame,
    *,
    test_days: int,
    family: str = "gbm",
    params: Mapping[str, Any] | None = None,
    created_by: str = "cli",
    fairness: Callable[[Sequence[str], NDArray[np.int8], F64], Any] | None = None,
) -> RiskTraining:
    """Fit on every as-of day but the last ``test_days``, test on those, and register the model
    as a candidate of ``task.name`` (the registry's gate decides whether it may be promoted).
    ``fairness(customer_ids, labels, scores)`` audits the test rows (``fairness_from_store``)."""
    days = sorted(set(rows.get_column("as_of").to_list()))
    if len(days) <= test_days:
        raise ValidationError(f"{len(days)} as-of days cannot hold {test_days} test days")
    cut = days[-test_days]
    train, test = rows.filter(pl.col("as_of") < cut), rows.filter(pl.col("as_of") >= cut)
    for part, what in ((train, "training"), (test, "test")):
        if part.get_column("label").sum() < 2:
            raise ValidationError(f"{task.name}: too few positives in the {what} days to train")
    model = fit_risk(task, train, family=family, params=params)
    y = test.get_column("label").to_numpy().astype(np.int8)
    scores = model.predict(feature_matrix(test, task.features))
    metrics = classifier_metrics(y, scores).as_dict()
    metrics["ece"] = expected_calibration_error(y, scores)
    report = fairness(test.get_column("customer_id").to_list(), y, scores) if fairness else None
    window = (datetime.combine(days[0], time(), UTC), datetime.combine(days[-1], time(), UTC))
    validation = (f"out of time: trained on as-of days {days[0]} to {cut - timedelta(days=1)} "
                  f"(calibrated on their latest quarter), tested on {cut} to {days[-1]}")
    from tactful.models.train import model_card

    card = model_card(
        name=task.name, family=family, target=task.target, validation=validation, window=window,
        train_rows=train.height, test_rows=test.height, metrics=metrics, fairness=report,
        features=task.features,
        notes=list(task.notes),
    )
    x = feature_matrix(train, task.features)
    rng = np.random.default_rng(0)
    idx = np.sort(rng.choice(x.shape[0], size=min(_REFERENCE_ROWS, x.shape[0]), replace=False))
    version = registry.register(
        task.name, Artifact(model, x[idx], model.predict(x[idx])), target=task.target,
        metrics=metrics,
        fairness=report, data_window=window, validation=validation, model_card=card,
        created_by=created_by,
    )
    return RiskTraining(version, model, scores, y)


def promoted_model(registry: ModelRegistry, name: str) -> tuple[Classifier, str] | None:
    """The promoted classifier of ``name`` with its ``name vN``, or None when none is promoted
    (the detector then falls back on its rule)."""
    try:
        version = registry.get(name)
    except NotFoundError:
        return None
    model = registry.load(version).model
    if not isinstance(model, Classifier):
        raise ValidationError(f"{name} v{version.version} is not a classifier")
    return model, f"{name} v{version.version}"


# -- calibration figures ----------------------------------------------------------------------


def reliability(y: NDArray[Any], p: F64, bins: int = 10) -> list[tuple[float, float, int]]:
    """(mean predicted, observed rate, rows) per equal-width bin of the prediction over [0, 1]
    (empty bins left out): the reliability curve.

    >>> reliability(np.array([0, 1, 1, 0]), np.array([0.1, 0.15, 0.9, 0.95]), bins=2)
    [(0.125, 0.5, 2), (0.925, 0.5, 2)]
    """
    y_arr = np.asarray(y, dtype=np.float64)
    p_arr = np.asarray(p, dtype=np.float64)
    if y_arr.shape != p_arr.shape:
        raise ValidationError(f"labels {y_arr.shape} and scores {p_arr.shape} differ in shape")
    if bins < 1:
        raise ValidationError(f"bins must be >= 1, got {bins}")
    which = np.minimum((p_arr * bins).astype(np.int64), bins - 1)
    out = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            out.append((round(float(p_arr[mask].mean()), 12), round(float(y_arr[mask].mean()),
                                                                     12), int(mask.sum())))
    return out


def expected_calibration_error(y: NDArray[Any], p: F64, bins: int = 10) -> float:
    """ECE: the row-weighted mean gap between predicted and observed rate over ``reliability``'s
    bins (Naeini et al. 2015; equal-width bins).

    >>> expected_calibration_error(np.array([0, 1, 1, 0]), np.array([0.1, 0.15, 0.9, 0.95]), 2)
    0.4
    """
    curve = reliability(y, p, bins)
    n = sum(c for _, _, c in curve)
    if n == 0:
        raise ValidationError("ECE needs at least one row")
    return round(sum(c * abs(m - o) for m, o, c in curve) / n, 12)


def precision_at_recall(y: NDArray[Any], p: F64, recall: float) -> tuple[float, float]:
    """The best precision among operating points with recall >= ``recall`` (the PR curve's
    ceiling there), and the probability threshold that reaches it.

    >>> precision_at_recall(np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.7, 0.1]), 1.0)
    (0.6666666666666666, 0.7)
    """
    y_arr = np.asarray(y).astype(np.int64)
    p_arr = np.asarray(p, dtype=np.float64)
    positives = int(y_arr.sum())
    if positives == 0:
        raise ValidationError("precision at recall needs at least one positive")
    order = np.argsort(-p_arr, kind="stable")
    tp = np.cumsum(y_arr[order])
    k = np.arange(1, len(order) + 1)
    # only the last row of a run of tied scores is an operating point
    last = np.r_[p_arr[order][1:] != p_arr[order][:-1], True]
    ok = last & (tp / positives >= recall)
    if not ok.any():
        return 0.0, 0.0
    prec = np.where(ok, tp / k, -1.0)
    best = int(np.argmax(prec))
    return float(prec[best]), float(p_arr[order][best])
