"""The statistics of engagement reports and experiments, and why each test was chosen.

- **Rates: Wilson score intervals** (``statsmodels.stats.proportion.proportion_confint``,
  ``method="wilson"``). Click and conversion rates are small and some cells are tiny (an action
  sent 12 times); the textbook Wald interval collapses to zero width at 0 successes and covers
  badly near 0, the Wilson interval does not (Brown, Cai & DasGupta 2001).
- **Difference of two rates: Newcombe's hybrid score interval**
  (``statsmodels.stats.proportion.confint_proportions_2indep``, ``method="newcomb"``), built from
  the two Wilson intervals, with the same good behaviour near 0; its p-value is the score test of
  ``test_proportions_2indep``. With more than one treatment arm, p-values against control are
  Holm-adjusted (``multipletests``): a family of comparisons must not find an effect by number.
- **Sample-ratio mismatch: Pearson's chi-square goodness of fit** (``scipy.stats.chisquare``) of
  the arms' counts against their configured weights, flagged at p < 0.001. A mismatch means the
  assignment or the logging is broken, and no result of that experiment can be trusted; the
  strict threshold is the one large experimentation platforms use (Fabijan et al., KDD 2019),
  because the check runs on every experiment at every look and must rarely cry wolf.
- **CUPED** (Deng et al., WSDM 2013): ``y - theta (x - mean x)`` with ``theta = cov(x, y) /
  var(x)`` on the pooled arms, ``x`` the same metric in the pre-period. Assignment is
  independent of the pre-period, so the estimate stays unbiased, and its variance shrinks by
  ``1 - corr(x, y)^2``.
- **Sequential testing: the mixture sequential probability ratio test (mSPRT)** with a normal
  mixing distribution, as Johari, Pekelis & Walsh ("Always valid inference", Operations
  Research 2022) run it at Optimizely. Its likelihood ratio is a non-negative martingale under
  the null, so by Ville's inequality the chance it *ever* exceeds ``1 / alpha`` is at most
  ``alpha``: the p-value ``min(1, 1 / Lambda)`` stays valid however often, and whenever, a team
  looks -- the habit that inflates a fixed-horizon test's false positives several-fold. We chose
  it over a group-sequential design (O'Brien-Fleming alpha spending) because that needs the
  number and timing of looks fixed in advance, and a dashboard refreshed daily does not honour
  a plan. The price is power: for the same sample an mSPRT rejects less often than a
  fixed-horizon test looked at once. ``tau`` (the mixing standard deviation) should be near the
  effect one hopes to detect.

>>> round(wilson(0, 20).high, 3)
0.161
>>> srm([9_600, 10_400], [0.5, 0.5]).flagged
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    test_proportions_2indep,
)

from tactful.errors import ValidationError

SRM_ALPHA: Final = 0.001
Floats = npt.NDArray[np.float64]


def _count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValidationError(f"{name} must be an integer >= 0; got {value!r}")
    return int(value)


def _alpha(alpha: float) -> float:
    if not 0.0 < alpha < 1.0:
        raise ValidationError(f"alpha must be in (0, 1); got {alpha!r}")
    return alpha


@dataclass(frozen=True, slots=True)
class Rate:
    successes: int
    n: int
    rate: float
    low: float
    high: float


def wilson(successes: int, n: int, *, alpha: float = 0.05) -> Rate:
    """``successes / n`` with its Wilson score interval (NaN rate and [0, 1] when n is 0)."""
    k, m = _count(successes, "successes"), _count(n, "n")
    if k > m:
        raise ValidationError(f"successes ({k}) exceed n ({m})")
    if m == 0:
        return Rate(0, 0, math.nan, 0.0, 1.0)
    low, high = proportion_confint(k, m, alpha=_alpha(alpha), method="wilson")
    return Rate(k, m, k / m, float(low), float(high))


@dataclass(frozen=True, slots=True)
class Difference:
    """Treatment minus control, its interval and p-value."""

    diff: float
    low: float
    high: float
    p_value: float


def rate_difference(s_treat: int, n_treat: int, s_ctrl: int, n_ctrl: int, *,
                    alpha: float = 0.05) -> Difference:
    """The difference of two rates with Newcombe's interval and the score test's p-value."""
    a, na = _count(s_treat, "s_treat"), _count(n_treat, "n_treat")
    b, nb = _count(s_ctrl, "s_ctrl"), _count(n_ctrl, "n_ctrl")
    if na == 0 or nb == 0:
        return Difference(math.nan, math.nan, math.nan, math.nan)
    if a > na or b > nb:
        raise ValidationError("successes exceed their n")
    # statsmodels also computes the ratio and odds ratio, which divide by zero at a rate of
    # 0 or 1; the difference does not, so those warnings say nothing about it
    with np.errstate(divide="ignore", invalid="ignore"):
        low, high = confint_proportions_2indep(a, na, b, nb, method="newcomb",
                                               compare="diff", alpha=_alpha(alpha))
        if a + b in (0, na + nb):  # no variation at all: nothing to test
            p = 1.0
        else:
            p = float(test_proportions_2indep(a, na, b, nb, method="score",
                                              compare="diff").pvalue)
    return Difference(a / na - b / nb, float(low), float(high), p)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values of a family of comparisons (NaN stays NaN)."""
    values = np.asarray(p_values, dtype=float)
    out = values.copy()
    ok = ~np.isnan(values)
    if ok.any():
        out[ok] = multipletests(values[ok], method="holm")[1]
    return [float(v) for v in out]


@dataclass(frozen=True, slots=True)
class SampleRatio:
    observed: tuple[int, ...]
    expected: tuple[float, ...]
    chi2: float
    p_value: float
    flagged: bool
    """p below :data:`SRM_ALPHA`: the split is not the one configured."""


def srm(observed: Sequence[int], weights: Sequence[float], *,
        alpha: float = SRM_ALPHA) -> SampleRatio:
    """Pearson's chi-square test of the arms' counts against their configured weights."""
    counts = [_count(c, "observed") for c in observed]
    if len(counts) != len(weights) or len(counts) < 2:
        raise ValidationError("srm needs one weight per arm and at least two arms")
    if any(w <= 0 for w in weights):
        raise ValidationError(f"weights must be > 0; got {list(weights)}")
    total = sum(counts)
    shares = np.asarray(weights, dtype=float) / float(sum(weights))
    expected = shares * total
    if total == 0:
        return SampleRatio(tuple(counts), tuple(expected), 0.0, 1.0, False)
    chi2, p = sps.chisquare(counts, expected)
    return SampleRatio(tuple(counts), tuple(float(e) for e in expected), float(chi2), float(p),
                       bool(p < _alpha(alpha)))


@dataclass(frozen=True, slots=True)
class Cuped:
    theta: float
    adjusted: Floats
    """The metric adjusted by the pre-period covariate (same order as given)."""
    variance_ratio: float
    """Var(adjusted) / Var(raw): the share of variance left."""


def cuped(y: Sequence[float] | Floats, x_pre: Sequence[float] | Floats) -> Cuped:
    """CUPED adjustment of ``y`` by its pre-period covariate ``x_pre``, over all arms pooled
    (theta must not depend on the assignment, or the adjustment would bias the difference)."""
    ys, xs = np.asarray(y, dtype=float), np.asarray(x_pre, dtype=float)
    if ys.shape != xs.shape or ys.ndim != 1 or len(ys) < 2:
        raise ValidationError("cuped needs two equal-length series of at least 2 values")
    vx = float(np.var(xs, ddof=1))
    theta = 0.0 if vx == 0 else float(np.cov(xs, ys, ddof=1)[0, 1] / vx)
    adjusted = ys - theta * (xs - xs.mean())
    vy = float(np.var(ys, ddof=1))
    ratio = float(np.var(adjusted, ddof=1) / vy) if vy > 0 else 1.0
    return Cuped(theta, adjusted, ratio)


def mean_difference(y_treat: Sequence[float] | Floats, y_ctrl: Sequence[float] | Floats, *,
                    alpha: float = 0.05) -> Difference:
    """Difference of means with a Welch (unequal variances) t interval and p-value: the test
    for a CUPED-adjusted metric, which is no longer a 0/1 rate."""
    a, b = np.asarray(y_treat, dtype=float), np.asarray(y_ctrl, dtype=float)
    if len(a) < 2 or len(b) < 2:
        return Difference(math.nan, math.nan, math.nan, math.nan)
    va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
    se = math.sqrt(va + vb)
    diff = float(a.mean() - b.mean())
    if se == 0:
        return Difference(diff, diff, diff, 1.0 if diff == 0 else 0.0)
    dof = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    q = float(sps.t.ppf(1 - _alpha(alpha) / 2, dof))
    p = float(2 * sps.t.sf(abs(diff) / se, dof))
    return Difference(diff, diff - q * se, diff + q * se, p)


@dataclass(frozen=True, slots=True)
class Sequential:
    """One look of the mSPRT: the mixture likelihood ratio and its always-valid p-value."""

    likelihood_ratio: float
    p_value: float
    reject: bool


def msprt(diff: float, variance: float, *, tau: float, alpha: float = 0.05) -> Sequential:
    """The normal-mixture SPRT at one look, for an estimate ``diff`` of a difference whose
    sampling variance is ``variance`` (H0: the difference is 0; mixing N(0, tau^2)):

    ``Lambda = sqrt(V / (V + tau^2)) exp(diff^2 tau^2 / (2 V (V + tau^2)))``.

    Rejecting when ``Lambda >= 1 / alpha`` at any look, as many looks as one likes, keeps the
    false-positive rate at most ``alpha``."""
    if tau <= 0:
        raise ValidationError(f"tau must be > 0; got {tau!r}")
    a = _alpha(alpha)
    if not variance > 0 or math.isnan(diff):
        return Sequential(1.0, 1.0, False)
    t2 = tau * tau
    log_lr = 0.5 * math.log(variance / (variance + t2)) + diff * diff * t2 / (
        2 * variance * (variance + t2))
    lr = math.exp(min(log_lr, 700.0))
    p = min(1.0, 1.0 / lr)
    return Sequential(lr, p, p <= a)


def msprt_rates(s_treat: int, n_treat: int, s_ctrl: int, n_ctrl: int, *, tau: float = 0.02,
                alpha: float = 0.05) -> Sequential:
    """The mSPRT for a difference of two rates, its variance the plug-in binomial one."""
    if n_treat == 0 or n_ctrl == 0:
        return Sequential(1.0, 1.0, False)
    pa, pb = s_treat / n_treat, s_ctrl / n_ctrl
    variance = pa * (1 - pa) / n_treat + pb * (1 - pb) / n_ctrl
    return msprt(pa - pb, variance, tau=tau, alpha=alpha)
