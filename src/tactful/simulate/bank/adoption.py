"""Products customers open by themselves during the window, without any message from the bank.

People open savings and investment accounts whether or not an app nudges them, and more often
right after more money starts coming in. Without this, no account is ever opened inside a
simulated window and a propensity model has nothing to learn from (the demo's savings model had
no positive label at all), and an engine's offers could never be judged against the customers
who would have opened the product anyway.

Rates (per year, for customers who do not hold the product): savings 7%, investments 2.5%, three
times as likely in the 120 days after a raise, a new job or an employer change. These are chosen
to the order of magnitude of survey figures: the FCA's Financial Lives surveys find roughly one
UK adult in ten opening or switching a savings account in a year, and the Fed's Survey of
Consumer Finances puts direct holding of stocks or funds at a fifth of families, accumulated over
decades (a few percent a year). The account opens with a transfer from checking (10-100% of a
month's income); 60% of the new savers then set up a monthly standing order
(``recurring.py`` starts it after the opening day).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.bank.accounts import Accounts
from tactful.simulate.bank.products import PRODUCT_INDEX
from tactful.simulate.base.calendar import NEVER, Window
from tactful.simulate.base.columns import Builder
from tactful.simulate.base.rng import Keyed
from tactful.simulate.base.rows import (
    CH_TRANSFER,
    CHECKING,
    D_OWN_IN,
    D_OWN_OUT,
    INVESTMENT,
    SAVINGS,
    Rows,
)
from tactful.simulate.base.taxonomy import code
from tactful.simulate.people.churn import Churn
from tactful.simulate.people.life_events import LifeEvents
from tactful.simulate.people.personas import PERSONA_INDEX, Population

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
PAIR_OPENING: Final = 6 * 10**15
"""Pair ids of the opening deposits (checking side and new account side)."""
BASE_RATE: Final = {SAVINGS: 0.07, INVESTMENT: 0.025}
"""Yearly probability of opening the product without holding it (see the module docstring)."""
TRIGGER_BOOST: Final = 3.0
TRIGGER_DAYS: Final = 120


def _triggers(life: LifeEvents) -> I64:
    """(n, k) days on which more money started coming in (NEVER where none)."""
    return np.concatenate(
        [life.raise_day, life.new_job_day[:, None], life.switch_day[:, None]], axis=1
    )


def adopt(
    r: Keyed, w: Window, pop: Population, life: LifeEvents, churn: Churn, accts: Accounts
) -> Accounts:
    """``accts`` with the savings and investment accounts opened inside the window added.

    A day-by-day hazard (base rate, boosted after a trigger) gives each customer's first opening
    day; customers who churn open nothing after deciding to leave.
    """
    g, n, n_days = pop.gidx, len(pop), w.n_days
    days = np.arange(n_days)
    trig = _triggers(life)
    boosted = np.zeros((n, n_days), dtype=bool)
    for k in range(trig.shape[1]):
        t = trig[:, k][:, None]
        boosted |= (days[None, :] >= t) & (days[None, :] < t + TRIGGER_DAYS) & (t < NEVER)
    exists = accts.exists.copy()
    opened = accts.opened_day.copy()
    product = accts.product.copy()
    for slot, rate in BASE_RATE.items():
        daily = 1.0 - (1.0 - rate) ** (1.0 / 365.0)
        p = np.where(boosted, np.minimum(daily * TRIGGER_BOOST, 1.0), daily)
        u = r.uniform(f"adopt.{slot}", g[:, None], days[None, :])
        hit = (u < p) & (days[None, :] < churn.intent_day[:, None])
        first = np.where(hit.any(axis=1), np.argmax(hit, axis=1), NEVER)
        new = ~accts.exists[:, slot] & (first < n_days)
        exists[:, slot] |= new
        opened[:, slot] = np.where(new, first, opened[:, slot])
        if slot == SAVINGS:
            aff = pop.persona == PERSONA_INDEX["affluent"]
            kind = np.where(aff, PRODUCT_INDEX["P-SAV-HY"], PRODUCT_INDEX["P-SAV-EASY"])
        else:
            kind = np.full(n, PRODUCT_INDEX["P-INV-FUNDS"])
        product[:, slot] = np.where(new, kind, product[:, slot])
    return replace(accts, exists=exists, opened_day=opened, product=product)


def opened_in_window(accts: Accounts, slot: int) -> NDArray[np.bool_]:
    """Customers whose ``slot`` account opens inside the window (day >= 0)."""
    return accts.exists[:, slot] & (accts.opened_day[:, slot] >= 0)


def opening_deposits(r: Keyed, pop: Population, accts: Accounts, rows: Builder[Rows]) -> None:
    """The first transfer into each account opened inside the window, on its opening day."""
    for slot in BASE_RATE:
        idx = np.flatnonzero(opened_in_window(accts, slot))
        if len(idx) == 0:
            continue
        g = pop.gidx[idx]
        share = 0.1 + 0.9 * r.uniform(f"adopt.deposit.{slot}", g)
        amount = np.maximum(np.rint(pop.monthly_income[idx] * share / 50.0) * 50.0, 50.0)
        minor = (amount * 100).astype(np.int64)
        day = accts.opened_day[idx, slot]
        sec = 9 * 3600 + r.integers(f"adopt.sec.{slot}", 11 * 3600, g)
        pair = PAIR_OPENING + g * 10 + slot
        out_cat = (
            "TRANSFER_OUT_SAVINGS"
            if slot == SAVINGS
            else "TRANSFER_OUT_INVESTMENT_AND_RETIREMENT_FUNDS"
        )
        for acct, sign, cat, desc in (
            (CHECKING, -1, out_cat, D_OWN_OUT),
            (slot, 1, "TRANSFER_IN_ACCOUNT_TRANSFER", D_OWN_IN),
        ):
            rows.add(
                cust=idx,
                slot=acct,
                day=day,
                sec=sec,
                amount=sign * minor,
                channel=CH_TRANSFER,
                category=code(cat),
                desc=desc,
                order=1,
                pair=pair,
                ref=g % 10_000,
            )
