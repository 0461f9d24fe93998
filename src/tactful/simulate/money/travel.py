"""Trips: flights and lodging booked ahead, then spending in another city or country.

Abroad, card payments are converted to the home currency and the bank adds its foreign
transaction fee (a separate row, only if the purchase is approved); trips inside the euro area
cost no fee for euro-area customers. While away, customers barely buy groceries or fuel at home.
Trip frequency per persona is approximate (Eurostat tourism participation, US Travel).
Merchants abroad come from the catalog of the destination when there is one, otherwise from the
English-language long tail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.base.calendar import Window
from tactful.simulate.base.columns import Builder
from tactful.simulate.base.rng import Keyed
from tactful.simulate.base.rows import (
    CARD,
    CH_CARD,
    CH_FEE,
    CH_ONLINE,
    CHECKING,
    CREDIT_CARD,
    D_CARD,
    D_CARD_ONLINE,
    D_FEE_FX,
    D_FOREIGN,
    FOLLOW_FEE,
    Rows,
)
from tactful.simulate.base.taxonomy import code
from tactful.simulate.counterparties import merchants as mc
from tactful.simulate.people.churn import Churn
from tactful.simulate.people.personas import Population
from tactful.simulate.people.regions import (
    ALL_PLACES,
    COUNTRIES,
    DESTINATIONS,
    PROFILES,
    REGIONS,
)

I64 = NDArray[np.int64]
_TRIPS_PER_YEAR: Final = np.array([0.8, 1.5, 1.2, 1.2, 0.6, 1.2, 2.5])
_FOREIGN_SHARE: Final = np.array([0.5, 0.55, 0.2])
_HOME_CCY: Final = {"EU": "EUR", "UK": "GBP", "US": "USD"}
_CATALOG: Final = {"FR": "FR", "ES": "ES", "NL": "NL", "GB": "GB", "US": "US", "DE": "DE"}
PAIR_TRAVEL: Final = 3 * 10**15
_ON_TRIP: Final = (
    ("restaurant", 0.9, 40),
    ("coffee", 0.5, 5),
    ("fast_food", 0.35, 12),
    ("rideshare", 0.25, 22),
    ("entertainment", 0.2, 30),
    ("clothing", 0.1, 50),
    ("convenience", 0.3, 8),
)
"""Card payments per day away (the rest is cash or not modelled), median ticket in USD."""


@dataclass(slots=True)
class Trips:
    cust: I64
    k: I64
    """Ordinal of the trip among the customer's trips (a stable key)."""
    start: I64
    nights: I64
    dest: I64
    """Index into DESTINATIONS for trips abroad, -1 for domestic."""
    place: I64
    """Place index (ALL_PLACES) of a domestic trip, -1 abroad."""

    def away(self, n: int, n_days: int) -> NDArray[np.bool_]:
        grid = np.zeros((n, n_days + 1), dtype=np.int32)
        s = np.clip(self.start, 0, n_days)
        e = np.clip(self.start + self.nights + 1, 0, n_days)
        np.add.at(grid, (self.cust, s), 1)
        np.add.at(grid, (self.cust, e), -1)
        out: NDArray[np.bool_] = np.cumsum(grid, axis=1)[:, :n_days] > 0
        return out


def draw_trips(r: Keyed, w: Window, pop: Population, churn: Churn) -> Trips:
    g = pop.gidx
    count = r.poisson("trips", _TRIPS_PER_YEAR[pop.persona] * w.months / 12.0, g)
    rep = np.repeat(np.arange(len(g)), count)
    k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    gg = g[rep]
    nights = 2 + r.poisson("trip.nights", 4.0, gg, k)
    start = (r.uniform("trip.start", gg, k) * w.n_days).astype(np.int64)
    keep = start + nights < churn.closure_day[rep]
    rep, k, gg, nights, start = rep[keep], k[keep], gg[keep], nights[keep], start[keep]
    foreign = r.uniform("trip.foreign", gg, k) < _FOREIGN_SHARE[pop.region[rep]]
    home = np.array(COUNTRIES)[pop.country[rep]]
    dest_c = np.array([d.country for d in DESTINATIONS])
    pick = r.integers("trip.dest", len(DESTINATIONS), gg, k)
    same = dest_c[pick] == home
    dest = np.where(foreign, np.where(same, (pick + 7) % len(DESTINATIONS), pick), -1)
    place_country = np.array([p.country for p in ALL_PLACES])
    place = np.full(len(rep), -1)
    for i in np.flatnonzero(~foreign):
        cand = np.flatnonzero(
            (place_country == home[i]) & (np.arange(len(ALL_PLACES)) != pop.place[rep[i]])
        )
        place[i] = cand[int(r.integers("trip.city", len(cand), gg[i], k[i]))]
    return Trips(cust=rep, k=k, start=start, nights=nights, dest=dest, place=place)


def trip_rows(
    r: Keyed,
    w: Window,
    pop: Population,
    trips: Trips,
    card_share: NDArray[np.float64],
    rows: Builder[Rows],
) -> None:
    """Bookings before the trip and card payments during it (plus foreign fees)."""
    if len(trips.cust) == 0:
        return
    c, g, k = trips.cust, pop.gidx[trips.cust], trips.k
    price = np.array([PROFILES[x].price_level for x in REGIONS])[pop.region[c]]
    abroad = trips.dest >= 0
    travellers = np.where(pop.persona[c] == 2, 3.0, 1.5)
    home_country = pop.country[c]
    # Flights and lodging booked online at home, weeks ahead.
    for j, (kind, lead, base) in enumerate((("flights", 60, 180.0), ("lodging", 35, 90.0))):
        day = trips.start - 5 - r.integers(f"trip.book.{kind}", lead, g, k)
        ok = (day >= 0) & r.bernoulli(f"trip.has.{kind}", 0.8, g, k)
        amount = (
            base
            * price
            * travellers
            * np.where(abroad, 1.8, 1.0)
            * np.where(kind == "lodging", trips.nights, 1)
            * r.lognormal(f"trip.amt.{kind}", 1.0, 0.4, g, k)
        )
        m = mc.pick(home_country, kind, r.uniform(f"trip.m.{kind}", g, k), COUNTRIES)
        idx = np.flatnonzero(ok)
        _add(
            r,
            pop,
            rows,
            c[idx],
            day[idx],
            (19 * 3600 + r.integers(f"trip.sec.{j}", 4 * 3600, g, k))[idx],
            amount[idx],
            m[idx],
            np.full(len(idx), -1),
            np.full(len(idx), -1),
            card_share,
            online=True,
            key=(g[idx], k[idx] * 10_000 + 9_000 + j),
        )
    # Spending during the trip, in the destination.
    dest_catalog = np.array(
        [_CATALOG.get(DESTINATIONS[int(d)].country, "GB") if d >= 0 else "" for d in trips.dest]
    )
    dest_cat_idx = np.array([COUNTRIES.index(x) if x else 0 for x in dest_catalog])
    catalog = np.where(abroad, dest_cat_idx, home_country)
    for ki, (kind, rate, base) in enumerate(_ON_TRIP):
        count = r.poisson(f"trip.n.{kind}", rate * (trips.nights + 1), g, k)
        rep = np.repeat(np.arange(len(c)), count)
        jj = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        gg = g[rep]
        sub = k[rep] * 10_000 + ki * 1_000 + np.minimum(jj, 999)
        day = trips.start[rep] + r.integers(f"trip.d.{kind}", trips.nights[rep] + 1, gg, sub)
        keep = (day >= 0) & (day < w.n_days) & (jj < 1000)
        rep, sub, gg, day = rep[keep], sub[keep], gg[keep], day[keep]
        amount = base * price[rep] * r.lognormal(f"trip.a.{kind}", 1.0, 0.6, gg, sub)
        m = mc.pick(catalog[rep], kind, r.uniform(f"trip.m.{kind}", gg, sub), COUNTRIES)
        sec = 9 * 3600 + r.integers(f"trip.s.{kind}", 13 * 3600, gg, sub)
        _add(
            r,
            pop,
            rows,
            c[rep],
            day,
            sec,
            amount,
            m,
            trips.dest[rep],
            trips.place[rep],
            card_share,
            online=False,
            key=(gg, sub),
        )


def _add(
    r: Keyed,
    pop: Population,
    rows: Builder[Rows],
    c: I64,
    day: I64,
    sec: I64,
    amount_major: NDArray[np.float64],
    merchant: NDArray[np.int32],
    dest_a: I64,
    place_a: I64,
    card_share: NDArray[np.float64],
    online: bool,
    key: tuple[I64, I64],
) -> None:
    """Card rows keyed by (customer, ordinal); ``key[1]`` is unique within the customer."""
    t = mc.merchant_table()
    g = key[0]
    slot = np.where(r.uniform("trip.slot", *key) < card_share[c], CREDIT_CARD, CHECKING)
    amount = -np.maximum(np.rint(amount_major * 100), 50).astype(np.int64)
    home_ccy = np.array([_HOME_CCY[REGIONS[i].value] for i in range(3)])[pop.region[c]]
    dest_ccy = np.array([DESTINATIONS[int(d)].currency if d >= 0 else "" for d in dest_a])
    fx = (dest_a >= 0) & (dest_ccy != home_ccy)
    pair = np.where(fx, PAIR_TRAVEL + g * 10**6 + key[1] % 10**6, -1)
    is_online = online | t.is_online[merchant]
    rows.add(
        cust=c,
        slot=slot,
        day=day,
        sec=sec,
        amount=amount,
        lkind=CARD,
        channel=np.where(is_online, CH_ONLINE, CH_CARD),
        category=t.category[merchant],
        merchant=merchant,
        desc=np.where(dest_a >= 0, D_FOREIGN, np.where(is_online, D_CARD_ONLINE, D_CARD)),
        dest=dest_a,
        place=place_a,
        order=2,
        pair=pair,
        ref=r.integers("trip.ref", 10**9, *key),
        mcc_missing=r.bernoulli("trip.mcc", 0.08, *key),
    )
    if np.any(fx):
        f = np.flatnonzero(fx)
        rate = np.array([PROFILES[x].fx_fee_rate for x in REGIONS])[pop.region[c[f]]]
        rows.add(
            cust=c[f],
            slot=slot[f],
            day=day[f],
            sec=sec[f],
            amount=np.minimum(np.rint(amount[f] * rate), -1).astype(np.int64),
            lkind=FOLLOW_FEE,
            channel=CH_FEE,
            category=code("BANK_FEES_FOREIGN_TRANSACTION_FEES"),
            desc=D_FEE_FX,
            order=3,
            pair=pair[f],
            dest=dest_a[f],
        )
