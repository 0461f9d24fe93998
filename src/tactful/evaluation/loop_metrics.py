"""What one arm of the closed loop did, read off its fork's truth and its own log.

Raw figures per arm and seed (incremental ones are an arm's minus the no-message arm's, taken
when seeds are summarized):

- *actions*: conversions the world answered plus accounts the customers opened on their own
  (a message can bring forward an opening that would have happened anyway; counting both and
  subtracting the silent arm's is what makes the difference incremental);
- *savings opened*: savings accounts opened after the fork, caused or not;
- *fees avoided*: overdraft fees the world dropped because a warning was heeded, read from the
  plan's fee rows in each heeded warning's fee-free fortnight;
- *departures*: customers who left the bank after the fork (switching or fatigue);
- engagement, dismissals, opt-outs, messages, silence, and the auditor's violations.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import polars as pl

from tactful.domain.actions import OutcomeKind
from tactful.evaluation.loop_arms import Arm
from tactful.evaluation.loop_audit import OPT_OUT_RULE, violations
from tactful.evaluation.loop_view import View
from tactful.simulate.world import World
from tactful.simulate.world.effects import SHORTFALL_DAYS
from tactful.simulate.world.plan import read_day

ENGAGEMENT: Final = (OutcomeKind.IMPRESSION, OutcomeKind.OPEN, OutcomeKind.CLICK,
                     OutcomeKind.CONVERT, OutcomeKind.DISMISS, OutcomeKind.OPT_OUT)


@dataclass(slots=True)
class ArmRun:
    name: str
    customers: int
    weeks: float
    moments: int
    silent: int
    messages: int
    outcomes: dict[str, int]
    actions: int
    spontaneous: int
    savings_opened: int
    fees_avoided: float
    """Major units (summed over currencies: the world's customers each bank in one)."""
    departures: int
    fatigue_departures: int
    violations: Counter[str]
    weekly: list[tuple[int, int]] = field(default_factory=list)
    """Per week: (delivered messages, conversions)."""

    def per(self, key: str) -> float:
        """A count per delivered message."""
        delivered = self.outcomes.get("impression", 0)
        return self.outcomes.get(key, 0) / delivered if delivered else 0.0

    @property
    def silence_rate(self) -> float:
        return self.silent / self.moments if self.moments else 0.0

    @property
    def messages_per_customer_week(self) -> float:
        return self.messages / (self.customers * self.weeks) if self.customers else 0.0

    @property
    def opt_out_rate(self) -> float:
        """Opt-outs per customer."""
        return self.outcomes.get("opt_out", 0) / self.customers if self.customers else 0.0

    @property
    def violation_count(self) -> int:
        """Contact-policy violations (sends after an opt-out are the delivery layer's)."""
        return sum(v for k, v in self.violations.items() if k != OPT_OUT_RULE)

    @property
    def after_opt_out(self) -> int:
        return self.violations.get(OPT_OUT_RULE, 0)


def measure(name: str, arm: Arm, world: World, view: View, *, start_day: int,
            end_day: int, customers: int) -> ArmRun:
    log = arm.log
    counts = Counter(k.value for kinds in log.outcomes.values() for k in kinds)
    truth = world.truth()
    start = world.config.start
    after = truth.with_columns(
        ((pl.col("date").str.to_date() - pl.lit(start)).dt.total_days()).alias("day")
    ).filter(pl.col("day") >= start_day)
    opened = after.filter(pl.col("kind") == "account_opened")
    spontaneous = opened.filter(pl.col("cause") == "").height
    savings = opened.filter(pl.col("detail").str.starts_with("P-SAV")).height
    left = after.filter(pl.col("kind") == "left")
    fatigue = left.filter(pl.col("detail") == "fatigue").height
    heeded = after.filter(pl.col("kind") == "shortfall_avoided")
    fees = _fees_avoided(world, view, heeded)
    audit: Counter[str] = Counter()
    for cid, sent in log.sent.items():
        person = view.people[cid]
        opted = {ch: at for (c, ch), at in log.opted_out_at.items() if c == cid}
        audit += violations(sent, timezone=person.timezone, quiet=person.quiet,
                            held=person.held, opted_out_at=opted)
    n_weeks = (end_day - start_day + 6) // 7
    weekly = [[0, 0] for _ in range(n_weeks)]
    for did, kinds in log.outcomes.items():
        s = log.by_id.get(did)
        if s is None:
            continue
        week = min((s.day - start_day) // 7, n_weeks - 1)
        weekly[week][0] += OutcomeKind.IMPRESSION in kinds
        weekly[week][1] += OutcomeKind.CONVERT in kinds
    messages = sum(len(v) for v in log.sent.values())
    return ArmRun(
        name, customers, (end_day - start_day) / 7, log.moments, log.silent, messages,
        {k.value: counts.get(k.value, 0) for k in ENGAGEMENT},
        counts.get("convert", 0) + spontaneous, spontaneous, savings, fees, left.height,
        fatigue, audit, [(a, b) for a, b in weekly])


_FEES: dict[tuple[str, int], pl.DataFrame] = {}


def _fees_avoided(world: World, view: View, heeded: pl.DataFrame) -> float:
    """Fees of the plan in each heeded warning's fee-free fortnight (the world drops them)."""
    if heeded.height == 0:
        return 0.0
    plans = world._plans  # the plan fee rows: the world own truth
    free: dict[int, set[int]] = {}
    for cid, day in heeded.select("customer_id", "day").iter_rows():
        person = view.people[cid]
        cut = int(world.state.cut_day[person.g])
        free.setdefault(person.g, set()).update(
            d for d in range(int(day), int(day) + SHORTFALL_DAYS) if d < cut)
    total = 0
    for g, days in free.items():
        k = int(plans.chunk_of[g])
        plan = plans.chunks[k]
        for d in days:
            if d >= plans.window.n_days:
                continue
            key = (str(plan.tx_path), d)
            rows = _FEES.get(key)
            if rows is None:
                tx = read_day(plan.tx_path, plan.tx_bounds, d)
                rows = tx.filter(pl.col("fee")).select("g", "amount_minor") if tx.height else (
                    pl.DataFrame({"g": [], "amount_minor": []},
                                 schema={"g": pl.Int64, "amount_minor": pl.Int64}))
                _FEES[key] = rows
            hit = rows.filter(pl.col("g") == g)["amount_minor"]
            total += int(-np.asarray(hit.to_numpy()).sum())
    return total / 100.0
