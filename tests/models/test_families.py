"""Model families: reason codes that name the real driver, exact contributions, calibration."""

from __future__ import annotations

import numpy as np
import pytest

from tactful.errors import ValidationError
from tactful.models import FeatureInfo, families
from tactful.models.anomaly import AnomalyModel
from tactful.models.base import Classifier
from tactful.models.gbm import GbmModel
from tactful.models.logistic import LogisticModel
from tactful.models.metrics import classifier_metrics

NAMES = ["logins_30d", "balance", "noise"]
INFO = {"logins_30d": FeatureInfo("app logins in the last 30 days")}


def _data(n: int = 4_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.poisson(8, n), rng.lognormal(7, 1, n), rng.normal(size=n)])
    logit = -1.0 - 0.4 * (x[:, 0] - 8) + 0.0002 * (x[:, 1] - 1000)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    return x.astype(np.float64), y


@pytest.mark.parametrize("family", ["logistic", "gbm"])
def test_reason_codes_name_the_driver_in_plain_words(family: str) -> None:
    x, y = _data()
    cls = families.get(family)
    assert issubclass(cls, Classifier)
    model = cls().fit(x, y, NAMES, INFO)
    few_logins = np.array([[0.0, 1000.0, 0.0]])
    top = model.reasons(few_logins, k=2)[0][0]
    assert top.feature == "logins_30d"
    assert top.contribution > 0
    assert top.text.startswith("app logins in the last 30 days low: 0")
    many = np.array([[20.0, 1000.0, 0.0]])
    lowering = model.reasons(many, k=1, direction=-1)[0][0]
    assert lowering.feature == "logins_30d" and lowering.contribution < 0


@pytest.mark.parametrize("family", ["logistic", "gbm"])
def test_contributions_add_up_to_the_margin(family: str) -> None:
    x, y = _data()
    model = families.get(family)().fit(x, y, NAMES)  # type: ignore[call-arg]
    assert isinstance(model, Classifier)
    c = model.contributions(x[:50])
    bias = model.margin(x[:50]) - c.sum(axis=1)
    assert np.allclose(bias, bias[0])  # one constant: the intercept / expected value


@pytest.mark.parametrize("cls", [LogisticModel, GbmModel])
def test_probabilities_are_calibrated_and_rank_well(cls: type[Classifier]) -> None:
    x, y = _data(8_000)
    model = cls().fit(x[:6_000], y[:6_000], NAMES)
    p = model.predict(x[6_000:])
    m = classifier_metrics(y[6_000:], p)
    assert m.roc_auc > 0.75
    assert abs(p.mean() - y[6_000:].mean()) < 0.03
    assert m.brier < 0.9 * y[6_000:].mean() * (1 - y[6_000:].mean())  # better than the base rate


def test_calibration_is_monotone_so_it_never_reorders() -> None:
    x, y = _data()
    model = LogisticModel(calibration="isotonic").fit(x, y, NAMES)
    margin = model.margin(x[:500])
    p = model.predict(x[:500])
    order = np.argsort(margin)
    assert np.all(np.diff(p[order]) >= -1e-12)


@pytest.mark.parametrize(
    ("kwargs", "y", "message"),
    [
        ({}, np.zeros(100), "need both classes"),
        ({}, np.full(100, 2), "labels must be 0 or 1"),
        ({"calibration": "platt"}, np.arange(100) % 2, "calibration must be sigmoid"),
        ({"calibration_share": 1.0}, np.arange(100) % 2, r"calibration_share must be in \[0, 1\)"),
    ],
)
def test_invalid_fits_are_refused_by_name(
    kwargs: dict[str, object], y: np.ndarray, message: str
) -> None:
    x = np.random.default_rng(0).normal(size=(100, 3))
    with pytest.raises(ValidationError, match=message):
        LogisticModel(**kwargs).fit(x, y, NAMES)  # type: ignore[arg-type]


def test_feature_count_mismatch_is_refused() -> None:
    x, y = _data(500)
    model = LogisticModel().fit(x, y, NAMES)
    with pytest.raises(ValidationError, match="features have 2 columns, the model 3"):
        model.predict(x[:, :2])


def test_anomaly_model_flags_a_planted_outlier_and_says_why() -> None:
    rng = np.random.default_rng(1)
    x = np.column_stack([rng.normal(size=3_000), rng.integers(0, 2, 3_000) * 0.0])
    model = AnomalyModel(alert_rate=0.01, seed=0).fit(x, ["amount_z", "new_merchant"])
    odd = np.array([[6.0, 1.0]])
    assert model.alerts(odd)[0]
    scores = model.predict(x)
    assert scores.min() >= 0.0 and scores.max() <= 1.0
    assert abs(model.alerts(x).mean() - 0.01) < 0.005
    assert model.reasons(odd, k=1)[0][0].feature == "amount_z"


@pytest.mark.parametrize("family", ["logistic", "gbm"])
def test_batch_reason_json_says_what_the_model_says(family: str) -> None:
    import json

    from tactful.models.scoring import reasons_json

    x, y = _data()
    model = families.get(family)().fit(x, y, NAMES, INFO)  # type: ignore[call-arg]
    rows = np.vstack([x[:200], [[np.nan, 5.0, 0.0]]])
    batch = [json.loads(j) for j in reasons_json(model, rows)]
    one_by_one = model.reasons(rows)
    assert [[(d["feature"], d["text"]) for d in r] for r in batch] == [
        [(r.feature, r.text) for r in rs] for rs in one_by_one
    ]
