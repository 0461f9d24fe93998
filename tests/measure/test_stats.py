"""The experiment statistics, each tested where it could fail: coverage and error rates are
simulated (seeded), not asserted from the formula that produced them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tactful.errors import ValidationError
from tactful.measure.stats import (
    cuped,
    holm,
    mean_difference,
    msprt_rates,
    rate_difference,
    srm,
    wilson,
)

ALPHA = 0.05
REPS = 400
N = 10_000
LOOKS = np.arange(250, N + 1, 250)  # 40 looks per experiment


def _peeking_runs(p_a: float, p_b: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative successes of REPS experiments at every look."""
    rng = np.random.default_rng(seed)
    a = np.cumsum(rng.random((REPS, N)) < p_a, axis=1)[:, LOOKS - 1]
    b = np.cumsum(rng.random((REPS, N)) < p_b, axis=1)[:, LOOKS - 1]
    return a, b


def test_an_aa_test_peeked_at_40_times_keeps_false_positives_near_alpha() -> None:
    a, b = _peeking_runs(0.1, 0.1, seed=1)
    sequential = naive = 0
    for r in range(REPS):
        sequential += any(msprt_rates(int(a[r, k]), int(n), int(b[r, k]), int(n),
                                      tau=0.02).reject for k, n in enumerate(LOOKS))
        naive += any(rate_difference(int(a[r, k]), int(n), int(b[r, k]), int(n)).p_value
                     < ALPHA for k, n in enumerate(LOOKS[::4]))
    # the same data judged by a fixed-horizon test at every tenth look: the inflation the
    # sequential test exists to prevent (if this ever stays near alpha, the test is too weak)
    assert naive / REPS > 2 * ALPHA
    assert sequential / REPS <= ALPHA + 2 * math.sqrt(ALPHA * (1 - ALPHA) / REPS)


def test_the_sequential_test_still_finds_a_real_effect_at_some_cost_in_power() -> None:
    a, b = _peeking_runs(0.115, 0.10, seed=2)
    found = sum(any(msprt_rates(int(a[r, k]), int(n), int(b[r, k]), int(n), tau=0.02).reject
                    for k, n in enumerate(LOOKS)) for r in range(REPS))
    fixed = sum(rate_difference(int(a[r, -1]), N, int(b[r, -1]), N).p_value < ALPHA
                for r in range(REPS))
    assert 0.6 < found / REPS < fixed / REPS  # measured: 0.73 against 0.94 looked at once


def test_srm_flags_a_48_52_split_at_20000_and_not_a_fair_one() -> None:
    assert srm([9_600, 10_400], [0.5, 0.5]).flagged
    rng = np.random.default_rng(3)
    false_alarms = sum(srm(list(np.bincount(rng.random(20_000) < 0.5, minlength=2)),
                           [1, 1]).flagged for _ in range(500))
    assert false_alarms <= 3  # alpha 0.001: about 0.5 expected in 500
    weighted = srm([4_000, 4_000, 2_000], [0.4, 0.4, 0.2])
    assert not weighted.flagged and weighted.chi2 == 0.0


def test_cuped_reduces_variance_on_correlated_data_and_keeps_the_effect() -> None:
    rng = np.random.default_rng(4)
    n = 4_000
    x = rng.gamma(2.0, 50.0, 2 * n)  # pre-period spend
    treat = np.arange(2 * n) < n
    y = 0.8 * x + rng.normal(0, 20, 2 * n) + np.where(treat, 5.0, 0.0)
    adjusted = cuped(y, x)
    assert adjusted.variance_ratio < 0.2
    raw = mean_difference(y[treat], y[~treat])
    cup = mean_difference(adjusted.adjusted[treat], adjusted.adjusted[~treat])
    assert cup.high - cup.low < 0.5 * (raw.high - raw.low)
    assert cup.low < 5.0 < cup.high
    noise = cuped(y, rng.normal(size=2 * n))  # an unrelated covariate removes ~nothing
    assert noise.variance_ratio > 0.99


def test_wilson_intervals_cover_at_their_nominal_rate() -> None:
    rng = np.random.default_rng(5)
    p, n = 0.03, 200
    hits = 0
    for k in rng.binomial(n, p, 2_000):
        r = wilson(int(k), n)
        hits += r.low <= p <= r.high
    assert 0.92 <= hits / 2_000 <= 0.98


def test_rate_difference_and_holm() -> None:
    d = rate_difference(130, 1_000, 100, 1_000)
    assert d.diff == pytest.approx(0.03) and d.low < 0.03 < d.high and d.p_value < 0.05
    assert rate_difference(0, 10, 0, 10).p_value == 1.0
    assert math.isnan(rate_difference(1, 10, 0, 0).diff)
    assert holm([0.01, 0.04, float("nan")])[:2] == pytest.approx([0.02, 0.04])


@pytest.mark.parametrize(("call", "message"), [
    (lambda: wilson(5, 3), r"successes \(5\) exceed n \(3\)"),
    (lambda: wilson(-1, 3), "successes must be an integer >= 0; got -1"),
    (lambda: wilson(1, 3, alpha=1.5), r"alpha must be in \(0, 1\); got 1.5"),
    (lambda: srm([10], [1.0]), "srm needs one weight per arm and at least two arms"),
    (lambda: srm([10, 10], [1.0, 0.0]), r"weights must be > 0; got \[1.0, 0.0\]"),
    (lambda: msprt_rates(1, 10, 1, 10, tau=0.0), "tau must be > 0; got 0.0"),
    (lambda: cuped([1.0], [1.0]), "cuped needs two equal-length series of at least 2 values"),
])
def test_invalid_inputs_are_refused_by_name(call: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        call()  # type: ignore[operator]
