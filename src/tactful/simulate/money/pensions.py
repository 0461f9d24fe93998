"""Pensions (state and private, with yearly uprating) and self-employed invoices.

State pensions are paid on each country's schedule (US Social Security on the 3rd or a mid-month
day, UK State Pension every four weeks, German Rente at the month's end, French CNAV on the 9th,
Spanish INSS around the 25th, Dutch AOW around the 23rd) and rise once a year on the country's
uprating date (US COLA in January, UK triple lock in April, German Rentenanpassung in July).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.base import calendar as cal
from tactful.simulate.base.calendar import NEVER, Window
from tactful.simulate.base.columns import Builder
from tactful.simulate.base.rng import Keyed
from tactful.simulate.base.rows import (
    CH_TRANSFER,
    D_INVOICE,
    D_PENSION,
    Rows,
)
from tactful.simulate.base.taxonomy import code
from tactful.simulate.counterparties import payers
from tactful.simulate.counterparties.names import name_id
from tactful.simulate.money.pay import (
    SLOT_BUSINESS,
    SLOT_PENSION,
    SLOT_PRIVATE,
    PayWriter,
    country_codes,
)
from tactful.simulate.money.series import (
    K_BUSINESS,
    K_PENSION,
    R_UPRATING,
    PriceChanges,
    Series,
)
from tactful.simulate.people.life_events import LifeEvents
from tactful.simulate.people.personas import EMPLOYMENT, Population
from tactful.simulate.people.regions import COUNTRIES

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]

_UPRATING = {
    "US": (0, 0.028),
    "GB": (3, 0.04),
    "DE": (6, 0.04),
    "FR": (0, 0.022),
    "ES": (0, 0.03),
    "NL": (0, 0.025),
}
"""State pension uprating: (calendar month, typical rate)."""
_STATE_PENSION_DOM = {"US": 3, "GB": 0, "DE": 31, "FR": 9, "ES": 25, "NL": 23}


def pension_series(
    r: Keyed,
    w: Window,
    pop: Population,
    life: LifeEvents,
    stop: I64,
    changes: Builder[PriceChanges],
    pay: PayWriter,
) -> None:
    g = pop.gidx
    retired = pop.employment == EMPLOYMENT.index("pension")
    retiring = life.retire_day < NEVER
    idx = np.flatnonzero(retired | retiring)
    start = np.where(retired[idx], -400, life.retire_day[idx] + 30)
    share_state = np.where(retired[idx], 0.65, 0.4)
    private = r.bernoulli("pension.private", 0.6, g[idx])
    share_state = np.where(private | ~retired[idx], share_state, 1.0)
    countries = country_codes(pop, idx)
    dom = np.array([_STATE_PENSION_DOM[c] for c in countries])
    gb = countries == "GB"
    first_monday = int((0 - w.weekday(np.array([0]))[0]) % 7)
    cad = np.where(gb, cal.FOUR_WEEKLY, cal.MONTHLY).astype(np.int64)
    anchor = np.where(
        gb,
        first_monday + 7 * r.integers("pension.phase", 4, g[idx]),
        np.where(
            dom == 3,
            np.where(r.bernoulli("ssa", 0.3, g[idx]), 3, 10 + r.integers("ssa.dom", 15, g[idx])),
            dom,
        ),
    )
    state = [payers.PENSION_PAYERS[c][0] for c in countries]
    base = pay.add(
        idx,
        SLOT_PENSION,
        K_PENSION,
        share_state,
        start,
        stop[idx],
        np.array([name_id(s) for s in state], dtype=np.int32),
        D_PENSION,
        cad,
        anchor,
        "INCOME_RETIREMENT_PENSION",
    )
    # Yearly uprating of state pensions on the country's date.
    first = w.month_start(np.arange(w.months + 1))
    cal_m = w.calendar_month(first)
    for c, (month, rate) in _UPRATING.items():
        m = countries == c
        for y, day in enumerate(first[cal_m == month]):
            ok = m & (start < day) & (day < stop[idx])
            changes.add(
                cust=idx[ok],
                slot=SLOT_PENSION,
                day=np.full(ok.sum(), day),
                amount=np.rint(base[ok] * (1 + rate) ** (y + 1)).astype(np.int64),
                reason=R_UPRATING,
            )
    pv = idx[private | ~retired[idx]]
    pc = country_codes(pop, pv)
    pay.add(
        pv,
        SLOT_PRIVATE,
        K_PENSION,
        np.where(retired[pv], 0.35, 0.2),
        np.where(retired[pv], -400, life.retire_day[pv] + 30),
        stop[pv],
        np.array([name_id(payers.PENSION_PAYERS[c][1]) for c in pc], dtype=np.int32),
        D_PENSION,
        np.full(len(pv), cal.MONTHLY),
        np.full(len(pv), 1),
        "INCOME_RETIREMENT_PENSION",
    )


def invoice_rows(
    r: Keyed,
    w: Window,
    pop: Population,
    idx: I64,
    stop: I64,
    series: Builder[Series],
    rows: Builder[Rows],
) -> None:
    """Small-business owners are paid by clients at irregular times and amounts."""
    g = pop.gidx[idx]
    series.add(
        cust=idx,
        slot=SLOT_BUSINESS,
        kind=K_BUSINESS,
        cadence=cal.IRREGULAR,
        start=-400,
        end=stop[idx],
        amount=np.rint(pop.income[idx] / 36 * 100),
        sigma=0.7,
        channel=CH_TRANSFER,
        category=code("INCOME_OTHER_INCOME"),
        desc=D_INVOICE,
    )
    lam = np.full(len(idx), 3.0 * w.n_days / 30.4)
    count = r.poisson("invoice.n", lam, g)
    rep = np.repeat(np.arange(len(idx)), count)
    k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    gg = g[rep]
    day = cal.roll(
        w,
        (r.uniform("invoice.day", gg, k) * w.n_days).astype(np.int64),
        np.full(len(rep), cal.ROLL_FOLLOWING),
    )
    keep = (day < w.n_days) & (day < stop[idx][rep])
    amount = np.rint(
        pop.income[idx][rep] / 36 * r.lognormal("invoice.amount", 1.0, 0.7, gg, k) * 100
    )
    clients = np.empty(len(rep), dtype=np.int32)
    for ci, c in enumerate(COUNTRIES):
        m = pop.country[idx][rep] == ci
        if np.any(m):
            names = payers.employers(c)
            clients[m] = np.array([name_id(x) for x in names])[
                r.integers("invoice.client", 6, gg[m]) * 17 % len(names)
            ]
    rows.add(
        cust=idx[rep][keep],
        day=day[keep],
        sec=(9 * 3600 + r.integers("invoice.sec", 8 * 3600, gg, k))[keep],
        amount=amount[keep].astype(np.int64),
        channel=CH_TRANSFER,
        category=code("INCOME_OTHER_INCOME"),
        cparty=clients[keep],
        desc=D_INVOICE,
        ref=r.integers("invoice.ref", 10**5, gg, k)[keep],
        order=1,
        sslot=SLOT_BUSINESS,
    )
