"""Validating the off-policy estimators in the closed loop.

The random arm logs every decision with the options it drew from and its exact probability; the
value-weighted target policy (`loop_arms.ValueFirst`) is evaluated on those logs with IPS,
SNIPS and doubly robust estimates (`measure/ope.py`), then runs for real on its own fork of the
same world. The estimate is judged against what it actually earned: conversions (and clicks) per
decision moment.

The reward model of DR is deliberately plain -- each (action, channel)'s logged mean reward,
shrunk toward the overall mean -- so DR's edge comes from the estimator, not from a model that
knows the answer. The gap between estimate and truth has two sources: sampling noise (the
interval says how much) and the loop itself -- a policy's past messages change what later
decisions earn (fatigue, opt-outs, accounts opened), which no per-decision estimator sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from tactful.decide.catalog import ActionsCatalog
from tactful.decide.policy import DecisionPolicy
from tactful.domain.actions import OutcomeKind
from tactful.evaluation.loop_arms import ArmLog, value_first
from tactful.measure.ope import Estimate, Support, doubly_robust, ips, snips, support

SHRINK: Final = 20.0
"""Pseudo-decisions of the overall mean in each (action, channel)'s reward estimate."""


@dataclass(frozen=True, slots=True)
class OpeResult:
    reward: str
    truth: float
    estimates: tuple[Estimate, ...]
    support: Support
    decisions: int


@dataclass(frozen=True, slots=True)
class Logs:
    """The random arm's logs as arrays over one action space (the last column is silence)."""

    reward: dict[str, np.ndarray]
    action: np.ndarray
    pscore: np.ndarray
    target: np.ndarray
    logging: np.ndarray
    names: tuple[tuple[str, str], ...]


def logs(runs: Sequence[ArmLog], policy: DecisionPolicy | None = None) -> Logs:
    chosen = policy or DecisionPolicy(ActionsCatalog.default())
    rows = [r for log in runs for r in log.rows]
    names = sorted({o for r in rows for o in r.options})
    index = {n: k for k, n in enumerate(names)}
    silence = len(names)
    n, k = len(rows), len(names) + 1
    target = np.zeros((n, k))
    logging = np.zeros((n, k))
    action = np.empty(n, np.int64)
    pscore = np.empty(n)
    rewards = {"conversions": np.zeros(n), "clicks": np.zeros(n)}
    outcomes = {did: kinds for log in runs for did, kinds in log.outcomes.items()}
    for i, r in enumerate(rows):
        cols = [index[o] for o in r.options]
        if cols:
            logging[i, cols] = (1.0 - r.pscore) / len(cols) if r.chosen == len(cols) \
                else r.pscore
            logging[i, silence] = 1.0 - logging[i, cols].sum()
        else:
            logging[i, silence] = 1.0
        action[i] = silence if r.chosen == len(cols) else cols[r.chosen]
        pscore[i] = r.pscore
        probs = value_first(list(r.options), chosen)
        target[i, silence] = probs[-1]
        if cols:
            np.add.at(target[i], cols, probs[:-1])
        kinds = outcomes.get(r.decision_id or "", set())
        rewards["conversions"][i] = OutcomeKind.CONVERT in kinds
        rewards["clicks"][i] = OutcomeKind.CLICK in kinds
    return Logs(rewards, action, pscore, target, logging, tuple(names))


def reward_model(lg: Logs, reward: np.ndarray) -> np.ndarray:
    """q(x, a): each action's logged mean reward, shrunk toward the mean over messages."""
    k = lg.target.shape[1]
    sent = lg.action < k - 1
    overall = float(reward[sent].mean()) if sent.any() else 0.0
    sums = np.bincount(lg.action, weights=reward, minlength=k)
    counts = np.bincount(lg.action, minlength=k)
    q = (sums + SHRINK * overall) / (counts + SHRINK)
    q[k - 1] = 0.0  # silence earns nothing
    return np.tile(q, (len(reward), 1))


def validate(random_logs: Sequence[ArmLog], truth: dict[str, float]) -> list[OpeResult]:
    """IPS, SNIPS and DR of the target on the random arm's logs, against ``truth`` (the value
    per decision moment the target earned when it ran)."""
    lg = logs(random_logs)
    diag = support(lg.action, lg.pscore, lg.target, lg.logging)
    out = []
    for name, reward in lg.reward.items():
        args = (reward, lg.action, lg.pscore, lg.target)
        out.append(OpeResult(name, truth[name], (
            ips(*args), snips(*args), doubly_robust(*args, reward_model(lg, reward))),
            diag, len(reward)))
    return out
