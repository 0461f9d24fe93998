"""Money sent to and received from other people: splitting a dinner, a gift, paying back a friend.

Person-to-person payments are a large share of account-to-account traffic: Zelle moved ~2.9
billion payments in 2023 (~120 million enrolled users, so about two a month per user), Pew
Research (2022) finds three quarters of US adults have used a P2P service, and Faster Payments
between people, Bizum in Spain (~25 million users) and Tikkie in the Netherlands play the same
role in Europe. Here each customer has a small circle of people (their names recur, as in real
statements); outgoing payments run at 0.6-3 a month by age (the young most), incoming ones at
about half that rate; amounts are lognormal around ~$40 at US prices (wide: a coffee to a
share of a holiday), mostly round.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.base.calendar import Window
from tactful.simulate.base.columns import Builder
from tactful.simulate.base.rng import Keyed
from tactful.simulate.base.rows import CH_TRANSFER, CHECKING, D_P2P_OUT, D_SUPPORT, Rows
from tactful.simulate.base.taxonomy import code
from tactful.simulate.counterparties import payers
from tactful.simulate.counterparties.names import name_id
from tactful.simulate.people.churn import Churn
from tactful.simulate.people.personas import Population
from tactful.simulate.people.regions import COUNTRIES, PROFILES, REGIONS

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
OUT_PER_MONTH: Final = (3.0, 2.2, 1.4, 1.0, 0.8, 0.6)
"""Outgoing P2P payments a month by age band (18-24 ... 65+)."""
IN_SHARE: Final = 0.5
"""Incoming payments as a share of the outgoing rate."""
CIRCLE: Final = 6
"""People a customer pays or is paid by (a few close ones most often)."""
MEDIAN_USD, SIGMA = 40.0, 0.9


def people_rows(
    r: Keyed, w: Window, pop: Population, churn: Churn, rows: Builder[Rows]
) -> None:
    """Append the P2P payments of every customer (checking account, until the churner leaves)."""
    g, n, n_days = pop.gidx, len(pop), w.n_days
    price = np.array([PROFILES[x].price_level for x in REGIONS])[pop.region]
    rate = np.array(OUT_PER_MONTH)[np.minimum(pop.age_band, len(OUT_PER_MONTH) - 1)]
    activity = r.lognormal("p2p.activity", 1.0, 0.6, g)
    last = np.minimum(churn.salary_move_day, n_days)
    circle = _circle(r, pop)
    for direction, share, cat, desc in (
        (-1, 1.0, "TRANSFER_OUT_OTHER_TRANSFER_OUT", D_P2P_OUT),
        (1, IN_SHARE, "TRANSFER_IN_OTHER_TRANSFER_IN", D_SUPPORT),
    ):
        tag = "out" if direction < 0 else "in"
        lam = rate * activity * share * np.maximum(last, 0) / 30.44
        count = r.poisson(f"p2p.n.{tag}", lam, g)
        cust = np.repeat(np.arange(n), count)
        j = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        gg = g[cust]
        day = (r.uniform(f"p2p.day.{tag}", gg, j) * np.maximum(last[cust], 1)).astype(np.int64)
        sec = 8 * 3600 + r.integers(f"p2p.sec.{tag}", 15 * 3600, gg, j)
        raw = r.lognormal(f"p2p.amt.{tag}", MEDIAN_USD * price[cust], SIGMA, gg, j)
        unit = np.where(raw < 20, 1.0, np.where(raw < 100, 5.0, 10.0))
        round_ = r.uniform(f"p2p.round.{tag}", gg, j) < 0.7
        amount = np.where(round_, np.maximum(np.rint(raw / unit) * unit, 1.0), raw)
        who = circle[cust, _favourite(r.uniform(f"p2p.who.{tag}", gg, j))]
        rows.add(
            cust=cust,
            slot=CHECKING,
            day=day,
            sec=sec,
            amount=direction * np.rint(amount * 100).astype(np.int64),
            channel=CH_TRANSFER,
            category=code(cat),
            cparty=who,
            desc=desc,
            order=1,
            ref=r.integers(f"p2p.ref.{tag}", 10**9, gg, j),
        )


def _favourite(u: F64) -> I64:
    """Which of the circle: the first people far more often than the last."""
    weights = 0.6 ** np.arange(CIRCLE)
    cum = np.cumsum(weights / weights.sum())
    return np.minimum(np.searchsorted(cum, u, side="right"), CIRCLE - 1).astype(np.int64)


def _circle(r: Keyed, pop: Population) -> NDArray[np.int32]:
    """(n, CIRCLE) counterparty name ids: people from the customer's country."""
    out = np.zeros((len(pop), CIRCLE), dtype=np.int32)
    for ci, c in enumerate(COUNTRIES):
        m = np.flatnonzero(pop.country == ci)
        if len(m) == 0:
            continue
        people = payers.landlords(c)[:40]
        ids = np.array([name_id(x) for x in people], dtype=np.int32)
        pick = r.integers("p2p.circle", len(ids), pop.gidx[m][:, None], np.arange(CIRCLE)[None, :])
        out[m] = ids[pick]
    return out
