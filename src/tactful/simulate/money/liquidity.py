"""How customers react to their own balance: spend less when money is short, top up from savings.

Spending is not independent of the balance: households cut discretionary spending when their
cash runs low and recover after payday (JPMorgan Chase Institute, "Weathering Volatility",
2015-2019; Baker 2018). Before booking, each customer's checking balance is projected day by day
from the flows already drawn; on days when it is below a cushion (15% of monthly income), each
discretionary card payment is skipped with a probability growing as the balance falls (essentials
-- groceries, fuel, pharmacy, transit -- much less often). Savers whose projected balance still
goes below zero move money from savings first, in round amounts, as long as savings last.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.bank.accounts import Accounts
from tactful.simulate.base.calendar import Window
from tactful.simulate.base.columns import Builder
from tactful.simulate.base.rng import Keyed
from tactful.simulate.base.rows import (
    CH_TRANSFER,
    CHECKING,
    CREDIT_CARD,
    D_OWN_IN,
    D_OWN_OUT,
    SAVINGS,
    Rows,
)
from tactful.simulate.base.taxonomy import code
from tactful.simulate.people.personas import Population

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
CUSHION = 0.15
"""Below this share of monthly income in checking, discretionary spending starts to give way."""
PAIR_TOPUP = 5 * 10**15
PAIR_SWEEP = 7 * 10**15
_ESSENTIAL = np.array(
    [
        code(c)
        for c in (
            "FOOD_AND_DRINK_GROCERIES",
            "TRANSPORTATION_GAS",
            "TRANSPORTATION_PUBLIC_TRANSIT",
            "MEDICAL_PHARMACIES_AND_SUPPLEMENTS",
            "GENERAL_MERCHANDISE_CONVENIENCE_STORES",
        )
    ]
)


def projected_balance(
    w: Window, pop: Population, accts: Accounts, rows: Rows, keep: NDArray[np.bool_]
) -> F64:
    """(n, n_days) projected end-of-day checking balance (card purchases counted as if paid
    from checking the same day, since they are repaid from it)."""
    n, n_days = len(pop), w.n_days
    m = keep & np.isin(rows.slot, [CHECKING, CREDIT_CARD]) & (rows.day >= 0) & (rows.day < n_days)
    m &= ~(
        (rows.slot == CHECKING)
        & (rows.channel == 4)
        & (rows.category == code("LOAN_PAYMENTS_CREDIT_CARD_PAYMENT"))
    )
    flat = rows.cust[m].astype(np.int64) * n_days + rows.day[m]
    flows = np.bincount(flat, weights=rows.amount[m], minlength=n * n_days).reshape(n, n_days)
    out: F64 = (accts.opening[:, CHECKING][:, None] + np.cumsum(flows, axis=1)) / 100.0
    return out


def constrain(
    r: Keyed,
    w: Window,
    pop: Population,
    accts: Accounts,
    rows: Rows,
    discretionary: NDArray[np.bool_],
) -> Rows:
    """Drop the card payments a customer short of money would not make; add savings top-ups."""
    g = pop.gidx
    keep = np.ones(len(rows), dtype=bool)
    bal = projected_balance(w, pop, accts, rows, keep)
    cushion = np.maximum(CUSHION * pop.monthly_income, 100.0)
    prev = np.concatenate([accts.opening[:, CHECKING][:, None] / 100.0, bal[:, :-1]], axis=1)
    pressure = np.clip((cushion[:, None] - prev) / (cushion[:, None] * 2), 0.0, 1.0)
    d = np.flatnonzero(discretionary)
    c, day = rows.cust[d].astype(np.int64), rows.day[d].astype(np.int64)
    strength = np.where(np.isin(rows.category[d], _ESSENTIAL), 0.35, 0.9)
    u = r.uniform("liquidity", g[c], day, rows.sec[d], rows.amount[d])
    keep[d] = u >= pressure[c, day] * strength
    rows = rows.take(np.flatnonzero(keep))
    return _sweeps(r, w, pop, accts, _topups(r, w, pop, accts, rows))


def _sweeps(r: Keyed, w: Window, pop: Population, accts: Accounts, rows: Rows) -> Rows:
    """Savers move what piles up in checking beyond about a month of income to savings.

    Checking is where money passes, not where it is kept: the JPMorgan Chase Institute's median
    family holds 22-43 days of outflows in checking (docs/simulator.md, "Calibration"), and
    customers with a savings account move the surplus there by hand a few days after payday.
    Once a month, after the middle of the month, they move what the projected balance keeps
    above their own ceiling (0.3-1.0 months of income) over the next 45 days.
    """
    n, n_days = len(pop), w.n_days
    savers = accts.exists[:, SAVINGS] & (accts.opened_day[:, SAVINGS] < 0)
    if not np.any(savers):
        return rows
    g = pop.gidx
    bal = projected_balance(w, pop, accts, rows, np.ones(len(rows), dtype=bool))
    ceiling = pop.monthly_income * (0.3 + 0.7 * r.uniform("sweep.ceiling", g))
    b = Builder(Rows)
    b.extend(rows)
    for m in range(w.months):
        lo, hi = int(w.month_start(np.array([m]))[0]), int(w.month_start(np.array([m + 1]))[0])
        hi = min(hi, n_days)
        day = lo + 14 + r.integers("sweep.day", 7, g, m)
        day = np.minimum(day, hi - 1)
        days = np.arange(n_days)[None, :]
        ahead = (days >= day[:, None]) & (days < day[:, None] + 45)
        rest = np.where(ahead, bal, np.inf)
        low = rest.min(axis=1)
        amount = np.floor((low - ceiling) / 50.0) * 50.0
        idx = np.flatnonzero(savers & (amount >= 100) & (day >= 0))
        if len(idx) == 0:
            continue
        minor = (amount[idx] * 100).astype(np.int64)
        sec = 7 * 3600 + r.integers("sweep.sec", 14 * 3600, g[idx], m)
        pair = PAIR_SWEEP + g[idx] * 1000 + m
        for acct, sign, cat, desc in (
            (CHECKING, -1, "TRANSFER_OUT_SAVINGS", D_OWN_OUT),
            (SAVINGS, 1, "TRANSFER_IN_ACCOUNT_TRANSFER", D_OWN_IN),
        ):
            b.add(
                cust=idx,
                slot=acct,
                day=day[idx],
                sec=sec,
                amount=sign * minor,
                channel=CH_TRANSFER,
                category=code(cat),
                desc=desc,
                order=1,
                pair=pair,
                ref=g[idx] % 10_000,
            )
        moved = np.zeros((n, n_days))
        moved[idx, day[idx]] = amount[idx]
        bal = bal - np.cumsum(moved, axis=1)
    return b.build()


def _topups(r: Keyed, w: Window, pop: Population, accts: Accounts, rows: Rows) -> Rows:
    n, n_days = len(pop), w.n_days
    savers = accts.exists[:, SAVINGS]
    if not np.any(savers):
        return rows
    bal = projected_balance(w, pop, accts, rows, np.ones(len(rows), dtype=bool))
    left = accts.opening[:, SAVINGS] / 100.0 * 0.8
    b = Builder(Rows)
    b.extend(rows)
    cushion = np.maximum(0.15 * pop.monthly_income, 100.0)
    for m in range(w.months):
        lo, hi = int(w.month_start(np.array([m]))[0]), int(w.month_start(np.array([m + 1]))[0])
        hi = min(hi, n_days)
        seg = bal[:, lo:hi]
        low = seg < 0
        has = savers & low.any(axis=1) & (left > 50)
        if not np.any(has):
            continue
        first = np.argmax(low, axis=1)
        need = cushion - seg[np.arange(n), first]
        amount = np.minimum(np.ceil(need / 50.0) * 50.0, np.floor(left / 50.0) * 50.0)
        has &= amount > 0
        idx = np.flatnonzero(has)
        day = lo + np.maximum(first[idx] - 1, 0)
        minor = (amount[idx] * 100).astype(np.int64)
        sec = 8 * 3600 + r.integers("topup.sec", 12 * 3600, pop.gidx[idx], m)
        pair = PAIR_TOPUP + pop.gidx[idx] * 1000 + m
        b.add(
            cust=idx,
            slot=CHECKING,
            day=day,
            sec=sec,
            amount=minor,
            channel=CH_TRANSFER,
            category=code("TRANSFER_IN_ACCOUNT_TRANSFER"),
            desc=D_OWN_IN,
            order=1,
            pair=pair,
            ref=pop.gidx[idx] % 10_000,
        )
        b.add(
            cust=idx,
            slot=SAVINGS,
            day=day,
            sec=sec,
            amount=-minor,
            channel=CH_TRANSFER,
            category=code("TRANSFER_OUT_ACCOUNT_TRANSFER"),
            desc=D_OWN_OUT,
            order=1,
            pair=pair,
            ref=pop.gidx[idx] % 10_000,
        )
        left[idx] -= amount[idx]
        added = np.zeros((n, n_days))
        added[idx, day] = amount[idx]
        bal = bal + np.cumsum(added, axis=1)
    return b.build()
