"""The accurate family: gradient-boosted trees (LightGBM) with per-prediction contributions.

Where nobody needs a formula, boosting usually ranks better; LightGBM's ``pred_contrib`` gives
each prediction's exact TreeSHAP split into per-feature log-odds, so the same reason codes are
available. The calibration fold doubles as the early-stopping set; the booster is then refit on
every training row with the number of rounds early stopping chose (``refit``), so the most
recent rows -- the calibration fold is the latest part in time -- are learnt from too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lightgbm as lgb
import numpy as np
from numpy.typing import NDArray

from tactful.models.base import F64, Calibration, Classifier, families


@families.register("gbm")
class GbmModel(Classifier):
    """LightGBM binary classifier; ``threads`` defaults to 1 (scoring runs beside other work)."""

    family = "gbm"

    def __init__(
        self,
        *,
        rounds: int = 400,
        learning_rate: float = 0.05,
        leaves: int = 15,
        min_leaf: int = 40,
        threads: int = 1,
        refit: bool = True,
        calibration: Calibration = "sigmoid",
        calibration_share: float = 0.2,
        seed: int = 0,
    ) -> None:
        super().__init__(calibration=calibration, calibration_share=calibration_share, seed=seed)
        self.rounds = rounds
        self.learning_rate = learning_rate
        self.leaves = leaves
        self.min_leaf = min_leaf
        self.threads = threads
        self.refit = refit

    def _fit(self, x: F64, y: NDArray[np.int8], cal_x: F64 | None, cal_y: Any) -> None:
        params: dict[str, Any] = {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.leaves,
            "min_data_in_leaf": self.min_leaf,
            "feature_fraction": 0.8,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": 1.0,
            "seed": self.seed,
            "num_threads": self.threads,
            "verbosity": -1,
            "deterministic": True,
        }
        train = lgb.Dataset(x, label=y, free_raw_data=True)
        callbacks: list[Callable[..., Any]] = []
        valid = []
        if cal_x is not None and len(cal_x):
            valid = [lgb.Dataset(cal_x, label=cal_y, reference=train)]
            callbacks = [lgb.early_stopping(50, verbose=False)]
        booster = lgb.train(
            params, train, num_boost_round=self.rounds, valid_sets=valid, callbacks=callbacks
        )
        if self.refit and cal_x is not None and len(cal_x):
            rounds = max(booster.best_iteration, 1)
            full = lgb.Dataset(np.vstack([x, cal_x]), label=np.concatenate([y, cal_y]))
            self._early = booster
            booster = lgb.train(params, full, num_boost_round=rounds)
        self.booster_ = booster

    def _calibration_margin(self, x: F64) -> F64:
        """Margins of the early-stopped booster, which never saw the calibration fold."""
        booster = getattr(self, "_early", None) or self.booster_
        return np.asarray(
            booster.predict(x, raw_score=True, num_iteration=booster.best_iteration),
            dtype=np.float64,
        )

    def _margin(self, x: F64) -> F64:
        out = self.booster_.predict(
            x, raw_score=True, num_iteration=self.booster_.best_iteration, num_threads=self.threads
        )
        return np.asarray(out, dtype=np.float64)

    def _contributions(self, x: F64) -> F64:
        out = self.booster_.predict(
            x,
            pred_contrib=True,
            num_iteration=self.booster_.best_iteration,
            num_threads=self.threads,
        )
        return np.asarray(out, dtype=np.float64)[:, :-1]
