"""Life events with dates: raises, job loss and a new job, a baby, a move, retirement, a new
employer.

Each is drawn per customer from an annual rate (docs/simulator.md, "Life events", gives the
public figures: ~half of employees get a raise a year, BLS displaced-worker and JOLTS layoff
rates, median unemployment spells of ~9-10 weeks, crude birth rates, Census / ONS moving rates)
and then changes the flows after it: the income module ends and starts pay, the bills module
moves rent and utilities, spending shifts (less after a job loss, baby shopping after a birth).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.base.calendar import NEVER, Window
from tactful.simulate.base.rng import Keyed
from tactful.simulate.people.personas import EMPLOYMENT, HOUSING, PERSONA_INDEX, Population
from tactful.simulate.people.regions import ALL_PLACES

I64 = NDArray[np.int64]
EVENT_KINDS: Final = (
    "salary_raise",
    "job_loss",
    "new_job",
    "new_baby",
    "moving_house",
    "retirement",
    "employer_change",
)


@dataclass(slots=True)
class LifeEvents:
    """Per customer: the day of each event (``NEVER`` if it does not happen in the window)."""

    raise_day: I64
    """(n, years): one possible raise per 12-month period of the window."""
    raise_pct: NDArray[np.float64]
    job_loss_day: I64
    new_job_day: I64
    baby_day: I64
    move_day: I64
    retire_day: I64
    new_place: I64
    """Place after the move (same country; usually the same city)."""
    switch_day: I64
    """Last day with the old employer before moving straight to a new one (no job loss)."""

    def table(self, gidx: I64) -> tuple[I64, I64, I64, NDArray[np.float64]]:
        """Flat (customer, kind, day, value) rows of events inside the window."""
        cs, ks, ds, vs = [], [], [], []
        for y in range(self.raise_day.shape[1]):
            m = self.raise_day[:, y] < NEVER
            cs.append(gidx[m])
            ks.append(np.full(m.sum(), 0))
            ds.append(self.raise_day[m, y])
            vs.append(self.raise_pct[m, y])
        for k, arr in (
            (1, self.job_loss_day),
            (2, self.new_job_day),
            (3, self.baby_day),
            (4, self.move_day),
            (5, self.retire_day),
            (6, self.switch_day),
        ):
            m = arr < NEVER
            cs.append(gidx[m])
            ks.append(np.full(m.sum(), k))
            ds.append(arr[m])
            vs.append(np.zeros(m.sum()))
        c, kinds, d = np.concatenate(cs), np.concatenate(ks), np.concatenate(ds)
        v = np.concatenate(vs)
        order = np.lexsort((kinds, d, c))
        return c[order], kinds[order].astype(np.int64), d[order], v[order]


def _within(
    r: Keyed, name: str, gidx: I64, annual: NDArray[np.float64], w: Window, lo: int = 0
) -> I64:
    """A day in [lo, n_days) with the probability of an event at ``annual`` rate, else NEVER."""
    years = w.months / 12.0
    p = 1.0 - (1.0 - np.clip(annual, 0, 1)) ** years
    happens = r.bernoulli(name, p, gidx)
    day = lo + r.integers(name + ".day", max(w.n_days - lo, 1), gidx)
    return np.where(happens, day, NEVER).astype(np.int64)


def draw_life_events(r: Keyed, pop: Population, w: Window) -> LifeEvents:
    g = pop.gidx
    wage = pop.employment == EMPLOYMENT.index("wage")
    gig = pop.employment == EMPLOYMENT.index("gig")
    young = pop.age_band <= 1

    n_years = max(1, -(-w.months // 12))
    ys = np.arange(n_years)
    raise_p = np.where(
        wage, 0.55, np.where(pop.employment == EMPLOYMENT.index("student"), 0.2, 0.0)
    )
    span = np.minimum(365, w.n_days - ys * 365)
    # The yearly rate applies to a whole year: a part-year of the window gets its share of it
    # (a six-month run gets ~33% of wage earners with a raise, not 55%).
    p_span = 1.0 - (1.0 - raise_p[:, None]) ** (span[None, :] / 365.0)
    happens = r.uniform("raise", g[:, None], ys[None, :]) < p_span
    raise_day = ys[None, :] * 365 + (
        r.uniform("raise.day", g[:, None], ys[None, :]) * span[None, :]
    ).astype(np.int64)
    promoted = r.uniform("raise.promo", g[:, None], ys[None, :]) < 0.12
    pct = np.where(
        promoted,
        r.lognormal("raise.pct.p", 0.12, 0.3, g[:, None], ys[None, :]),
        r.lognormal("raise.pct", 0.04, 0.35, g[:, None], ys[None, :]),
    )
    raise_day = np.where(happens & (raise_day < w.n_days), raise_day, NEVER).astype(np.int64)

    retire_p = np.where(
        wage & (pop.age_band == 4), 0.10, np.where(wage & (pop.age_band == 5), 0.3, 0.0)
    )
    retire_day = _within(r, "retire", g, retire_p, w)

    loss_rate = np.where(wage | gig, np.where(young, 0.06, 0.04), 0.0)
    job_loss_day = _within(r, "job_loss", g, loss_rate, w)
    job_loss_day = np.where(job_loss_day < retire_day, job_loss_day, NEVER)
    spell = np.rint(r.lognormal("unemployed", 70.0, 0.7, g)).astype(np.int64)
    new_job_day = np.where(job_loss_day < NEVER, job_loss_day + np.maximum(spell, 14), NEVER)
    new_job_day = np.where(new_job_day < w.n_days, new_job_day, NEVER)
    # Job-to-job moves without unemployment: ~3% of employees a quarter in the UK (ONS Labour
    # Force Survey flows) and more in the US (Census LEHD job-to-job flows), so ~12% a year
    # (18% under 35). Only for those who neither lose their job nor retire in the window; the
    # raises after the move belong to the old employer and do not happen.
    switch_rate = np.where(wage, np.where(young, 0.18, 0.12), 0.0)
    switch_day = _within(r, "switch", g, switch_rate, w, lo=14)
    switch_day = np.where(
        (job_loss_day == NEVER) & (retire_day == NEVER), switch_day, NEVER
    ).astype(np.int64)
    raise_day = np.where(
        raise_day > np.minimum.reduce([job_loss_day, retire_day, switch_day])[:, None],
        NEVER,
        raise_day,
    )

    fam = pop.persona == PERSONA_INDEX["family"]
    yp = pop.persona == PERSONA_INDEX["young_professional"]
    baby_rate = np.where(
        fam & (pop.age_band <= 2) & (pop.children < 3),
        0.09,
        np.where(yp & (pop.age_band >= 1), 0.05, 0.0),
    )
    baby_day = _within(r, "baby", g, baby_rate, w)

    renter = pop.housing == HOUSING.index("rent")
    move_rate = np.where(
        renter,
        np.where(young, 0.2, 0.12),
        np.where(pop.housing == HOUSING.index("parents"), 0.08, 0.05),
    )
    move_day = _within(r, "move", g, move_rate, w, lo=20)
    same_city = r.bernoulli("move.same_city", 0.75, g)
    country_of = np.array([p.country for p in ALL_PLACES])
    new_place = pop.place.copy()
    other = np.flatnonzero(~same_city & (move_day < NEVER))
    for i in other:
        cand = np.flatnonzero(country_of == country_of[pop.place[i]])
        new_place[i] = cand[int(r.integers("move.place", len(cand), g[i]))]
    return LifeEvents(
        raise_day=raise_day,
        raise_pct=np.where(raise_day < NEVER, pct, 0.0),
        job_loss_day=job_loss_day.astype(np.int64),
        new_job_day=new_job_day.astype(np.int64),
        baby_day=baby_day,
        move_day=move_day,
        retire_day=retire_day,
        new_place=new_place.astype(np.int64),
        switch_day=switch_day,
    )
