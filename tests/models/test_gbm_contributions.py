"""GBM contributions by path attribution: exact-additive, close to TreeSHAP, pickle-safe."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from tactful.models.gbm import GbmModel

NAMES = ["logins_30d", "balance", "noise"]


def _data(n: int = 4_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.poisson(8, n), rng.lognormal(7, 1, n), rng.normal(size=n)])
    logit = -1.0 - 0.4 * (x[:, 0] - 8) + 0.0002 * (x[:, 1] - 1000)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    return x.astype(np.float64), y


@pytest.fixture(scope="module")
def fitted() -> tuple[GbmModel, np.ndarray]:
    x, y = _data()
    return GbmModel().fit(x, y, NAMES), x


def test_bias_plus_contributions_is_the_raw_margin(fitted: tuple[GbmModel, np.ndarray]) -> None:
    model, x = fitted
    rows = np.vstack([x[:500], [[np.nan, 5.0, 0.0]]])
    c = model.contributions(rows)
    assert c.shape == (rows.shape[0], 3) and c.dtype == np.float64
    assert np.abs(model.contribution_bias() + c.sum(axis=1) - model.margin(rows)).max() < 1e-9


def test_agrees_with_treeshap_where_one_feature_dominates() -> None:
    rng = np.random.default_rng(3)
    n = 6_000
    x = np.column_stack([rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)])
    y = (rng.random(n) < 1 / (1 + np.exp(-3.0 * x[:, 0]))).astype(np.int8)
    model = GbmModel().fit(x, y, NAMES)
    rows = x[np.abs(x[:, 0]) > 1.0][:300]  # where the driver is clearly high or low
    path = model.contributions(rows)
    shap = np.asarray(model.booster_.predict(rows, pred_contrib=True))[:, :-1]
    assert np.all(np.sign(path[:, 0]) == np.sign(shap[:, 0]))
    assert np.all(np.sign(path[:, 0]) == np.sign(rows[:, 0]))
    assert np.all(np.argmax(np.abs(path), axis=1) == 0)
    assert np.all(np.argmax(np.abs(shap), axis=1) == 0)


def test_works_after_a_pickle_round_trip(fitted: tuple[GbmModel, np.ndarray]) -> None:
    model, x = fitted
    before = model.contributions(x[:100])  # builds the cached leaf matrix
    blob = pickle.dumps(model)
    again = pickle.loads(blob)  # noqa: S301 -- bytes this test just made
    assert "_paths_cache" not in again.__dict__  # not stored: rebuilt from the booster
    assert np.array_equal(again.contributions(x[:100]), before)
    assert np.abs(again.contribution_bias() + before.sum(axis=1) - again.margin(x[:100])).max() < (
        1e-9
    )


def test_respects_best_iteration() -> None:
    x, y = _data()
    model = GbmModel(refit=False).fit(x, y, NAMES)
    assert model.booster_.best_iteration == model.booster_.num_trees()  # lgb.train trims
    full = model.contributions(x[:300])
    model.booster_.best_iteration = 20  # as a booster kept whole after early stopping
    c = model.contributions(x[:300])
    margin = model.margin(x[:300])
    assert np.abs(model.contribution_bias() + c.sum(axis=1) - margin).max() < 1e-9
    assert np.abs(c - full).max() > 1e-3  # only the first 20 trees: the check above could fail
