"""Everyday card spending and cash: how much, when, where.

Each (customer, kind) is an inhomogeneous Poisson process over days, sampled by thinning: draw
candidate days at the highest rate, keep each with probability rate(day) / highest rate. The
rate is the customer's budget for the kind (share of income / typical ticket) times the kind's
weekday and seasonal profile times the customer's state that day: more spending in the days after
pay arrives (Gelman et al., Science 2014; Stephens 2006), less after a job loss (Ganong & Noel
2019: ~6-12%), a fading card for a churner, almost nothing at home while travelling, baby
shopping around a birth. Customers return to a few favourite merchants (three favourites per
kind cover ~90% of visits) and to the same stores.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.base.calendar import NEVER, Window
from tactful.simulate.base.columns import Builder
from tactful.simulate.base.rng import Keyed
from tactful.simulate.base.rows import (
    CARD,
    CH_ATM,
    CH_CARD,
    CH_FEE,
    CH_ONLINE,
    CHECKING,
    CREDIT_CARD,
    D_ATM,
    D_CARD,
    D_CARD_ONLINE,
    D_FEE_ATM,
    FOLLOW_FEE,
    Rows,
)
from tactful.simulate.base.taxonomy import code
from tactful.simulate.counterparties import merchants as mc
from tactful.simulate.money.spend_kinds import KINDS, profile_tables
from tactful.simulate.people.churn import Churn
from tactful.simulate.people.habits import HabitShifts
from tactful.simulate.people.life_events import LifeEvents
from tactful.simulate.people.personas import HOUSING, PERSONA_INDEX, Population
from tactful.simulate.people.regions import COUNTRIES, PROFILES, REGIONS

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
PAIR_ATM: Final = 4 * 10**15
_FAV: Final = np.array([0.55, 0.25, 0.12])
TICKET_WIDEN: Final = 0.55
"""Added to every kind's ticket spread: real card tickets have a long tail (the ULB European
card sample's p99 is ~51x its median; each kind's tidy spread alone gave ~10x)."""
MONTH_SIGMA: Final = 0.55
BIG_SHARE, BIG_TIMES, BIG_SIGMA = 0.03, 8.0, 0.8
"""1.5% of purchases are a big one, ~6x the kind's ticket (the new sofa, the laptop, the
winter coat): the rest of that tail."""
_ATM_PER_MONTH: Final = {"DE": 2.5, "FR": 1.5, "ES": 2.0, "NL": 0.8, "GB": 1.2, "US": 1.0}
_ATM_AMOUNTS: Final = {
    "US": ((20, 40, 60, 80, 100, 200), (0.2, 0.25, 0.2, 0.1, 0.15, 0.1)),
    "GB": ((10, 20, 30, 50, 100), (0.15, 0.3, 0.15, 0.25, 0.15)),
    "EU": ((20, 50, 100, 150, 200), (0.15, 0.35, 0.3, 0.1, 0.1)),
}


def day_factors(
    w: Window,
    pop: Population,
    life: LifeEvents,
    churn: Churn,
    paid: NDArray[np.bool_],
    away: NDArray[np.bool_],
) -> tuple[F64, F64]:
    """(n, n_days) multipliers of home spending and of online spending on each day."""
    n, n_days = paid.shape
    days = np.arange(n_days)
    idx = np.where(paid, days[None, :], -10_000)
    last = np.maximum.accumulate(idx, axis=1)
    since = days[None, :] - last
    boost = 1.0 + 0.3 * np.exp(-np.minimum(since, 60) / 3.0)
    jobless = (days[None, :] >= life.job_loss_day[:, None]) & (
        days[None, :] < life.new_job_day[:, None]
    )
    state = boost * np.where(jobless, 0.88, 1.0)
    state = state * churn.activity(
        np.repeat(np.arange(n), n_days).reshape(n, n_days), days[None, :]
    )
    home: F64 = state * np.where(away, 0.08, 1.0)
    online: F64 = state * np.where(away, 0.4, 1.0)
    return home.astype(np.float32).astype(np.float64), online


def month_factors(r: Keyed, w: Window, pop: Population) -> F64:
    """(n, n_days) a multiplier of everyday spending per customer and calendar month.

    Households do not spend the same every month: the JPMorgan Chase Institute finds a typical
    month-to-month change of total spending of ~30% ("Weathering Volatility 2.0", 2019), partly
    lumpy purchases, partly months of going out, visiting, mending. Lognormal, sigma
    ``MONTH_SIGMA``, mean 1 so that yearly spending is unchanged.
    """
    n_days = w.n_days
    month = w.calendar_month(np.arange(n_days))
    index = np.cumsum(np.concatenate([[0], np.diff(month) != 0]))
    months = int(index[-1]) + 1
    f = r.lognormal(
        "spend.month", np.exp(-(MONTH_SIGMA**2) / 2.0), MONTH_SIGMA, pop.gidx[:, None],
        np.arange(months)[None, :],
    )
    out: F64 = f[:, index]
    return out


def spending_rows(
    r: Keyed,
    w: Window,
    pop: Population,
    life: LifeEvents,
    home: F64,
    online_f: F64,
    card_share: F64,
    rows: Builder[Rows],
    shifts: HabitShifts,
) -> None:
    g = pop.gidx
    n, n_days = home.shape
    week, season, hours = profile_tables()
    wd = w.weekday(np.arange(n_days))
    cal = w.calendar_month(np.arange(n_days))
    price = np.array([PROFILES[x].price_level for x in REGIONS])[pop.region]
    region_median = 47_000 * np.array([PROFILES[x].income_scale for x in REGIONS])[pop.region]
    ticket_scale = (pop.income / region_median) ** 0.3
    hour_cum = np.cumsum(hours, axis=1)
    t = mc.merchant_table()
    moved = life.move_day < NEVER
    grid_max = (online_f.max(axis=1), home.max(axis=1))
    for ki, kind in enumerate(KINDS):
        part = _participation(r, pop, kind.name, kind.participation, ki)
        ticket = kind.ticket * price * ticket_scale
        per_day = kind.share * pop.spend * pop.monthly_income / ticket / 30.44 * part
        # A longer tail at the same spending and the same number of purchases: the typical
        # ticket shrinks by what the wider spread and the rare big purchases add to the mean.
        sigma = kind.sigma + TICKET_WIDEN
        tail_mean = np.exp((sigma**2 - kind.sigma**2) / 2.0) * (
            1.0 + BIG_SHARE * (BIG_TIMES * np.exp(BIG_SIGMA**2 / 2.0) - 1.0)
        )
        if kind.name == "baby":
            per_day = np.where(
                life.baby_day < NEVER, 0.02 * pop.monthly_income / ticket / 30.44, 0.0
            )
        if kind.name == "groceries":
            per_day = per_day * np.where(pop.persona == PERSONA_INDEX["family"], 1.3, 1.0)
        shift = shifts.grid(ki, n, n_days)
        top = np.ones(n) if shift is None else np.maximum(shift.max(axis=1), 1.0)
        per_day = per_day * top
        f_day = week[ki][wd] * season[ki][cal]
        if kind.name == "groceries":
            sunday_closed = np.isin(np.array(COUNTRIES)[pop.country], ["DE"])
        grid = home if kind.daily else online_f
        peak = f_day.max() * grid_max[int(kind.daily)]
        lam = per_day * peak * n_days
        count = r.poisson(f"spend.n.{ki}", lam, g)
        rep = np.repeat(np.arange(n), count)
        j = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        gg = g[rep]
        day = (r.uniform(f"spend.day.{ki}", gg, j) * n_days).astype(np.int64)
        rate = f_day[day] * grid[rep, day]
        if shift is not None:
            rate = rate * shift[rep, day] / top[rep]
        if kind.name == "groceries":
            rate = np.where(sunday_closed[rep] & (wd[day] == 6), rate * 0.03, rate)
        if kind.name == "baby":
            rate = rate * (np.abs(day - life.baby_day[rep] - 30) < 150)
        keep = r.uniform(f"spend.keep.{ki}", gg, j) * peak[rep] < rate
        rep, j, gg, day = rep[keep], j[keep], gg[keep], day[keep]
        if len(rep) == 0:
            continue
        u_h = r.uniform(f"spend.hour.{ki}", gg, j)
        hour = np.minimum((hour_cum[ki][None, :] <= u_h[:, None]).sum(axis=1), 23)
        sec = hour * 3600 + r.integers(f"spend.sec.{ki}", 3600, gg, j)
        amount = r.lognormal(f"spend.amt.{ki}", ticket[rep] / tail_mean, sigma, gg, j)
        big = r.uniform(f"spend.big.{ki}", gg, j) < BIG_SHARE
        times = r.lognormal(f"spend.bigx.{ki}", BIG_TIMES, BIG_SIGMA, gg, j)
        amount = np.maximum(np.where(big, amount * times, amount), 0.5)
        # Favourite merchants, new ones after a move to another city.
        phase = (moved[rep] & (day >= life.move_day[rep])).astype(np.int64)
        u_f = r.uniform(f"spend.fav.{ki}", gg, j)
        fav = np.searchsorted(np.cumsum(_FAV), u_f, side="right")
        u_m = np.where(
            fav < 3,
            r.uniform(f"spend.favm.{ki}", gg, fav * 2 + phase),
            r.uniform(f"spend.other.{ki}", gg, j),
        )
        merchant = mc.pick(pop.country[rep], kind.name, u_m, COUNTRIES)
        place = np.where(phase == 1, life.new_place[rep], pop.place[rep])
        store = np.where(fav < 3, fav, 3 + r.integers(f"spend.store.{ki}", 5, gg, j))
        store_key = r.integers("store", 10**9, place, merchant, store)
        pay_key = r.integers(f"spend.ref.{ki}", 10**9, gg, j)
        ref = np.where(t.placeholder[merchant] == 1, store_key, pay_key)
        on_card = r.uniform(f"spend.cc.{ki}", gg, j) < card_share[rep]
        is_online = t.is_online[merchant]
        rows.add(
            cust=rep,
            slot=np.where(on_card, CREDIT_CARD, CHECKING),
            day=day,
            sec=sec,
            amount=-np.rint(amount * 100).astype(np.int64),
            lkind=CARD,
            channel=np.where(is_online, CH_ONLINE, CH_CARD),
            category=t.category[merchant],
            merchant=merchant,
            desc=np.where(is_online, D_CARD_ONLINE, D_CARD),
            ref=ref,
            order=2,
            mcc_missing=r.bernoulli(f"spend.mcc.{ki}", 0.08, gg, j),
            place=np.where(phase == 1, place, -1),
        )
    _atm(r, w, pop, home, rows)


def _participation(r: Keyed, pop: Population, kind: str, base: float, ki: int) -> F64:
    g = pop.gidx
    young = pop.age_band <= 1
    old = pop.age_band >= 5
    p = np.full(len(g), base)
    if kind == "fuel":
        p = np.where(pop.car, 1.0, 0.0)
    elif kind == "parking":
        p = np.where(pop.car, 0.5, 0.0)
    elif kind == "transit":
        p = np.where(pop.car, 0.3, 0.9) * np.where(
            np.array(COUNTRIES)[pop.country] == "US", 0.5, 1.0
        )
    elif kind == "bar":
        p = np.where(young, 0.8, np.where(old, 0.2, base))
    elif kind in ("video_games", "rideshare"):
        p = np.where(young, 0.55, np.where(old, 0.05, base))
    elif kind == "hardware":
        p = np.where(pop.housing == HOUSING.index("rent"), 0.3, 0.8)
    elif kind in ("doctor", "dentist"):
        p = p * np.where(np.array(COUNTRIES)[pop.country] == "US", 1.6, 0.8)
    elif kind == "pharmacy":
        p = np.where(old, 0.98, base)
    elif kind == "flights":
        p = np.zeros(len(g))
    out: F64 = r.bernoulli(f"part.{ki}", np.clip(p, 0, 1), g).astype(np.float64)
    return out


def _atm(r: Keyed, w: Window, pop: Population, home: F64, rows: Builder[Rows]) -> None:
    """Cash withdrawals in round amounts; US out-of-network ATMs charge a fee."""
    g = pop.gidx
    n, n_days = home.shape
    country = np.array(COUNTRIES)[pop.country]
    rate = np.array([_ATM_PER_MONTH[c] for c in country]) / 30.44
    rate = rate * np.where(pop.age_band >= 5, 1.5, 1.0) * np.where(pop.age_band <= 1, 0.7, 1.0)
    peak = 1.35
    count = r.poisson("atm.n", rate * peak * n_days, g)
    rep = np.repeat(np.arange(n), count)
    j = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    gg = g[rep]
    day = (r.uniform("atm.day", gg, j) * n_days).astype(np.int64)
    keep = r.uniform("atm.keep", gg, j) * peak < home[rep, day]
    rep, j, gg, day = rep[keep], j[keep], gg[keep], day[keep]
    zone = np.where(np.isin(country[rep], ["US"]), "US", np.where(country[rep] == "GB", "GB", "EU"))
    amount = np.zeros(len(rep))
    for z, (vals, ws) in _ATM_AMOUNTS.items():
        m = zone == z
        amount[m] = np.array(vals)[r.categorical("atm.amount", np.array(ws), gg[m], j[m])]
    amount = amount * np.where(pop.income[rep] > 80_000, 1.5, 1.0)
    out_of_network = (zone == "US") & r.bernoulli("atm.oon", 0.3, gg, j)
    surcharge = np.where(out_of_network, 3.15, 0.0)
    sec = 7 * 3600 + r.integers("atm.sec", 15 * 3600, gg, j)
    pair = np.where(out_of_network, PAIR_ATM + gg * 10**5 + j, -1)
    minor = -np.rint((amount + surcharge) * 100).astype(np.int64)
    rows.add(
        cust=rep,
        slot=CHECKING,
        day=day,
        sec=sec,
        amount=minor,
        lkind=CARD,
        channel=CH_ATM,
        category=code("TRANSFER_OUT_WITHDRAWAL"),
        desc=D_ATM,
        order=2,
        pair=pair,
        ref=r.integers("atm.ref", 10**9, gg, j),
    )
    f = np.flatnonzero(out_of_network)
    fee = np.array([PROFILES[REGIONS[2]].atm_fee_minor])
    rows.add(
        cust=rep[f],
        slot=CHECKING,
        day=day[f],
        sec=sec[f],
        amount=-np.broadcast_to(fee, f.shape),
        lkind=FOLLOW_FEE,
        channel=CH_FEE,
        category=code("BANK_FEES_ATM_FEES"),
        desc=D_FEE_ATM,
        order=3,
        pair=pair[f],
    )
