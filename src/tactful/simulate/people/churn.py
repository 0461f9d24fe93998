"""Churn trajectories: the decision to leave, then the slow move of a customer's money.

Retail banks lose roughly 5-15% of customers a year (docs/simulator.md, "Churn"). Leaving a
bank is rarely one event: the customer decides (``intent``), redirects the salary to the new
bank a few weeks later, moves bills one by one, uses the old card less, logs in less, and
finally empties and closes the accounts. Each step is dated and written to the truth. A closure
after the window's end is recorded as an intent in progress (no closure date yet).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.base.calendar import NEVER, Window
from tactful.simulate.base.rng import Keyed
from tactful.simulate.people.personas import HABITS, PERSONA_INDEX, Population

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


@dataclass(slots=True)
class Churn:
    intent_day: I64
    salary_move_day: I64
    closure_day: I64
    """Day the accounts are closed; may be >= n_days (still open at the end of the window)."""

    @property
    def churner(self) -> NDArray[np.bool_]:
        return self.intent_day < NEVER

    def activity(self, cust: I64, day: I64) -> F64:
        """Share of the customer's usual card spending and app use still at this bank on ``day``:
        1 before the intent, falling linearly to 0.15 at closure, 0 after."""
        i, c = self.intent_day[cust], self.closure_day[cust]
        frac = np.clip((day - i) / np.maximum(c - i, 1), 0.0, 1.0)
        out = np.where(day < i, 1.0, 1.0 - 0.85 * frac)
        return np.where(day >= c, 0.0, out)

    def series_end(self, r: Keyed, gidx: I64, cust: I64, slot: I64) -> I64:
        """When each bill or subscription of a churner is moved away (NEVER for others)."""
        lo = self.salary_move_day[cust]
        hi = self.closure_day[cust]
        u = r.uniform("churn.series_end", gidx[cust], slot)
        day = lo + (u * np.maximum(hi - lo, 1)).astype(np.int64)
        return np.where(self.intent_day[cust] < NEVER, day, NEVER)


def draw_churn(r: Keyed, pop: Population, w: Window) -> Churn:
    g = pop.gidx
    base = np.full(len(g), 0.08)
    base = np.where(pop.persona == PERSONA_INDEX["student"], 0.14, base)
    base = np.where(pop.persona == PERSONA_INDEX["gig_worker"], 0.13, base)
    base = np.where(pop.persona == PERSONA_INDEX["young_professional"], 0.11, base)
    base = np.where(pop.persona == PERSONA_INDEX["retiree"], 0.04, base)
    base = np.where(pop.mortgage_here, base * 0.4, base)
    base = np.where(pop.habit == HABITS.index("dormant"), base * 1.5, base)
    years = w.months / 12.0
    p = 1.0 - (1.0 - base) ** years
    happens = r.bernoulli("churn", p, g)
    # Intent early enough that some of the trajectory is visible.
    intent = (r.uniform("churn.intent", g) * max(w.n_days - 10, 1)).astype(np.int64)
    move = intent + 7 + r.integers("churn.salary", 24, g)
    close = move + 20 + r.integers("churn.close", 56, g)
    never = np.full(len(g), NEVER, dtype=np.int64)
    return Churn(
        intent_day=np.where(happens, intent, never),
        salary_move_day=np.where(happens, move, never),
        closure_day=np.where(happens, close, never),
    )
