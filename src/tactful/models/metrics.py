"""The figures a model version is registered with and promoted on.

ROC-AUC ranks, PR-AUC tells how it does on a rare class, Brier checks the probabilities
themselves (calibration), and the top-decile lift is the figure a campaign manager asks for:
how many more responders the best-scored tenth holds than a random tenth.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tactful.errors import ValidationError

F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ClassifierMetrics:
    roc_auc: float
    pr_auc: float
    brier: float
    top_decile_lift: float
    base_rate: float
    rows: int

    def as_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def _check(y: NDArray[np.generic], p: F64) -> tuple[NDArray[np.int8], F64]:
    y_arr = np.asarray(y).astype(np.int8)
    p_arr = np.asarray(p, dtype=np.float64)
    if y_arr.shape != p_arr.shape or y_arr.ndim != 1:
        raise ValidationError(f"labels {y_arr.shape} and scores {p_arr.shape} must be 1-D, equal")
    if len(np.unique(y_arr)) != 2:
        raise ValidationError("metrics need both classes among the labels")
    return y_arr, p_arr


TOP_DECILE: Final = 0.1
"""The share of customers ``top_decile_lift`` is measured on."""


def lift_at(y: NDArray[np.generic], p: F64, fraction: float = TOP_DECILE) -> float:
    """Response rate among the top ``fraction`` by score over the overall rate.

    >>> lift_at(np.array([1, 0, 0, 0]), np.array([0.9, 0.1, 0.2, 0.3]), 0.25)
    4.0
    """
    y_arr, p_arr = _check(y, p)
    if not 0 < fraction <= 1:
        raise ValidationError(f"fraction must be in (0, 1], got {fraction}")
    k = max(1, round(len(y_arr) * fraction))
    top = np.argsort(-p_arr, kind="stable")[:k]
    return float(y_arr[top].mean() / y_arr.mean())


def lift_curve(y: NDArray[np.generic], p: F64, points: int = 10) -> list[tuple[float, float]]:
    """(share of customers contacted, cumulative lift) at each of ``points`` quantiles."""
    return [(q / points, lift_at(y, p, q / points)) for q in range(1, points + 1)]


def classifier_metrics(y: NDArray[np.generic], p: F64) -> ClassifierMetrics:
    # heavy libraries on first use: importing tactful.models must stay cheap (issue 21)
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    y_arr, p_arr = _check(y, p)
    return ClassifierMetrics(
        roc_auc=float(roc_auc_score(y_arr, p_arr)),
        pr_auc=float(average_precision_score(y_arr, p_arr)),
        brier=float(brier_score_loss(y_arr, np.clip(p_arr, 0.0, 1.0))),
        top_decile_lift=lift_at(y_arr, p_arr, TOP_DECILE),
        base_rate=float(y_arr.mean()),
        rows=len(y_arr),
    )


def calibration_bins(
    y: NDArray[np.generic], p: F64, bins: int = 10
) -> list[tuple[float, float, int]]:
    """(mean predicted, observed rate, rows) per quantile bin of the predictions."""
    y_arr, p_arr = _check(y, p)
    order = np.argsort(p_arr, kind="stable")
    out = []
    for part in np.array_split(order, bins):
        if len(part):
            out.append((float(p_arr[part].mean()), float(y_arr[part].mean()), len(part)))
    return out
