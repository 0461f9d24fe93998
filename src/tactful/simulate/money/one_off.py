"""Direct debits that belong to no series: an insurance excess, a final utility bill, a yearly
add-on the provider collects once.

Not every direct debit repeats. Billers also collect one-off amounts under an existing mandate
(SEPA core mandates and Bacs instructions cover "one-off or recurrent" collections; US billers
take single ACH debits authorised online, Nacha's WEB entries), so a recurring-bill detector
meets debits from a known biller that are not part of its schedule. Here ~3 a year per customer
(chosen; no public count of one-off collections was found), from the customer's own country's
insurers, energy and telecom companies, lognormal around ~$90 at US prices.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from tactful.simulate.base.calendar import Window
from tactful.simulate.base.columns import Builder
from tactful.simulate.base.rng import Keyed
from tactful.simulate.base.rows import CH_DD, CHECKING, D_ACH, D_DD, Rows
from tactful.simulate.base.taxonomy import code
from tactful.simulate.counterparties.billers import BILLERS, billers_for
from tactful.simulate.counterparties.names import biller_city_name
from tactful.simulate.people.churn import Churn
from tactful.simulate.people.personas import Population
from tactful.simulate.people.regions import ALL_PLACES, COUNTRIES, PROFILES, REGIONS

PER_YEAR: Final = 3.0
FAMILIES: Final = ("insurance", "energy", "internet", "mobile")
MEDIAN_USD, SIGMA = 90.0, 0.8


def one_off_rows(r: Keyed, w: Window, pop: Population, churn: Churn, rows: Builder[Rows]) -> None:
    """Append each customer's one-off direct debits (until the churner's salary moves)."""
    g, n = pop.gidx, len(pop)
    last = np.minimum(churn.salary_move_day, w.n_days)
    count = r.poisson("oneoff.n", PER_YEAR * np.maximum(last, 0) / 365.0, g)
    cust = np.repeat(np.arange(n), count)
    if len(cust) == 0:
        return
    j = np.arange(len(cust)) - np.repeat(np.cumsum(count) - count, count)
    gg = g[cust]
    day = (r.uniform("oneoff.day", gg, j) * np.maximum(last[cust], 1)).astype(np.int64)
    price = np.array([PROFILES[x].price_level for x in REGIONS])[pop.region[cust]]
    amount = r.lognormal("oneoff.amt", MEDIAN_USD * price, SIGMA, gg, j)
    fam = r.integers("oneoff.family", len(FAMILIES), gg, j)
    pick = r.integers("oneoff.biller", 1 << 30, gg, j)
    place = pop.place[cust]
    ccode = pop.country[cust]
    cparty = np.full(len(cust), -1, dtype=np.int32)
    category = np.zeros(len(cust), dtype=np.int64)
    # Loops over (country, family) groups and (biller, city) pairs, never over payments.
    for ci, c in enumerate(COUNTRIES):
        for fi, f in enumerate(FAMILIES):
            options = billers_for(c, f) or billers_for(c, "insurance")
            m = np.flatnonzero((ccode == ci) & (fam == fi))
            if not options or len(m) == 0:
                continue
            b = np.array(options)[pick[m] % len(options)]
            category[m] = np.array([code(BILLERS[i].category) for i in options])[
                pick[m] % len(options)
            ]
            pairs, inv = np.unique(np.stack([b, place[m]]), axis=1, return_inverse=True)
            ids = np.array(
                [
                    biller_city_name(int(bi), ALL_PLACES[int(pl)].city)
                    for bi, pl in zip(pairs[0], pairs[1], strict=True)
                ],
                dtype=np.int32,
            )
            cparty[m] = ids[inv.ravel()]
    us = ccode == COUNTRIES.index("US")
    ok = cparty >= 0
    rows.add(
        cust=cust[ok],
        slot=CHECKING,
        day=day[ok],
        sec=4 * 3600 + r.integers("oneoff.sec", 3 * 3600, gg, j)[ok],
        amount=-np.rint(amount[ok] * 100).astype(np.int64),
        channel=CH_DD,
        category=category[ok],
        cparty=cparty[ok],
        desc=np.where(us[ok], D_ACH, D_DD),
        order=1,
        ref=r.integers("oneoff.ref", 10**9, gg, j)[ok],
    )
