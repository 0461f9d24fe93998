"""Subscriptions: who pays for which services, sign-ups, cancellations and price rises.

Counts per customer follow surveys of paid subscriptions (US adults hold about 3-5 paid
subscriptions on average -- Deloitte's Digital Media Trends puts paid video services per US
household at ~4; UK and euro-area households hold fewer). A subscription is charged on the
anniversary day of its start. Price rises are decided per service and country (when Netflix
raises its UK price, every UK subscriber pays more from the next bill on or after the day), at
roughly one rise a year every two to three years per service, 8-20% each.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.bank.accounts import Accounts
from tactful.simulate.base import calendar as cal
from tactful.simulate.base.calendar import Window
from tactful.simulate.base.columns import Builder
from tactful.simulate.base.rng import Keyed
from tactful.simulate.base.rows import (
    CARD,
    CH_DD,
    CH_ONLINE,
    CHECKING,
    CREDIT_CARD,
    D_SUB_CARD,
    D_SUB_DD,
    FIXED,
)
from tactful.simulate.base.taxonomy import code
from tactful.simulate.counterparties.names import name_id
from tactful.simulate.counterparties.services import SERVICES
from tactful.simulate.money.series import K_SUBSCRIPTION, R_PRICE_RISE, PriceChanges, Series
from tactful.simulate.people.personas import PERSONAS, Population
from tactful.simulate.people.regions import COUNTRIES

I64 = NDArray[np.int64]
SLOT_FIRST, MAX_SUBS = 44, 36
_FAMILY_SHARE = {"streaming": 1.0, "music": 0.8, "software": 0.5, "gym": 0.45, "news": 0.35}
_REGION_FACTOR = np.array([0.8, 0.95, 1.2])


def price_rise_days(r: Keyed, w: Window, service: int, country: str) -> list[tuple[int, float]]:
    """(effective day, factor) of each price rise of a service in a country during the window."""
    out = []
    years = -(-w.months // 12)
    for y in range(years):
        key = np.array([service * 100 + COUNTRIES.index(country), y])
        if float(r.uniform("sub.rise", key[0], key[1])) < 0.4:
            day = int(y * 365 + int(r.integers("sub.rise.day", 365, key[0], key[1])))
            factor = 1.08 + 0.12 * float(r.uniform("sub.rise.f", key[0], key[1]))
            if 0 < day < w.n_days:
                out.append((day, factor))
    return out


def _new_price(old: int, factor: float) -> int:
    """Round a raised price to the .99 price point list prices use."""
    major = int(np.ceil(old * factor / 100.0))
    return max(major * 100 - 1, old + 1)


def subscription_series(
    r: Keyed,
    w: Window,
    pop: Population,
    accts: Accounts,
    churn_end: Callable[[I64, I64], I64],
    closure: I64,
    series: Builder[Series],
    changes: Builder[PriceChanges],
) -> None:
    g = pop.gidx
    n = len(g)
    n_s = len(SERVICES)
    country = np.array(COUNTRIES)[pop.country]
    price = np.zeros((n, n_s), dtype=np.int64)
    for j, s in enumerate(SERVICES):
        for c in np.unique(country):
            p = s.price(str(c))
            if p:
                price[country == c, j] = p
    weight = np.array([s.weight * _FAMILY_SHARE[s.family] for s in SERVICES])
    u = r.uniform("sub.pick", g[:, None], np.arange(n_s)[None, :])
    score = np.where(
        price > 0, np.log(weight)[None, :] - np.log(-np.log(np.maximum(u, 1e-300))), -np.inf
    )
    # One plan per service name (no monthly and yearly Amazon Prime together).
    names = np.array([s.name for s in SERVICES])
    order = np.argsort(-score, axis=1, kind="stable")
    years = w.months / 12.0
    mean = np.array([p.subscriptions for p in PERSONAS])[pop.persona] * _REGION_FACTOR[pop.region]
    existing = np.minimum(r.poisson("sub.n", mean, g), 10)
    signups = np.minimum(r.poisson("sub.new", 0.6 * years, g), 4)
    total = existing + signups
    cust_l, svc_l, is_new_l = [], [], []
    for k in range(int(total.max(initial=0)) + 4):
        if k >= n_s:
            break
        cust_l.append(np.arange(n))
        svc_l.append(order[:, k])
        is_new_l.append(np.full(n, k))
    cust = np.concatenate(cust_l)
    svc = np.concatenate(svc_l)
    rank = np.concatenate(is_new_l)
    valid = np.isfinite(score[cust, svc])
    cust, svc, rank = cust[valid], svc[valid], rank[valid]
    o = np.lexsort((rank, cust))
    cust, svc, rank = cust[o], svc[o], rank[o]
    key = np.char.add(cust.astype(str), names[svc])
    _, first = np.unique(key, return_index=True)
    dup = np.ones(len(cust), dtype=bool)
    dup[first] = False
    cust, svc = cust[~dup], svc[~dup]
    pos = np.arange(len(cust)) - np.searchsorted(cust, cust)
    keep = pos < total[cust]
    cust, svc, pos = cust[keep], svc[keep], pos[keep]
    is_new = pos >= existing[cust]
    gc = g[cust]
    start = np.where(
        is_new,
        (r.uniform("sub.start", gc, svc) * w.n_days).astype(np.int64),
        -30 - r.integers("sub.age", 1500, gc, svc),
    )
    cancel_p = 1.0 - (1.0 - 0.2) ** years
    cancels = r.bernoulli("sub.cancel", cancel_p, gc, svc)
    lo = np.maximum(start, 0) + 20
    cancel_day = lo + (r.uniform("sub.cancel.day", gc, svc) * np.maximum(w.n_days - lo, 1)).astype(
        np.int64
    )
    slot = (SLOT_FIRST + pos).astype(np.int64)
    end = np.minimum(np.where(cancels, cancel_day, cal.NEVER), churn_end(cust, slot))
    end = np.minimum(end, closure[cust])
    svc_list = [SERVICES[i] for i in svc]
    dd = np.array([s.channel == "dd" for s in svc_list], dtype=bool)
    yearly = np.array([s.cadence == "yearly" for s in svc_list], dtype=bool)
    start_date = np.datetime64(w.start, "D") + start
    dom = (start_date - start_date.astype("datetime64[M]").astype("datetime64[D]")).astype(
        np.int64
    ) + 1
    month = (start_date.astype("datetime64[M]").astype(np.int64) % 12).astype(np.int64)
    on_card = ~dd & accts.exists[cust, CREDIT_CARD] & r.bernoulli("sub.on_card", 0.5, gc, svc)
    amount = -price[cust, svc]
    series.add(
        cust=cust,
        slot=slot,
        kind=K_SUBSCRIPTION,
        cadence=np.where(yearly, cal.YEARLY, cal.MONTHLY),
        anchor_day=dom,
        anchor_month=month,
        start=start,
        end=end,
        roll=np.where(dd, cal.ROLL_FOLLOWING, cal.ROLL_NONE),
        amount=amount,
        acct=np.where(on_card, CREDIT_CARD, CHECKING),
        lkind=np.where(dd, FIXED, CARD),
        channel=np.where(dd, CH_DD, CH_ONLINE),
        category=np.array([code(s.category) for s in svc_list], dtype=np.int16),
        service=svc,
        cparty=np.array([name_id(s.token.split("{")[0].strip()) for s in svc_list], dtype=np.int32),
        desc=np.where(dd, D_SUB_DD, D_SUB_CARD),
        ref=r.integers("sub.ref", 10**9, gc, svc),
        sec=np.where(dd, 5 * 3600, 3600 + r.integers("sub.sec", 20 * 3600, gc, svc)),
        jitter=900,
    )
    # Price rises, per service and country.
    for j in np.unique(svc):
        sel = svc == j
        for c in np.unique(country[cust[sel]]):
            rows = np.flatnonzero(sel & (country[cust] == c))
            current = price[cust[rows], j].copy()
            for day, factor in price_rise_days(r, w, int(j), str(c)):
                active = (start[rows] < day) & (end[rows] > day)
                new = np.array([_new_price(int(p), factor) for p in current])
                current = np.where(active, new, current)
                changes.add(
                    cust=cust[rows][active],
                    slot=slot[rows][active],
                    day=np.full(active.sum(), day),
                    amount=-current[active],
                    reason=R_PRICE_RISE,
                )
