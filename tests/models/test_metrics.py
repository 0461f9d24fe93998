"""Metrics, PSI and fairness figures against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tactful.errors import ValidationError
from tactful.models.drift import drift_report, psi, psi_from_edges
from tactful.models.fairness import FairnessGate, fairness_report
from tactful.models.metrics import classifier_metrics, lift_at


def test_psi_of_a_known_shift() -> None:
    ref = np.array([0.0] * 50 + [1.0] * 50)
    cur = np.array([0.0] * 80 + [1.0] * 20)
    expected = 0.3 * math.log(0.8 / 0.5) + (-0.3) * math.log(0.2 / 0.5)
    assert psi_from_edges(ref, cur, np.array([0.5])) == pytest.approx(expected)
    assert expected == pytest.approx(0.4159, abs=1e-4)


def test_psi_is_zero_for_the_same_population_and_large_for_a_moved_one() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=20_000)
    assert psi(a, rng.normal(size=20_000)) < 0.01
    assert psi(a, rng.normal(1.0, 1.0, 20_000)) > 0.2


def test_drift_report_flags_only_the_moved_feature() -> None:
    rng = np.random.default_rng(0)
    train = rng.normal(size=(5_000, 2))
    now = np.column_stack([rng.normal(size=5_000), rng.normal(2.0, 1.0, 5_000)])
    report = drift_report(train, now, ["stable", "moved"])
    assert report.drifted == ["moved"] and report.retrain


def test_psi_needs_values() -> None:
    with pytest.raises(ValidationError, match="at least one finite reference"):
        psi(np.array([np.nan]), np.array([1.0]))


def test_top_decile_lift_and_metrics() -> None:
    y = np.array([1] * 10 + [0] * 90)
    p = np.linspace(1, 0, 100)  # the positives score highest
    assert lift_at(y, p, 0.1) == pytest.approx(10.0)
    m = classifier_metrics(y, p)
    assert m.roc_auc == pytest.approx(1.0) and m.pr_auc == pytest.approx(1.0)
    with pytest.raises(ValidationError, match="both classes"):
        classifier_metrics(np.zeros(5), np.zeros(5))


def test_fairness_figures_and_gate_reasons() -> None:
    # Group A: 100 rows, 40 selected; group B: 100 rows, 10 selected.
    y = np.array(([1] * 20 + [0] * 80) * 2)
    scores = np.concatenate([np.r_[np.ones(40), np.zeros(60)], np.r_[np.ones(10), np.zeros(90)]])
    groups = {"gender": np.array(["A"] * 100 + ["B"] * 100, dtype=object)}
    report = fairness_report(y, scores, groups, threshold=0.5)
    gender = report.attributes[0]
    assert gender.demographic_parity_difference == pytest.approx(0.30)
    # A: TPR 1.0, FPR 20/80; B: TPR 0.5, FPR 0 -> equalized odds difference 0.5
    assert gender.equalized_odds_difference == pytest.approx(0.5)
    assert {g.group: g.selection_rate for g in gender.groups} == {"A": 0.4, "B": 0.1}
    assert report.failures() == [
        "demographic parity difference by gender is 0.300 > 0.1",
        "equalized odds difference by gender is 0.500 > 0.1",
    ]
    lenient = fairness_report(y, scores, groups, threshold=0.5, gate=FairnessGate(0.5, 0.6))
    assert lenient.passed


def test_small_groups_are_reported_but_not_gated() -> None:
    y = np.array([1, 0] * 100 + [1, 0, 0, 0, 0])
    scores = np.r_[np.tile([0.9, 0.1], 100), [0.9, 0.9, 0.9, 0.9, 0.9]]
    groups = {"age_band": np.array(["big"] * 200 + ["tiny"] * 5, dtype=object)}
    report = fairness_report(y, scores, groups, threshold=0.5)
    assert report.passed
    assert [g.group for g in report.attributes[0].groups] == ["big", "tiny"]


def test_drift_names_the_feature_it_cannot_measure() -> None:
    train = np.array([[1.0, 2.0], [3.0, 4.0]])
    now = np.array([[1.0, np.nan], [2.0, np.nan]])
    with pytest.raises(
        ValidationError, match=r"^drift of 'income': PSI needs at least one finite current value$"
    ):
        drift_report(train, now, ["age", "income"])
