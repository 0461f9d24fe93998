"""``Classifier.predict_one``: one row's probability without the batch machinery (LightGBM's
single-row fast path, the Platt map in plain floats) equals ``predict`` on a one-row matrix."""

from __future__ import annotations

import pickle
import threading

import numpy as np
import pytest

from tactful.errors import ValidationError
from tactful.models.base import Classifier
from tactful.models.gbm import GbmModel
from tactful.models.logistic import LogisticModel

NAMES = tuple(f"f{i}" for i in range(12))


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3000, len(NAMES))) * rng.lognormal(0, 1, len(NAMES))
    y = (x[:, 0] - x[:, 3] + rng.normal(size=3000) > 0.3).astype(np.int8)
    x[rng.random(x.shape) < 0.05] = np.nan  # missing values take the trees' default branches
    x[:50, 5] = 0.0
    return x, y


def _same(model: Classifier, x: np.ndarray) -> None:
    want = model.predict(x)
    got = np.array([model.predict_one(row) for row in x])
    assert np.abs(got - want).max() <= 1e-12
    assert len(np.unique(np.round(want, 6))) > 20  # the rows are scored differently


@pytest.mark.parametrize("calibration", ["sigmoid", "isotonic", "none"])
def test_gbm_one_row_equals_batch(calibration: str) -> None:
    x, y = _data()
    model = GbmModel(rounds=120, leaves=15, min_leaf=20, calibration=calibration).fit(  # type: ignore[arg-type]
        x, y, NAMES)
    _same(model, x[:600])
    # the raw score itself, not only the probability, is LightGBM's own
    assert [model._margin_one(r) for r in x[:100]] == model.margin(x[:100]).tolist()


def test_logistic_one_row_equals_batch() -> None:
    x, y = _data(1)
    model = LogisticModel().fit(np.nan_to_num(x), y, NAMES)
    _same(model, np.nan_to_num(x[:600]))


def test_one_row_after_state_round_trip_and_pickle() -> None:
    x, y = _data(2)
    model = GbmModel(rounds=80, min_leaf=20).fit(x, y, NAMES)
    model.predict_one(x[0])  # builds the fast path, which neither form carries
    for copy in (GbmModel.from_state(model.to_state()), pickle.loads(pickle.dumps(model))):  # noqa: S301
        _same(copy, x[:300])


def test_one_row_from_threads() -> None:
    x, y = _data(3)
    model = GbmModel(rounds=80, min_leaf=20).fit(x, y, NAMES)
    want = model.predict(x[:400])
    got = np.zeros(400)

    def score(part: range) -> None:
        for i in part:
            got[i] = model.predict_one(x[i])

    threads = [threading.Thread(target=score, args=(range(k, 400, 4),)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert np.abs(got - want).max() <= 1e-12


def test_one_row_refuses_a_matrix_or_a_wrong_length() -> None:
    x, y = _data()
    model = GbmModel(rounds=20, min_leaf=20).fit(x, y, NAMES)
    with pytest.raises(ValidationError, match="one row of 12 features expected"):
        model.predict_one(x[:2])
    with pytest.raises(ValidationError, match="one row of 12 features expected"):
        model.predict_one(x[0, :5])
