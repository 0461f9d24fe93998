"""Population stability: has the population a model scores moved away from the one it learnt on?

PSI = sum over bins of (now - train) * ln(now / train), with the bins cut at the training
window's quantiles. The usual reading in credit scoring: below 0.1 stable, 0.1-0.2 a shift to
watch, above 0.2 a shift that calls for retraining (the default threshold here).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tactful.errors import ValidationError

F64 = NDArray[np.float64]
RETRAIN_PSI = 0.2
_EPS = 1e-4


def quantile_edges(reference: F64, bins: int = 10) -> F64:
    """Inner bin edges at the reference's quantiles (duplicates merged for discrete features)."""
    ref = np.asarray(reference, dtype=np.float64)
    ref = ref[np.isfinite(ref)]
    if ref.size == 0:
        raise ValidationError("PSI needs at least one finite reference value")
    if bins < 2:
        raise ValidationError(f"bins must be >= 2, got {bins}")
    edges = np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1])
    return np.unique(edges)


def psi_from_edges(reference: F64, current: F64, edges: F64) -> float:
    def shares(x: F64) -> F64:
        x = np.asarray(x, dtype=np.float64)
        x = x[np.isfinite(x)]
        if x.size == 0:
            raise ValidationError("PSI needs at least one finite current value")
        counts = np.bincount(np.searchsorted(edges, x, side="right"), minlength=len(edges) + 1)
        return np.maximum(counts / x.size, _EPS)

    ref, cur = shares(reference), shares(current)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def psi(reference: F64, current: F64, bins: int = 10) -> float:
    """Population stability index of ``current`` against ``reference``.

    >>> round(psi(np.arange(1000.0), np.arange(1000.0)), 6)
    0.0
    """
    return psi_from_edges(reference, current, quantile_edges(reference, bins))


@dataclass(frozen=True, slots=True)
class DriftReport:
    psi: dict[str, float]
    """Per feature, plus ``"score"`` for the model's output."""
    threshold: float

    @property
    def drifted(self) -> list[str]:
        return sorted(k for k, v in self.psi.items() if v > self.threshold)

    @property
    def retrain(self) -> bool:
        return bool(self.drifted)


def drift_report(
    train: F64,
    now: F64,
    feature_names: Sequence[str],
    *,
    train_scores: F64 | None = None,
    now_scores: F64 | None = None,
    threshold: float = RETRAIN_PSI,
    bins: int = 10,
) -> DriftReport:
    """PSI of every feature column (and of the scores) between the training window and now."""
    if train.shape[1] != len(feature_names) or now.shape[1] != len(feature_names):
        raise ValidationError("drift: both matrices need one column per feature name")
    values = {}
    for j, name in enumerate(feature_names):
        try:
            values[name] = psi(train[:, j], now[:, j], bins)
        except ValidationError as exc:
            raise ValidationError(f"drift of {name!r}: {exc}") from exc
    if train_scores is not None and now_scores is not None:
        values["score"] = psi(train_scores, now_scores, bins)
    return DriftReport(values, threshold)
