"""Shared pieces of income streams: pay schedules, per-period amounts, payer names, slots.

Pay frequency follows the region (US: BLS shares weekly 27%, biweekly 43%, semi-monthly 20%,
monthly 10%; UK mostly monthly with some weekly and four-weekly; euro area monthly) and the
country's usual pay day (last working day in the UK and Germany, the 25th in the Netherlands,
Fridays for weekly pay). Weekend pay days move to the Friday before.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.base import calendar as cal
from tactful.simulate.base.calendar import Window
from tactful.simulate.base.columns import Builder
from tactful.simulate.base.rng import Keyed
from tactful.simulate.base.rows import (
    CH_TRANSFER,
    CHECKING,
    FIXED,
)
from tactful.simulate.base.taxonomy import code
from tactful.simulate.counterparties import payers
from tactful.simulate.counterparties.names import name_id
from tactful.simulate.money.series import (
    Series,
)
from tactful.simulate.people.personas import Population
from tactful.simulate.people.regions import COUNTRIES, PROFILES, REGIONS

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]

PER_YEAR = np.array([52.0, 26.0, 24.0, 12.0, 4.0, 1.0, 13.0, 12.0])
"""Payments a year, indexed by cadence code."""
_PAY_DOM = {
    "US": ((31, 1, 15), (0.45, 0.3, 0.25)),
    "GB": ((31, 28, 25, 20), (0.5, 0.25, 0.15, 0.1)),
    "DE": ((31, 28, 15, 1), (0.6, 0.15, 0.1, 0.15)),
    "FR": ((31, 28, 25), (0.55, 0.3, 0.15)),
    "ES": ((31, 1, 28), (0.5, 0.3, 0.2)),
    "NL": ((25, 23, 31, 20), (0.5, 0.2, 0.2, 0.1)),
}
BENEFIT_REPLACEMENT = {"US": 0.4, "GB": 0.25, "DE": 0.6, "FR": 0.6, "ES": 0.6, "NL": 0.7}
(
    SLOT_MAIN,
    SLOT_SECOND,
    SLOT_NEWJOB,
    SLOT_BENEFIT,
    SLOT_PENSION,
    SLOT_PRIVATE,
    SLOT_CHILD,
    SLOT_TAX,
    SLOT_BONUS,
    SLOT_BUSINESS,
) = range(10)


def country_codes(pop: Population, idx: I64) -> NDArray[np.str_]:
    return np.array(COUNTRIES)[pop.country[idx]]


def schedule(r: Keyed, w: Window, pop: Population, idx: I64, stream: str) -> tuple[I64, I64]:
    """(cadence, anchor_day) of new pay streams for customers ``idx``."""
    g = pop.gidx[idx]
    weights = np.array([PROFILES[REGIONS[i]].pay_cadence_weights for i in range(3)])
    choice = r.categorical_rows(stream + ".cad", weights[pop.region[idx]], g)
    cadence = np.array([cal.WEEKLY, cal.BIWEEKLY, cal.SEMI_MONTHLY, cal.MONTHLY])[choice]
    uk = pop.region[idx] == REGIONS.index(PROFILES[REGIONS[1]].region)
    four = uk & (cadence == cal.BIWEEKLY)
    cadence = np.where(four, cal.FOUR_WEEKLY, cadence)
    first_friday = int((4 - w.weekday(np.array([0]))[0]) % 7)
    period = np.select([cadence == cal.WEEKLY, cadence == cal.BIWEEKLY], [7, 14], 28)
    anchor = first_friday + 7 * r.integers(stream + ".phase", period // 7, g)
    dom = np.zeros(len(idx), dtype=np.int64)
    for c, (doms, ws) in _PAY_DOM.items():
        m = country_codes(pop, idx) == c
        if np.any(m):
            dom[m] = np.array(doms)[r.categorical(stream + ".dom", np.array(ws), g[m])]
    semi = r.bernoulli(stream + ".semi", 0.3, g).astype(np.int64)
    anchor = np.select([cadence == cal.MONTHLY, cadence == cal.SEMI_MONTHLY], [dom, semi], anchor)
    return cadence.astype(np.int64), anchor.astype(np.int64)


def per_period(annual: F64, cadence: I64) -> I64:
    out: I64 = np.rint(annual / PER_YEAR[cadence] * 100).astype(np.int64)
    return out


def employer(r: Keyed, pop: Population, idx: I64, stream: str) -> NDArray[np.int32]:
    out = np.empty(len(idx), dtype=np.int32)
    for ci, c in enumerate(COUNTRIES):
        m = pop.country[idx] == ci
        if np.any(m):
            names = payers.employers(c)
            k = r.integers(stream, len(names), pop.gidx[idx][m])
            out[m] = np.array([name_id(names[i]) for i in range(len(names))])[k]
    return out


def payer(pop: Population, idx: I64, table: dict[str, str]) -> NDArray[np.int32]:
    return np.array([name_id(table[c]) for c in country_codes(pop, idx)], dtype=np.int32)


class PayWriter:
    """Appends pay-like series (credits to checking, early-morning posting)."""

    def __init__(self, r: Keyed, pop: Population, series: Builder[Series]) -> None:
        self.r, self.pop, self.series = r, pop, series

    def add(
        self,
        idx: I64,
        slot: int,
        kind: int,
        share: F64,
        start: I64,
        end: I64,
        cparty: NDArray[np.int32],
        desc: int,
        cadence: I64,
        anchor: I64,
        category: str,
        sigma: F64 | float = 0.0,
        p_skip: float = 0.0,
    ) -> I64:
        amount = per_period(self.pop.income[idx] * share, cadence)
        self.series.add(
            cust=idx,
            slot=slot,
            kind=kind,
            cadence=cadence,
            anchor_day=anchor,
            start=start,
            end=end,
            roll=cal.ROLL_PRECEDING,
            amount=amount,
            sigma=sigma,
            acct=CHECKING,
            lkind=FIXED,
            channel=CH_TRANSFER,
            category=code(category),
            cparty=cparty,
            desc=desc,
            ref=self.r.integers(f"pay.ref.{slot}", 10**7, self.pop.gidx[idx]),
            sec=2 * 3600,
            jitter=3 * 3600,
            p_skip=p_skip,
        )
        return amount
