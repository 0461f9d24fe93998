"""Card refunds: goods sent back, a cancelled order, a partial credit for a missing item.

Returns are a large part of retail: the US National Retail Federation put returns at ~14.5% of
retail sales in 2023 (17.6% online), with clothing and electronics highest; restaurants, fuel
and services see almost none. Here a purchase at a returnable kind of merchant is refunded with
probability ``RETURN_RATE`` (online x1.5), in full for 80% and in part (30-90%) otherwise, to the
same card account 2-30 days later (median ~8: the parcel goes back, the merchant processes it).
The credit carries the purchase's merchant and true category, as Plaid treats refunds, and
prints the merchant's card line with a credit amount, as many banks' exports do. A refund exists
only if its purchase was not declined (the ledger links them as ``FOLLOW_FEE`` pairs).
"""

from __future__ import annotations

from typing import Final

import numpy as np

from tactful.simulate.base.columns import Builder
from tactful.simulate.base.rng import Keyed
from tactful.simulate.base.rows import CARD, CH_ONLINE, FOLLOW_FEE, Rows
from tactful.simulate.base.taxonomy import code
from tactful.simulate.people.personas import Population

PAIR_REFUND: Final = 8 * 10**15
RETURN_RATE: Final = 0.07
"""Refund probability per purchase of a returnable kind (NRF ~14.5% of sales by value is
returned; not every return goes back to the card, some are exchanges or store credit)."""
ONLINE_FACTOR: Final = 1.5
RETURNABLE: Final = np.array(
    [
        code(c)
        for c in (
            "GENERAL_MERCHANDISE_CLOTHING_AND_ACCESSORIES",
            "GENERAL_MERCHANDISE_ELECTRONICS",
            "GENERAL_MERCHANDISE_ONLINE_MARKETPLACES",
            "GENERAL_MERCHANDISE_SUPERSTORES",
            "GENERAL_MERCHANDISE_DEPARTMENT_STORES",
            "GENERAL_MERCHANDISE_SPORTING_GOODS",
            "GENERAL_MERCHANDISE_OTHER_GENERAL_MERCHANDISE",
            "HOME_IMPROVEMENT_FURNITURE",
            "HOME_IMPROVEMENT_HARDWARE",
        )
    ]
)


def with_refunds(r: Keyed, pop: Population, rows: Rows) -> Rows:
    """``rows`` plus a refund row for each returned purchase."""
    g = pop.gidx
    cand = np.flatnonzero(
        (rows.lkind == CARD)
        & (rows.amount < 0)
        & (rows.pair < 0)
        & (rows.fraud == 0)
        & (rows.series < 0)
        & np.isin(rows.category, RETURNABLE)
    )
    gg = g[rows.cust[cand]]
    day, sec, amt = rows.day[cand], rows.sec[cand], rows.amount[cand]
    p = RETURN_RATE * np.where(rows.channel[cand] == CH_ONLINE, ONLINE_FACTOR, 1.0)
    hit = r.uniform("refund", gg, day, sec, amt) < p
    idx, gg = cand[hit], gg[hit]
    if len(idx) == 0:
        return rows
    day, sec, amt = day[hit], sec[hit], amt[hit]
    lag = np.clip(np.rint(r.lognormal("refund.lag", 8.0, 0.6, gg, day, sec)), 2, 30)
    full = r.uniform("refund.full", gg, day, sec) < 0.8
    part = 0.3 + 0.6 * r.uniform("refund.part", gg, day, sec)
    credit = np.where(full, -amt, np.rint(-amt * part)).astype(np.int64)
    pair = PAIR_REFUND + np.arange(len(idx), dtype=np.int64)
    rows.pair[idx] = pair
    refund = rows.take(idx)
    refund.day = (day + lag).astype(refund.day.dtype)
    refund.sec = (8 * 3600 + r.integers("refund.sec", 12 * 3600, gg, day, sec)).astype(
        refund.sec.dtype
    )
    refund.amount = credit
    refund.lkind = np.full(len(idx), FOLLOW_FEE, dtype=refund.lkind.dtype)
    out = Builder(Rows)
    out.extend(rows)
    out.extend(refund)
    return out.build()
