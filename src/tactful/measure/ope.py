"""Off-policy evaluation: what a new policy would earn, estimated from another policy's logs.

Before a policy goes live, the decisions the current one logged -- each with the probability
(``pscore``) its policy gave the action it took -- say what the new one would have earned:

- **IPS** (inverse propensity scoring) reweights each logged reward by
  ``pi_target(a | x) / pscore``: unbiased when the logging policy gave every action the target
  takes a positive probability, but its variance grows with the weights;
- **SNIPS** (self-normalized IPS) divides by the sum of the weights instead of n: slightly
  biased, far steadier when weights are large;
- **DR** (doubly robust) starts from a reward model's prediction of the target policy's value
  and corrects it with the IPS-weighted residuals of the logged actions: unbiased if either the
  propensities or the reward model are right, and of lower variance than IPS when the model is
  decent (Dudik, Langford & Li 2011).

Confidence intervals come from the central limit theorem over the per-decision terms (delta
method for SNIPS): the estimators are means of independent terms, so this is their natural
interval and costs nothing; ``bootstrap`` gives percentile intervals when the terms are heavy
tailed.

An estimate is only as good as the logging policy's **support**: :func:`support` reports the
effective sample size of the weights and the share of the target policy's mass that falls on
actions the logging policy almost never took; when either is poor the estimate is flagged as not
to be trusted, with the numbers behind the flag.

Arrays follow Open Bandit Pipeline's layout: ``reward``, ``action`` and ``pscore`` have one entry
per logged decision; ``target`` (and ``logging``, ``q``) are ``(n, n_actions)`` matrices of the
target policy's probabilities (the logging policy's, the reward model's predictions) for every
action in each logged context.

>>> import numpy as np
>>> reward = np.array([1.0, 0.0, 1.0, 0.0])
>>> action = np.array([0, 1, 0, 1])
>>> pscore = np.full(4, 0.5)
>>> target = np.array([[1.0, 0.0]] * 4)  # always action 0
>>> round(ips(reward, action, pscore, target).value, 3)
1.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import stats

from tactful.errors import ValidationError

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

THIN_PSCORE: Final = 0.01
"""A logging probability below which an action counts as "almost never taken"."""
MIN_ESS_SHARE: Final = 0.01
"""An effective sample size under 1% of the logs (or under ``MIN_ESS``) is too thin to trust:
the estimate then rests on a handful of heavily weighted decisions."""
MIN_ESS: Final = 100.0
MAX_THIN_MASS: Final = 0.05
"""More than 5% of the target policy's mass on actions the logging policy almost never took
means the logs say little about that part of the target policy."""


@dataclass(frozen=True, slots=True)
class Estimate:
    """A policy value estimated from logs, with its confidence interval."""

    estimator: str
    value: float
    low: float
    high: float
    se: float
    n: int

    def covers(self, truth: float) -> bool:
        return self.low <= truth <= self.high

    def relative_error(self, truth: float) -> float:
        if truth == 0:
            raise ValidationError("relative error against a true value of 0 is undefined")
        return abs(self.value - truth) / abs(truth)


@dataclass(frozen=True, slots=True)
class Support:
    """How well the logs cover the target policy, and whether that is enough to trust it."""

    ess: float
    """Effective sample size of the importance weights: (sum w)^2 / sum w^2."""
    ess_share: float
    thin_mass: float | None
    """Share of the target policy's mass on actions whose logging probability is below
    ``threshold`` (None when the logging policy's full distribution is not given)."""
    max_weight: float
    trusted: bool
    reason: str


def _check(reward: Floats, action: Ints, pscore: Floats, target: Floats) -> None:
    n = len(reward)
    if n == 0:
        raise ValidationError("reward is empty: there is nothing to estimate from")
    if len(action) != n or len(pscore) != n:
        raise ValidationError(f"reward, action and pscore must have one entry per decision; "
                              f"got {n}, {len(action)} and {len(pscore)}")
    if target.ndim != 2 or target.shape[0] != n:
        raise ValidationError(f"target must be an (n, n_actions) matrix with n = {n}; "
                              f"got shape {target.shape}")
    if not np.all((pscore > 0) & (pscore <= 1)):
        raise ValidationError("pscore must be in (0, 1] for every decision")
    if action.min() < 0 or action.max() >= target.shape[1]:
        raise ValidationError(f"action must index target's {target.shape[1]} columns")
    if np.any(target < -1e-12) or not np.allclose(target.sum(axis=1), 1.0, atol=1e-6):
        raise ValidationError("each row of target must be a probability distribution")


def weights(action: Ints, pscore: Floats, target: Floats) -> Floats:
    """``pi_target(a_i | x_i) / pscore_i`` for every logged decision."""
    w: Floats = target[np.arange(len(action)), action] / pscore
    return w


def _interval(name: str, value: float, terms: Floats, alpha: float) -> Estimate:
    n = len(terms)
    se = float(terms.std(ddof=1) / math.sqrt(n)) if n > 1 else math.inf
    z = float(stats.norm.ppf(1 - alpha / 2))
    return Estimate(name, value, value - z * se, value + z * se, se, n)


def ips(reward: Floats, action: Ints, pscore: Floats, target: Floats, *,
        alpha: float = 0.05) -> Estimate:
    """Inverse propensity scoring: the mean of ``w_i r_i``."""
    reward, action, pscore = _arrays(reward, action, pscore)
    _check(reward, action, pscore, target)
    terms = weights(action, pscore, target) * reward
    return _interval("IPS", float(terms.mean()), terms, alpha)


def snips(reward: Floats, action: Ints, pscore: Floats, target: Floats, *,
          alpha: float = 0.05) -> Estimate:
    """Self-normalized IPS: ``sum w r / sum w``; its interval by the delta method (the
    linearized terms ``w (r - V) / mean(w)``)."""
    reward, action, pscore = _arrays(reward, action, pscore)
    _check(reward, action, pscore, target)
    w = weights(action, pscore, target)
    total = float(w.sum())
    if total <= 0:
        raise ValidationError("the target policy never takes a logged action: SNIPS is "
                              "undefined (no support)")
    value = float((w * reward).sum() / total)
    terms = w * (reward - value) / w.mean()
    return _interval("SNIPS", value, terms, alpha)


def doubly_robust(reward: Floats, action: Ints, pscore: Floats, target: Floats, q: Floats,
                  *, alpha: float = 0.05) -> Estimate:
    """Doubly robust: ``sum_a pi(a|x) q(x, a) + w (r - q(x, a_logged))``, averaged."""
    reward, action, pscore = _arrays(reward, action, pscore)
    _check(reward, action, pscore, target)
    if q.shape != target.shape:
        raise ValidationError(f"q must have target's shape {target.shape}; got {q.shape}")
    rows = np.arange(len(action))
    w = weights(action, pscore, target)
    terms = (target * q).sum(axis=1) + w * (reward - q[rows, action])
    return _interval("DR", float(terms.mean()), terms, alpha)


def bootstrap(estimator: str, reward: Floats, action: Ints, pscore: Floats, target: Floats,
              q: Floats | None = None, *, resamples: int = 1000, alpha: float = 0.05,
              seed: int = 0) -> Estimate:
    """Percentile bootstrap interval of ``estimator`` ("IPS", "SNIPS" or "DR") over decisions."""
    funcs = {"IPS": ips, "SNIPS": snips}
    if estimator not in (*funcs, "DR"):
        raise ValidationError(f"estimator must be IPS, SNIPS or DR; got {estimator!r}")
    if estimator == "DR" and q is None:
        raise ValidationError("the DR estimator needs q, the reward model's predictions")
    reward, action, pscore = _arrays(reward, action, pscore)

    def run(idx: npt.NDArray[np.intp]) -> float:
        if estimator == "DR":
            assert q is not None  # noqa: S101 -- checked above; narrows the type for mypy
            return doubly_robust(reward[idx], action[idx], pscore[idx], target[idx],
                                 q[idx]).value
        return funcs[estimator](reward[idx], action[idx], pscore[idx], target[idx]).value

    n = len(reward)
    point = run(np.arange(n))
    rng = np.random.default_rng(seed)
    values = np.array([run(rng.integers(0, n, n)) for _ in range(resamples)])
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return Estimate(estimator, point, float(low), float(high), float(values.std(ddof=1)), n)


def support(action: Ints, pscore: Floats, target: Floats, logging: Floats | None = None, *,
            threshold: float = THIN_PSCORE) -> Support:
    """Whether the logs can speak for the target policy: the effective sample size of the
    weights, and (given the logging policy's full distribution) the share of the target's mass
    on actions it logged with probability below ``threshold``."""
    action, pscore = np.asarray(action, np.int64), np.asarray(pscore, np.float64)
    w = weights(action, pscore, target)
    n = len(w)
    ess = float(w.sum() ** 2 / (w ** 2).sum()) if (w ** 2).sum() > 0 else 0.0
    thin = None
    if logging is not None:
        if logging.shape != target.shape:
            raise ValidationError(f"logging must have target's shape {target.shape}; "
                                  f"got {logging.shape}")
        thin = float((target * (logging < threshold)).sum(axis=1).mean())
    problems = []
    if ess < max(MIN_ESS, MIN_ESS_SHARE * n):
        problems.append(f"effective sample size {ess:.0f} of {n} decisions is below "
                        f"{max(MIN_ESS, MIN_ESS_SHARE * n):.0f}")
    if thin is not None and thin > MAX_THIN_MASS:
        problems.append(f"{thin:.1%} of the target policy's mass is on actions the logging "
                        f"policy took with probability < {threshold:g} (limit "
                        f"{MAX_THIN_MASS:.0%})")
    reason = "; ".join(problems) if problems else (
        f"effective sample size {ess:.0f} of {n}"
        + (f", {thin:.1%} of the target's mass on thinly logged actions" if thin is not None
           else ""))
    return Support(ess, ess / n, thin, float(w.max()), not problems, reason)


def _arrays(reward: Floats, action: Ints, pscore: Floats) -> tuple[Floats, Ints, Floats]:
    return (np.asarray(reward, np.float64), np.asarray(action, np.int64),
            np.asarray(pscore, np.float64))
