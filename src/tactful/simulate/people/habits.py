"""Spending habits that change: the causes a spending-spike message is about.

Without this, everyday spending is a stationary process (apart from paydays, trips and a job
loss), so a "your dining spend is up" message could only ever be noise. People do change: they
take up a habit (a new gym friend who likes bars, a teenager's gaming) or cut one back, and a
move brings a furnishing spree. Each change is a dated cause with a factor on the rate of one
kind of spending; ``spending.py`` applies it and ``truth.py`` writes it to
``truth/behaviour_changes.parquet``, so the evaluation can say a spending spike is true because
the simulated person changed, not because some arithmetic crossed a threshold.

Rates and sizes (docs/simulator.md, "Habits"): about one change in a customer's discretionary
spending every 20 months (a modelling choice: no public survey counts "new habits"; household
spending is volatile month to month -- in 60% of households monthly consumption moves by 30% or
more, JPMorgan Chase Institute, "Weathering Volatility", 2015 -- and a lasting shift in one of a
dozen categories every ~20 months stays well inside that); two in three are increases (median
x2.0), one in three cutbacks (median x0.5); median duration four months. After a move, furniture x4
and hardware x2.5 for 60 days (recent movers spend more on furnishing and improvement: Harvard
JCHS, "Improving America's Housing").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.base.calendar import NEVER, Window
from tactful.simulate.base.rng import Keyed
from tactful.simulate.counterparties import merchants as mc
from tactful.simulate.money.spend_kinds import KINDS
from tactful.simulate.people.life_events import LifeEvents
from tactful.simulate.people.personas import Population

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
SHIFT_CAUSES: Final = ("new_habit", "cutback", "moving_house", "new_baby")
HABIT_KINDS: Final = (
    "restaurant",
    "fast_food",
    "coffee",
    "bar",
    "rideshare",
    "clothing",
    "marketplace",
    "electronics",
    "hair_beauty",
    "entertainment",
    "video_games",
    "hardware",
)
"""Kinds of spending in which people take up or drop a habit (discretionary by the simulator's
own reading of them: not groceries, fuel, transit, health, giving)."""
SHIFTS_PER_YEAR: Final = 0.6
UP_SHARE: Final = 2 / 3
UP_MEDIAN, DOWN_MEDIAN, FACTOR_SIGMA = 2.0, 0.5, 0.3
DURATION_MEDIAN_DAYS, DURATION_SIGMA = 120.0, 0.6
MOVE_SPREE: Final = (("furniture", 4.0), ("hardware", 2.5))
MOVE_SPREE_DAYS: Final = 60
BABY_BEFORE, BABY_AFTER = 120, 180
"""Baby shopping runs from ~4 months before a birth to ~6 after (``spending.py``'s window)."""
_KIND_OF: Final = {k.name: i for i, k in enumerate(KINDS)}


@dataclass(slots=True)
class HabitShifts:
    """Dated changes of one kind of spending; ``end`` is exclusive (may lie past the window)."""

    cust: I64
    kind: I64
    """Index into ``spend_kinds.KINDS``."""
    start: I64
    end: I64
    factor: F64
    """Multiplier of the usual rate; NaN for spending that is new altogether (baby shopping)."""
    cause: I64
    """Index into ``SHIFT_CAUSES``."""

    def grid(self, ki: int, n: int, n_days: int) -> F64 | None:
        """(n, n_days) multiplier of kind ``ki``'s rate, or None when nothing changes it."""
        m = np.flatnonzero((self.kind == ki) & np.isfinite(self.factor))
        if len(m) == 0:
            return None
        out = np.ones((n, n_days))
        for i in m:
            lo, hi = max(int(self.start[i]), 0), min(int(self.end[i]), n_days)
            out[self.cust[i], lo:hi] *= self.factor[i]
        return out


def draw_shifts(r: Keyed, w: Window, pop: Population, life: LifeEvents) -> HabitShifts:
    g = pop.gidx
    n_days = w.n_days
    count = r.poisson("habit.n", SHIFTS_PER_YEAR * w.months / 12.0, g)
    rep = np.repeat(np.arange(len(g)), count)
    k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    gg = g[rep]
    kinds = np.array([_KIND_OF[x] for x in HABIT_KINDS])
    kind = kinds[r.integers("habit.kind", len(kinds), gg, k)]
    start = r.integers("habit.start", n_days, gg, k)
    up = r.uniform("habit.up", gg, k) < UP_SHARE
    factor = np.where(
        up,
        r.lognormal("habit.f.up", UP_MEDIAN, FACTOR_SIGMA, gg, k),
        r.lognormal("habit.f.down", DOWN_MEDIAN, FACTOR_SIGMA, gg, k),
    )
    days = np.maximum(
        np.rint(r.lognormal("habit.days", DURATION_MEDIAN_DAYS, DURATION_SIGMA, gg, k)), 21
    ).astype(np.int64)
    cause = np.where(up, 0, 1)
    parts = [(rep, kind, start, start + days, factor, cause)]
    moved = np.flatnonzero(life.move_day < NEVER)
    for name, f in MOVE_SPREE:
        d = life.move_day[moved]
        parts.append(
            (moved, np.full(len(moved), _KIND_OF[name]), d, d + MOVE_SPREE_DAYS,
             np.full(len(moved), f), np.full(len(moved), 2))
        )
    born = np.flatnonzero(life.baby_day < NEVER)
    b = life.baby_day[born]
    parts.append(
        (born, np.full(len(born), _KIND_OF["baby"]), b - BABY_BEFORE, b + BABY_AFTER,
         np.full(len(born), np.nan), np.full(len(born), 3))
    )
    cols = [np.concatenate([p[i] for p in parts]) for i in range(6)]
    order = np.lexsort((cols[1], cols[2], cols[0]))
    return HabitShifts(
        cust=cols[0][order].astype(np.int64),
        kind=cols[1][order].astype(np.int64),
        start=cols[2][order].astype(np.int64),
        end=cols[3][order].astype(np.int64),
        factor=cols[4][order].astype(np.float64),
        cause=cols[5][order].astype(np.int64),
    )


def kind_category(ki: int) -> int:
    """The detailed category code (simulator taxonomy) most merchants of kind ``ki`` carry."""
    t = mc.merchant_table()
    cats = t.category[t.kind == mc.KIND_INDEX[KINDS[ki].name]]
    values, counts = np.unique(cats, return_counts=True)
    return int(values[np.argmax(counts)])
