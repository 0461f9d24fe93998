"""A policy's value estimated from the decisions log before it is launched (``tactful ope``).

Every logged decision kept what the policy read (``inputs``), the probability it gave each
candidate in the arbitration and the probability of its choice (``pscore``). So another policy
-- a changed actions catalog, other business levers, another attention bar -- can be replayed
on exactly those inputs, and its probability of each logged choice weighs the reward that
choice earned (``measure.ope``: IPS, self-normalized IPS, doubly robust). Silence is an action
like any other: its reward is what a message would have earned, nothing, in the outcomes.

What it cannot see: a decision the log never made (a customer or moment the logging policy
skipped), and rewards outside the outcomes table (a conversion with no message). ``support``
says when the logs speak too little for the target policy to trust the figure.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import numpy as np
from sqlalchemy import select

from tactful.decide.log import considered_from_json, inputs_from_json
from tactful.decide.policy import Considered, DecisionPolicy
from tactful.domain.actions import OutcomeKind
from tactful.errors import ValidationError
from tactful.measure.ope import Estimate, Support, doubly_robust, ips, snips, support
from tactful.store import schema
from tactful.store.store import Store

SILENCE: Final = "(silence)"
_CHUNK: Final = 2_000


@dataclass(frozen=True, slots=True)
class OfflineValue:
    """The target policy's estimated reward per decision, beside what the log earned."""

    decisions: int
    reward: tuple[str, ...]
    """The outcome kinds that count as a reward of 1 (any of them, once per decision)."""
    logged: float
    """The logging policy's own reward per decision: the observed mean."""
    estimates: tuple[Estimate, ...]
    support: Support
    agreement: float
    """Share of decisions where the target's most probable action is the one logged."""


def arm_of(action_id: str | None, channel: str | None) -> str:
    return SILENCE if action_id is None else f"{action_id}|{channel}"


def distribution(considered: Sequence[Considered]) -> dict[str, float]:
    """The policy's probability of each action (``action|channel``, and silence) in one
    decision: the arbitration's probabilities, the rest of the mass on silence."""
    probs: dict[str, float] = defaultdict(float)
    for c in considered:  # those outranked in the arbitration keep the probability they had
        if c.probability:
            probs[arm_of(c.action_id, c.channel.value if c.channel else None)] += c.probability
    total = sum(probs.values())
    if total > 1 + 1e-6:
        probs = defaultdict(float, {k: v / total for k, v in probs.items()})
        total = 1.0
    probs[SILENCE] += max(0.0, 1.0 - total)
    return dict(probs)


def _rewards(store: Store, ids: Sequence[str], kinds: Collection[str]) -> set[str]:
    o = schema.outcomes
    rewarded: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        rewarded |= {str(r[0]) for r in store.rows(select(o.c.decision_id).where(
            o.c.decision_id.in_(ids[start:start + _CHUNK]), o.c.kind.in_(list(kinds))))}
    return rewarded


def _logged(store: Store, since: datetime | None) -> list[Mapping[str, Any]]:
    d = schema.decisions
    query = select(d.c.decision_id, d.c.silent, d.c.action_id, d.c.channel, d.c.pscore,
                   d.c.inputs, d.c.candidates).order_by(d.c.decided_at, d.c.decision_id)
    if since is not None:
        query = query.where(d.c.decided_at >= since)
    return [r._mapping for r in store.rows(query)]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def policy_value(store: Store, target: DecisionPolicy, *,
                 reward: Collection[OutcomeKind | str] = (OutcomeKind.CLICK,
                                                          OutcomeKind.CONVERT),
                 since: datetime | None = None, alpha: float = 0.05) -> OfflineValue:
    """``target``'s reward per decision, estimated from the decisions logged since ``since``
    (all by default) and their outcomes."""
    kinds = tuple(sorted(OutcomeKind(k).value for k in reward))
    if not kinds:
        raise ValidationError("reward needs at least one outcome kind")
    rows = _logged(store, since)
    if not rows:
        raise ValidationError("the decisions log is empty: there is nothing to estimate from")
    rewarded = _rewards(store, [str(r["decision_id"]) for r in rows], kinds)
    logged_arms: list[str] = []
    targets: list[dict[str, float]] = []
    loggings: list[dict[str, float]] = []
    for r in rows:
        logged_arms.append(arm_of(None if r["silent"] else r["action_id"], r["channel"]))
        loggings.append(distribution(considered_from_json(_json(r["candidates"]))))
        replay = target.decide(inputs_from_json(_json(r["inputs"])))
        targets.append(distribution(replay.considered))
    arms = sorted({a for a in logged_arms} | {a for t in targets for a in t}
                  | {a for g in loggings for a in g})
    index = {a: k for k, a in enumerate(arms)}
    n = len(rows)
    action = np.array([index[a] for a in logged_arms], dtype=np.int64)
    pscore = np.array([float(r["pscore"]) for r in rows])
    y = np.array([1.0 if str(r["decision_id"]) in rewarded else 0.0 for r in rows])
    pi = np.zeros((n, len(arms)))
    mu = np.zeros((n, len(arms)))
    for i, (t, g) in enumerate(zip(targets, loggings, strict=True)):
        for a, p in t.items():
            pi[i, index[a]] = p
        for a, p in g.items():
            mu[i, index[a]] = p
    # The reward model of DR: each action's mean logged reward (silence earns nothing).
    q_arm = np.zeros(len(arms))
    for a, k in index.items():
        taken = action == k
        if taken.any() and a != SILENCE:
            q_arm[k] = float(y[taken].mean())
    q = np.broadcast_to(q_arm, pi.shape).copy()
    return OfflineValue(
        decisions=n, reward=kinds, logged=float(y.mean()),
        estimates=(ips(y, action, pscore, pi, alpha=alpha),
                   snips(y, action, pscore, pi, alpha=alpha),
                   doubly_robust(y, action, pscore, pi, q, alpha=alpha)),
        support=support(action, pscore, pi, mu),
        agreement=float(np.mean(pi.argmax(axis=1) == action)),
    )
