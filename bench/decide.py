"""The decision's speed: one decision over 50 candidates, in process.

Measured in one process, on the same inputs:
* ``DecisionPolicy.decide`` -- engagement rules, consent, level, rhythm, grouping, channel and
  time, the contact policy, the attention budget and Thompson sampling over the cached pools of
  posterior draws, with the exact pscore -- p50 / p99 over many decisions (each its own id, so
  its own row of the pool). Placement ``feed`` (50 candidate-channel pairs) is the figure the
  target is for (issue 18: p99 < 1 ms); ``outbound`` (up to four channels each) beside it;
* the naive per-candidate loop: the same decision drawing each candidate's posterior afresh
  (``rng.beta`` per candidate, per decision) -- what the pool saves;
* where the time goes: the arbitration alone (``bandit.choose`` on the 50 columns), and the
  rest (rules, contact policy, Python around them).

    python bench/decide.py [--decisions 3000]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import load, save

from tactful.decide.bandit import DrawPool, arm_key, choose
from tactful.decide.catalog import ActionKind, ActionsCatalog
from tactful.decide.contact import ContactHistory, Send, SensitiveEvent
from tactful.decide.policy import (
    Candidate,
    CustomerContext,
    DecisionInputs,
    DecisionPolicy,
    Placement,
    decision_id,
)
from tactful.domain.enums import Channel, PersonalizationLevel
from tactful.domain.records import QuietHours

AT = datetime(2026, 3, 2, 18, tzinfo=UTC)


class FreshDraws(DrawPool):
    """The naive way: every candidate's posterior drawn again for every decision."""

    def rates(self, arm: str, alpha: float, beta: float) -> np.ndarray:  # type: ignore[override]
        return np.random.default_rng().beta(alpha, beta, size=self.draws)


def inputs(n: int, placement: Placement, k: int) -> DecisionInputs:
    catalog = ActionsCatalog.default()
    insights = [a for a in catalog.actions.values() if a.kind is not ActionKind.OFFER
                and not a.cap_exempt]
    offers = [a for a in catalog.actions.values() if a.kind is ActionKind.OFFER]
    candidates = []
    for i in range(k):
        if i % 10 == 9:
            offer = offers[i % len(offers)]
            pid = f"P-{i}"
            candidates.append(Candidate(f"{offer.id}.{pid}", pid))
        else:
            spec = insights[i % len(insights)]
            candidates.append(Candidate(spec.id, f"s{i}", 0.3 + (i % 7) / 10,
                                        ("low", "normal", "high")[i % 3],
                                        insight_ids=(f"ins-{i}",)))
    customer = CustomerContext(
        "CUS-BENCH", "Europe/Paris", PersonalizationLevel.ADVANCED,
        (Channel.IN_APP, Channel.PUSH, Channel.EMAIL, Channel.SMS),
        frozenset({"personalization", "marketing", "profiling"}), QuietHours(dtime(22), dtime(7)),
        None, 8, 5.0)
    history = ContactHistory(
        sends=tuple(Send(AT - timedelta(days=d, hours=3), Channel.IN_APP, "spending_spike",
                         decided_at=AT - timedelta(days=d, hours=3)) for d in range(1, 8)),
        dismissed=frozenset({"budget_progress:s5"}), ignores={"new_recurring": 1},
        events=((SensitiveEvent.OVERDRAFT_FEE, AT - timedelta(days=30)),))
    features = {"unit": 100.0, "holds_savings": 0.0, "holds_credit_card": 0.0, "holds_loan": 0.0,
                "shortfall_forecast": 0.0, "checking_balance_min_30d": 400_000.0}
    return DecisionInputs(decision_id("CUS-BENCH", AT + timedelta(seconds=n), placement.value),
                          customer, AT, placement, tuple(candidates), features, history)


def latencies(policy: DecisionPolicy, batch: list[DecisionInputs]) -> tuple[float, float, int]:
    for warm in batch[:50]:
        policy.decide(warm)
    out = []
    silent = 0
    for item in batch:
        start = time.perf_counter()
        result = policy.decide(item)
        out.append(time.perf_counter() - start)
        silent += result.decision.is_silence
    ms = np.array(out) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99)), silent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=3000)
    parser.add_argument("--candidates", type=int, default=50)
    args = parser.parse_args()
    catalog = ActionsCatalog.default()
    rows = []
    for placement in (Placement.FEED, Placement.OUTBOUND):
        batch = [inputs(n, placement, args.candidates) for n in range(args.decisions)]
        pairs = len([c for c in DecisionPolicy(catalog).decide(batch[0]).considered
                     if c.channel is not None])
        for name, pool in (("Tactful (cached posterior pools)", None),
                           ("naive: fresh draws per candidate", FreshDraws(draws=1000))):
            policy = DecisionPolicy(catalog)
            if pool is not None:
                policy.pool = pool
            n = args.decisions if pool is None else max(args.decisions // 5, 200)
            p50, p99, silent = latencies(policy, batch[:n])
            rows.append({"placement": placement.value, "policy": name,
                         "candidates": args.candidates, "candidate-channel pairs": pairs,
                         "decisions": n, "p50 ms": round(p50, 3), "p99 ms": round(p99, 3),
                         "silent": f"{silent / n:.0%}", "load": load()})
            print(rows[-1], flush=True)
    # the arbitration alone, on 50 open columns
    pool = DrawPool(draws=1000)
    arms = [(arm_key(f"a{i}", "in_app"), 1.0 + i % 5, 9.0, True) for i in range(50)]
    weights = np.linspace(5, 40, 50)
    times = []
    for seed in range(args.decisions):
        start = time.perf_counter()
        choose(pool, arms, weights, floor=2.0, row_seed=seed)
        times.append(time.perf_counter() - start)
    ms = np.array(times[50:]) * 1000
    rows.append({"placement": "-", "policy": "arbitration alone (bandit.choose, 50 arms)",
                 "candidates": 50, "candidate-channel pairs": 50, "decisions": len(ms),
                 "p50 ms": round(float(np.percentile(ms, 50)), 3),
                 "p99 ms": round(float(np.percentile(ms, 99)), 3), "silent": "-",
                 "load": load()})
    print(rows[-1])
    print(f"written {save('decide', rows)}")


if __name__ == "__main__":
    main()
