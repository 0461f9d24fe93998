"""Injected card fraud: who is hit, when, by which pattern, and the rows it leaves.

Around 3% of card holders a year see unauthorised card use (UK Finance and Javelin put the
yearly share of card fraud victims at a few percent), which makes fraud well under 0.1% of card
transactions, in line with the ECB's card fraud reports. Four patterns:

- ``card_testing``: a burst of tiny online payments minutes apart, the issuer blocking the later
  attempts (declined), sometimes a larger purchase after;
- ``unusual_country``: card-present purchases in a country the customer is not in;
- ``unusual_amount``: one online purchase many times the customer's typical ticket;
- ``unusual_merchant``: resellable goods at merchants the customer has not used before.

Fraud leaves no label in the exports: its merchants are drawn from the same catalogue and printed
by the same templates as everyone's spending (``data/fraud.toml`` names the kinds and why), and
its hours follow the kind's ordinary hours plus the night excess measured in the ULB card-fraud
data -- fraud is about 3.2 times as likely as normal spending to fall between 00:00 and 04:59,
not a fixed night-time window.

The customer reports it within days: approved fraud is refunded (a chargeback credit) and the
card is reissued with a new number (new card tail in descriptors after the refund).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.base.calendar import NEVER, Window
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
    FORCE_DECLINE,
    Rows,
)
from tactful.simulate.base.taxonomy import code
from tactful.simulate.counterparties import merchants as mc
from tactful.simulate.money.spend_kinds import KIND_NAMES, profile_tables
from tactful.simulate.people.churn import Churn
from tactful.simulate.people.personas import Population
from tactful.simulate.people.regions import COUNTRIES, DESTINATIONS, PROFILES, REGIONS

I64 = NDArray[np.int64]
PAIR_FRAUD = 2 * 10**15
"""Pair ids linking a foreign fraud purchase to its fee (see ledger.FOLLOW_FEE)."""


@dataclass(slots=True)
class FraudPlan:
    day: I64
    """Day of the fraud (NEVER if none)."""
    pattern: I64
    """Index into rows.FRAUD_PATTERNS (0 none)."""
    slot: I64
    """Account the compromised card draws on."""
    reissue_day: I64
    """Day from which the card has a new number."""


def draw_fraud(r: Keyed, pop: Population, w: Window, churn: Churn) -> FraudPlan:
    g = pop.gidx
    years = w.months / 12.0
    hit = r.bernoulli("fraud", 1.0 - (1.0 - 0.03) ** years, g)
    day = (r.uniform("fraud.day", g) * w.n_days).astype(np.int64)
    hit &= day < churn.closure_day
    pattern = 1 + r.categorical("fraud.pattern", np.array([0.35, 0.3, 0.2, 0.15]), g)
    slot = np.where(pop.has_card & r.bernoulli("fraud.slot", 0.5, g), CREDIT_CARD, CHECKING)
    reissue = day + 2 + r.integers("fraud.reissue", 8, g)
    return FraudPlan(
        day=np.where(hit, day, NEVER),
        pattern=np.where(hit, pattern, 0),
        slot=slot.astype(np.int64),
        reissue_day=np.where(hit, reissue, NEVER),
    )


@cache
def fraud_data() -> dict[str, Any]:
    text = resources.files("tactful.simulate").joinpath("data/fraud.toml").read_text("utf-8")
    return tomllib.loads(text)


def night_ratio() -> float:
    """ULB: night share of fraud over night share of normal transactions."""
    d = fraud_data()
    fraud = d["ulb_fraud_night"] / d["ulb_fraud_total"]
    return float(fraud / (d["ulb_normal_night"] / d["ulb_normal_total"]))


@cache
def _hour_tables() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per spending kind: cumulative hour weights, and the probability that a fraud attempt at
    that kind is moved to the night so that fraud's night share is ``night_ratio()`` times
    ordinary card spending's."""
    d = fraud_data()
    _, _, hours = profile_tables()
    night = slice(d["night_first_hour"], d["night_last_hour"] + 1)
    kind_night = hours[:, night].sum(axis=1)
    target = min(night_ratio() * d["simulated_normal_night"], 1.0)
    excess = np.clip((target - kind_night) / (1.0 - kind_night), 0.0, 1.0)
    return np.cumsum(hours, axis=1), excess


def _seconds(
    r: Keyed, kind: NDArray[np.str_], g: NDArray[np.int64], k: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Second of the day of each attempt: the kind's own hours, or (by the ULB excess) night."""
    d = fraud_data()
    cum, excess = _hour_tables()
    ki = np.array([KIND_NAMES.index(x) for x in kind], dtype=np.int64)
    u = r.uniform("fraud.hour", g, k)
    hour = np.minimum((cum[ki] <= u[:, None]).sum(axis=1), 23)
    n_night = d["night_last_hour"] - d["night_first_hour"] + 1
    night_hour = d["night_first_hour"] + r.integers("fraud.night.h", n_night, g, k)
    hour = np.where(r.uniform("fraud.night", g, k) < excess[ki], night_hour, hour)
    sec: NDArray[np.int64] = (hour * 3600 + r.integers("fraud.sec", 3600, g, k)).astype(np.int64)
    return sec


def _kinds(r: Keyed, pat: NDArray[np.int64], g: NDArray[np.int64]) -> NDArray[np.str_]:
    """The spending kind of each victim's fraud (one per victim: a fraudster's spree is alike)."""
    d = fraud_data()
    out = np.empty(len(pat), dtype=object)
    for p, names in ((1, d["card_testing_kinds"]), (2, d["foreign_kinds"]), (4, d["resale_kinds"])):
        m = pat == p
        out[m] = np.array(names, dtype=object)[r.integers(f"fraud.kind.{p}", len(names), g[m])]
    out[pat == 3] = "marketplace"
    return out.astype(str)


def fraud_rows(r: Keyed, pop: Population, plan: FraudPlan, rows: Builder[Rows]) -> None:
    """Append the fraudulent attempts (refunds are added by the ledger stage, which knows which
    attempts were approved)."""
    victims = np.flatnonzero(plan.day < NEVER)
    if len(victims) == 0:
        return
    g = pop.gidx[victims]
    pat = plan.pattern[victims]
    day = plan.day[victims]
    slot = plan.slot[victims]
    ticket = pop.income[victims] / 365.0
    n_try = np.select(
        [pat == 1, pat == 2, pat == 4],
        [
            4 + r.integers("fraud.n", 12, g),
            2 + r.integers("fraud.n2", 4, g),
            2 + r.integers("fraud.n4", 3, g),
        ],
        1,
    )
    rep = np.repeat(np.arange(len(victims)), n_try)
    k = np.arange(n_try.sum()) - np.repeat(np.cumsum(n_try) - n_try, n_try)
    c, gg, p, d0, sl = victims[rep], g[rep], pat[rep], day[rep], slot[rep]
    u = r.uniform("fraud.u", gg, k)
    kind = _kinds(r, pat, g)[rep]
    # Card testing: one burst, attempts minutes apart; the issuer blocks after 3-6.
    own = _seconds(r, kind, gg, k)
    start = _seconds(r, kind, gg, np.zeros_like(k))
    sec = np.where(p == 1, start + k * (20 + (u * 160).astype(np.int64)), own)
    d = np.where(p == 2, d0 + k // 3, d0)
    amount_major = np.select(
        [p == 1, p == 2, p == 3, p == 4],
        [
            np.where(
                k == n_try[rep] - 1, np.maximum(ticket[rep] * 3, 80), 0.5 + np.floor(u * 5) * 0.5
            ),
            np.maximum(ticket[rep] * 4, 150) * r.lognormal("fraud.a2", 1.0, 0.5, gg, k),
            np.maximum(ticket[rep] * 12, 600) * r.lognormal("fraud.a3", 1.0, 0.4, gg, k),
            np.maximum(ticket[rep] * 3, 100) * r.lognormal("fraud.a4", 1.0, 0.4, gg, k),
        ],
    )
    amount = -np.rint(amount_major * 100).astype(np.int64)
    blocked_after = 3 + r.integers("fraud.block", 4, g)[rep]
    lkind = np.where((p == 1) & (k >= blocked_after), FORCE_DECLINE, CARD)
    country = pop.country[c].astype(np.int64)
    dest = np.full(len(c), -1, dtype=np.int16)
    foreign = p == 2
    if np.any(foreign):
        home = np.array([COUNTRIES[i] for i in country[foreign]])
        choices = (r.uniform("fraud.dest", gg[foreign]) * len(DESTINATIONS)).astype(np.int64)
        # Pick a destination outside the home country.
        dest_c = np.array([x.country for x in DESTINATIONS])
        shift = (dest_c[choices] == np.where(home == "GB", "GB", home)).astype(np.int64)
        dest[foreign] = ((choices + shift * 3) % len(DESTINATIONS)).astype(np.int16)
        # Abroad, the merchants travellers meet there (the British catalogue stands in for
        # countries the simulator has none of, as for trips).
        where = [DESTINATIONS[int(x)].country for x in dest[foreign]]
        country[foreign] = [COUNTRIES.index(x if x in COUNTRIES else "GB") for x in where]
    merchant = np.empty(len(c), dtype=np.int32)
    # Any merchant of the kind, by its share: where the other customers shop too.
    for name in np.unique(kind):
        m = kind == name
        merchant[m] = mc.pick(
            country[m], str(name), r.uniform("fraud.m", gg[m], k[m] // 4), COUNTRIES
        )
    t = mc.merchant_table()
    # Printed as the merchant prints every payment: online merchants online, shops as shops.
    online = t.is_online[merchant]
    desc = np.where(p == 2, D_FOREIGN, np.where(online, D_CARD_ONLINE, D_CARD))
    sec = np.minimum(sec, 86_000)
    pair = np.where(foreign, PAIR_FRAUD + gg * 1000 + k, -1)
    rows.add(
        cust=c,
        slot=sl,
        day=d,
        sec=sec,
        amount=amount,
        lkind=lkind,
        channel=np.where(online, CH_ONLINE, CH_CARD),
        category=t.category[merchant],
        merchant=merchant,
        desc=desc,
        fraud=p,
        dest=dest,
        order=2,
        pair=pair,
        ref=r.integers("fraud.ref", 10**9, gg, k),
    )
    # Foreign purchases carry the bank's foreign transaction fee.
    if np.any(foreign):
        f = np.flatnonzero(foreign)
        rate = np.array([PROFILES[REGIONS[i]].fx_fee_rate for i in range(3)])[pop.region[c[f]]]
        rows.add(
            cust=c[f],
            slot=sl[f],
            day=d[f],
            sec=sec[f],
            amount=np.rint(amount[f] * rate).astype(np.int64),
            lkind=FOLLOW_FEE,
            channel=CH_FEE,
            category=code("BANK_FEES_FOREIGN_TRANSACTION_FEES"),
            desc=D_FEE_FX,
            order=3,
            dest=dest[f],
            pair=pair[f],
        )
