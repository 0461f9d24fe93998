"""The explainable family: a regularized logistic regression on winsorized, standardized features.

Where a decision is regulated (credit, pricing) the bank must say why: every score here is the
sum of ``coefficient x standardized value`` per feature, so the reason codes are exact, not an
approximation of a black box. Winsorizing at the training 1st/99th percentiles keeps one
extreme balance from dominating a coefficient; missing values take the training median.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from tactful.models.base import F64, Calibration, Classifier, ModelState, families


@families.register("logistic")
class LogisticModel(Classifier):
    """Logistic regression with exact additive reason codes.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(400, 2)); y = (x[:, 0] + 0.3 * rng.normal(size=400) > 0)
    >>> m = LogisticModel().fit(x, y, ["logins", "noise"])
    >>> m.reasons(np.array([[2.0, 0.0]]), k=1)[0][0].feature
    'logins'
    """

    family = "logistic"

    def __init__(
        self,
        *,
        c: float = 1.0,
        calibration: Calibration = "sigmoid",
        calibration_share: float = 0.2,
        seed: int = 0,
    ) -> None:
        super().__init__(calibration=calibration, calibration_share=calibration_share, seed=seed)
        self.c = c

    def _fit(self, x: F64, y: NDArray[np.int8], cal_x: F64 | None, cal_y: Any) -> None:
        # heavy libraries on first use: importing tactful.models must stay cheap (issue 21)
        from sklearn.linear_model import LogisticRegression

        finite = np.where(np.isfinite(x), x, np.nan)
        with np.errstate(all="ignore"):
            lo = np.nanquantile(finite, 0.01, axis=0)
            hi = np.nanquantile(finite, 0.99, axis=0)
        self.lo_ = np.where(np.isfinite(lo), lo, 0.0)
        self.hi_ = np.where(np.isfinite(hi), hi, 0.0)
        clipped = self._clip(x)
        self.mean_ = clipped.mean(axis=0)
        std = clipped.std(axis=0)
        self.scale_ = np.where(std > 1e-12, std, 1.0)
        z = (clipped - self.mean_) / self.scale_
        lr = LogisticRegression(C=self.c, max_iter=2000, random_state=self.seed)
        lr.fit(z, y)
        self.coef_ = np.asarray(lr.coef_[0], dtype=np.float64)
        self.intercept_ = float(lr.intercept_[0])

    def _get_state(self, state: ModelState) -> None:
        super()._get_state(state)
        for name in ("lo_", "hi_", "mean_", "scale_", "coef_"):
            state.arrays[name] = np.asarray(getattr(self, name), dtype=np.float64)
        state.meta["intercept"] = self.intercept_

    def _set_state(self, state: ModelState) -> None:
        super()._set_state(state)
        for name in ("lo_", "hi_", "mean_", "scale_", "coef_"):
            setattr(self, name, np.asarray(state.arrays[name], dtype=np.float64))
        self.intercept_ = float(state.meta["intercept"])

    def _clip(self, x: F64) -> F64:
        filled = np.where(np.isfinite(x), x, self.typical_)
        return np.clip(filled, self.lo_, self.hi_)

    def _z(self, x: F64) -> F64:
        z: F64 = (self._clip(x) - self.mean_) / self.scale_
        return z

    def _margin(self, x: F64) -> F64:
        out: F64 = self._z(x) @ self.coef_ + self.intercept_
        return out

    def _contributions(self, x: F64) -> F64:
        return self._z(x) * self.coef_
