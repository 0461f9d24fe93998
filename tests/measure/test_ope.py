"""Off-policy estimators on a synthetic contextual bandit whose policy values are known exactly.

Specifications: IPS, SNIPS and DR intervals cover the true value of a target policy estimated
from a uniformly random logging policy's logs (in most of many repetitions, as a 95% interval
should); DR's spread across repetitions is below IPS's with a decent reward model; a target
policy that puts its mass where the logging policy almost never acts is flagged as untrusted;
bad inputs fail with a message naming what is wrong.
"""

from __future__ import annotations

import numpy as np
import pytest

from tactful.errors import ValidationError
from tactful.measure.ope import bootstrap, doubly_robust, ips, snips, support

K = 5
D = 3


def _world(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1000 + seed)
    theta = rng.normal(0, 1, (K, D))
    bias = np.linspace(-2.0, -0.5, K)
    return theta, bias


def _p(x: np.ndarray, theta: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(x @ theta.T + bias)))  # (n, K) reward probabilities


def _logs(n: int, seed: int, logging: str = "uniform") -> dict[str, np.ndarray]:
    theta, bias = _world(0)
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n, D))
    p = _p(x, theta, bias)
    if logging == "uniform":
        pi0 = np.full((n, K), 1 / K)
    else:  # almost never takes action 0
        pi0 = np.tile(np.array([0.001, 0.25, 0.25, 0.25, 0.249]), (n, 1))
    u = rng.random(n)[:, None]
    a = (u > pi0.cumsum(axis=1)).sum(axis=1)
    r = (rng.random(n) < p[np.arange(n), a]).astype(float)
    # target: the greedy action of a slightly wrong model of the truth
    greedy = (x @ (theta + 0.3).T + bias).argmax(axis=1)
    target = np.eye(K)[greedy]
    return {"x": x, "p": p, "pi0": pi0, "a": a, "r": r, "pscore": pi0[np.arange(n), a],
            "target": target}


def _truth(target_rule: str = "greedy") -> float:
    theta, bias = _world(0)
    x = np.random.default_rng(99).normal(0, 1, (400_000, D))
    p = _p(x, theta, bias)
    if target_rule == "greedy":
        greedy = (x @ (theta + 0.3).T + bias).argmax(axis=1)
        return float(p[np.arange(len(x)), greedy].mean())
    return float(p[:, 0].mean())


def _q(logs: dict[str, np.ndarray], noise: float, seed: int) -> np.ndarray:
    """A decent reward model: the true probabilities with some noise."""
    rng = np.random.default_rng(seed)
    return np.clip(logs["p"] + rng.normal(0, noise, logs["p"].shape), 0, 1)


TRUTH = _truth()


def test_intervals_cover_the_true_value() -> None:
    runs = 60
    hits = {"IPS": 0, "SNIPS": 0, "DR": 0}
    for s in range(runs):
        logs = _logs(3000, s)
        args = (logs["r"], logs["a"], logs["pscore"], logs["target"])
        for est in (ips(*args), snips(*args), doubly_robust(*args, _q(logs, 0.05, s))):
            hits[est.estimator] += est.covers(TRUTH)
    # a 95% interval covers the truth in ~57 of 60 runs; 50 leaves room for chance only
    assert all(h >= 50 for h in hits.values()), hits


def test_estimates_are_close_on_average() -> None:
    values = {"IPS": [], "SNIPS": [], "DR": []}
    for s in range(30):
        logs = _logs(3000, 500 + s)
        args = (logs["r"], logs["a"], logs["pscore"], logs["target"])
        for est in (ips(*args), snips(*args), doubly_robust(*args, _q(logs, 0.05, s))):
            values[est.estimator].append(est.value)
    for name, v in values.items():
        assert abs(np.mean(v) - TRUTH) / TRUTH < 0.03, (name, np.mean(v), TRUTH)


def test_dr_varies_less_than_ips_with_a_decent_model() -> None:
    ips_v, dr_v = [], []
    for s in range(40):
        logs = _logs(2000, 900 + s)
        args = (logs["r"], logs["a"], logs["pscore"], logs["target"])
        ips_v.append(ips(*args).value)
        dr_v.append(doubly_robust(*args, _q(logs, 0.05, s)).value)
    assert np.var(dr_v) < 0.5 * np.var(ips_v), (np.var(dr_v), np.var(ips_v))


def test_a_bad_reward_model_leaves_dr_unbiased() -> None:
    values = []
    for s in range(30):
        logs = _logs(3000, 1500 + s)
        wrong = np.full_like(logs["p"], 0.9)  # far from the truth everywhere
        values.append(doubly_robust(logs["r"], logs["a"], logs["pscore"], logs["target"],
                                    wrong).value)
    assert abs(np.mean(values) - TRUTH) / TRUTH < 0.05


def test_uniform_logs_support_a_greedy_target() -> None:
    logs = _logs(3000, 7)
    s = support(logs["a"], logs["pscore"], logs["target"], logs["pi0"])
    assert s.trusted, s.reason
    assert s.thin_mass == 0.0
    assert 0.1 < s.ess_share < 0.5  # a deterministic target keeps ~1/K of the logs


def test_thin_support_is_flagged() -> None:
    logs = _logs(3000, 8, logging="skewed")
    target = np.eye(K)[np.zeros(3000, dtype=int)]  # always the action logged 0.1% of the time
    s = support(logs["a"], logs["pscore"], target, logs["pi0"])
    assert not s.trusted
    assert s.thin_mass == pytest.approx(1.0)
    assert "mass" in s.reason and "effective sample size" in s.reason
    # without the logging distribution the weights alone still give it away
    assert not support(logs["a"], logs["pscore"], target).trusted


def test_bootstrap_agrees_with_the_clt_interval() -> None:
    logs = _logs(2000, 11)
    args = (logs["r"], logs["a"], logs["pscore"], logs["target"])
    clt = ips(*args)
    boot = bootstrap("IPS", *args, resamples=300, seed=1)
    assert boot.value == clt.value
    assert boot.se == pytest.approx(clt.se, rel=0.25)
    dr = bootstrap("DR", *args, q=_q(logs, 0.05, 1), resamples=200, seed=1)
    assert dr.low < dr.value < dr.high


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pscore": np.array([0.5, 0.0])}, "pscore must be in (0, 1]"),
        ({"action": np.array([0, 3])}, "action must index target's 2 columns"),
        ({"target": np.array([[0.5, 0.4], [1.0, 0.0]])}, "probability distribution"),
        ({"reward": np.array([1.0])}, "one entry per decision"),
        ({"target": np.array([1.0, 0.0])}, "(n, n_actions) matrix"),
    ],
)
def test_invalid_inputs(change: dict[str, np.ndarray], message: str) -> None:
    args = {"reward": np.array([1.0, 0.0]), "action": np.array([0, 1]),
            "pscore": np.array([0.5, 0.5]), "target": np.array([[1.0, 0.0], [1.0, 0.0]])}
    args |= change
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ips(args["reward"], args["action"], args["pscore"], args["target"])


def test_snips_without_support_refuses() -> None:
    with pytest.raises(ValidationError, match="no support"):
        snips(np.array([1.0]), np.array([1]), np.array([0.5]), np.array([[1.0, 0.0]]))
