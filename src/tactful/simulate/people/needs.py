"""The customer's hidden money needs, day by day, by the simulator's own definitions.

A balance message helps when the customer is really short or really has money lying idle, and
whether they are is a fact of the simulated world, not of any engine's rule. Each need is read
off the simulated balance path relative to the customer's *own* pay cycle and obligations, with
buffers taken from public figures (docs/simulator.md, "Hidden needs"):

- **shortfall**: the checking balance is >= 0 at the end of the day and goes below zero before
  the customer's next pay arrives (their own horizon: the next income payment, at most
  ``CYCLE_CAP_DAYS`` ahead for those with none). Flows never react to the engine's messages,
  so this is the balance the customer would have without a reaction to a warning.
- **stressed** (low balance): after the bills already due before the next pay, less than an
  emergency buffer of $400 at the region's price level is left. $400 is the Federal Reserve's
  SHED benchmark ("Economic Well-Being of U.S. Households", 2023: 63% of adults would cover an
  unexpected $400 expense with cash or its equivalent).
- **idle cash**: the checking balance stayed above six weeks of take-home pay for a whole
  quarter (``IDLE_DAYS``). Six weeks is the cash buffer the JPMorgan Chase Institute recommends
  to weather a simultaneous dip in income and spike in spending ("Weathering Volatility 2.0: A
  Monthly Stress Test to Guide Savings", 2019, from 6 million checking accounts); money above it
  for a quarter is not needed for day-to-day swings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.base.rows import CHECKING
from tactful.simulate.generate import Chunk
from tactful.simulate.money.series import (
    INCOME_KINDS,
    K_BILL,
    K_CHILDCARE,
    K_LOAN,
    K_MORTGAGE,
    K_RENT,
    K_SUBSCRIPTION,
)
from tactful.simulate.people.regions import PROFILES, REGIONS

I64 = NDArray[np.int64]
B = NDArray[np.bool_]
EMERGENCY_USD: Final = 400.0
BUFFER_WEEKS: Final = 6.0
IDLE_DAYS: Final = 90
CYCLE_CAP_DAYS: Final = 35
"""Horizon for a customer with no pay ahead: a monthly cycle and a few days' slack."""
BILL_KINDS: Final = (K_BILL, K_SUBSCRIPTION, K_RENT, K_MORTGAGE, K_LOAN, K_CHILDCARE)


@dataclass(slots=True)
class Needs:
    """(n, n_days) per customer and local day of the window."""

    shortfall_day: NDArray[np.int32]
    """First day the balance goes below zero before the next pay, -1 if it does not."""
    stressed: B
    idle: B


def _next(flag: B) -> NDArray[np.int64]:
    """For each day, the first later day on which ``flag`` holds (n_days + big if none)."""
    n, n_days = flag.shape
    big = n_days + 10_000
    at = np.where(flag, np.arange(n_days)[None, :], big)
    at_or_after = np.minimum.accumulate(at[:, ::-1], axis=1)[:, ::-1]
    out: NDArray[np.int64] = np.concatenate(
        [at_or_after[:, 1:], np.full((n, 1), big)], axis=1
    ).astype(np.int64)
    return out


def needs_of(ch: Chunk) -> Needs:
    """The hidden needs of every customer of ``ch`` on every day of the window."""
    b, s, pop = ch.booked, ch.series, ch.pop
    rows = b.rows
    n, n_days = ch.checking_eod.shape
    days = np.arange(n_days)[None, :]
    eod = ch.checking_eod
    has = ch.accounts.exists[:, CHECKING][:, None]
    posted = (b.status != 2) & (rows.day >= 0) & (rows.day < n_days)
    sidx = np.maximum(rows.series, 0)
    is_inc = posted & (rows.series >= 0) & (b.amount > 0)
    is_inc &= np.isin(s.kind[sidx], list(INCOME_KINDS))
    paid = np.zeros((n, n_days), dtype=bool)
    paid[rows.cust[is_inc], rows.day[is_inc]] = True
    horizon = np.minimum(_next(paid), days + CYCLE_CAP_DAYS)
    # the exclusive end of the customer's own cycle: their next pay day
    # shortfall: first negative day after d, before the horizon
    first_neg = _next(eod < 0)
    short = has & (eod >= 0) & (first_neg < horizon) & (first_neg < n_days)
    shortfall_day = np.where(short, first_neg, -1).astype(np.int32)
    # stressed: the balance less the bills due in (d, horizon) below the emergency buffer
    is_bill = posted & (rows.series >= 0) & (b.amount < 0) & np.isin(s.kind[sidx], BILL_KINDS)
    bills = np.zeros((n, n_days + 1))
    np.add.at(bills, (rows.cust[is_bill], rows.day[is_bill] + 1), -b.amount[is_bill] / 100.0)
    cum = np.cumsum(bills, axis=1)  # cum[:, k] = bills on days < k
    end = np.minimum(horizon, n_days)
    due = np.take_along_axis(cum, end, axis=1) - cum[:, 1:]
    buffer = EMERGENCY_USD * np.array([PROFILES[x].price_level for x in REGIONS])[pop.region]
    stressed = has & (eod - due < buffer[:, None])
    # idle: above six weeks of take-home pay on every day of the last quarter
    six_weeks = pop.monthly_income * 12 / 52 * BUFFER_WEEKS
    above = (eod > six_weeks[:, None]).astype(np.int32)
    run = np.cumsum(np.concatenate([np.zeros((n, 1), np.int32), above], axis=1), axis=1)
    lo = np.maximum(days - IDLE_DAYS + 1, 0)
    full = (run[:, 1:] - np.take_along_axis(run, np.broadcast_to(lo, (n, n_days)), axis=1))
    idle = has & (days >= IDLE_DAYS - 1) & (full == IDLE_DAYS)
    return Needs(shortfall_day=shortfall_day, stressed=stressed, idle=idle)
