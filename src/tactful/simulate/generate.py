"""One chunk of customers, end to end: traits, events, flows, the ledger.

Every draw is keyed by the customer's global index, so a chunk of customers [lo, hi) is the same
whatever other chunks exist; ``generate_chunk`` is a pure function of (config, lo, hi).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.bank.accounts import Accounts, draw_accounts
from tactful.simulate.bank.adoption import adopt, opening_deposits
from tactful.simulate.bank.booking import Booked, book
from tactful.simulate.bank.ledger import REFUND
from tactful.simulate.base.calendar import NEVER, Window
from tactful.simulate.base.columns import Builder
from tactful.simulate.base.rng import Keyed
from tactful.simulate.base.rows import (
    CARD,
    CH_CARD,
    CH_INTEREST,
    CH_ONLINE,
    CH_OTHER,
    CH_TRANSFER,
    CHECKING,
    CREDIT_CARD,
    D_INT_CARD,
    D_INT_CREDIT,
    D_INT_LOAN,
    D_INT_OD,
    D_P2P_OUT,
    D_REFUND,
    D_SWEEP,
    INTEREST,
    SAVINGS,
    SWEEP,
    Rows,
)
from tactful.simulate.base.taxonomy import code
from tactful.simulate.config import SimulationConfig
from tactful.simulate.counterparties import merchants as mc
from tactful.simulate.exports.timezones import localize
from tactful.simulate.money.fraud import FraudPlan, draw_fraud, fraud_rows
from tactful.simulate.money.income import income_series
from tactful.simulate.money.liquidity import constrain
from tactful.simulate.money.one_off import one_off_rows
from tactful.simulate.money.p2p import people_rows
from tactful.simulate.money.recurring import recurring_series
from tactful.simulate.money.refunds import with_refunds
from tactful.simulate.money.returns import with_late_and_returned
from tactful.simulate.money.series import (
    INCOME_KINDS,
    SLOTS_PER_CUSTOMER,
    PriceChanges,
    Series,
    materialize,
    resolve,
)
from tactful.simulate.money.spending import day_factors, month_factors, spending_rows
from tactful.simulate.money.subscriptions import subscription_series
from tactful.simulate.money.travel import Trips, draw_trips, trip_rows
from tactful.simulate.people.churn import Churn, draw_churn
from tactful.simulate.people.consents import ConsentChanges, draw_consent_changes
from tactful.simulate.people.habits import HabitShifts, draw_shifts
from tactful.simulate.people.life_events import LifeEvents, draw_life_events
from tactful.simulate.people.personas import Population, draw_population
from tactful.simulate.people.regions import ALL_PLACES, TIMEZONES

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


@dataclass(slots=True)
class Chunk:
    """Everything generated for customers [lo, hi)."""

    window: Window
    pop: Population
    accounts: Accounts
    life: LifeEvents
    churn: Churn
    fraud: FraudPlan
    trips: Trips
    shifts: HabitShifts
    series: Series
    changes: PriceChanges
    booked: Booked
    consents: ConsentChanges
    checking_eod: F64
    """(n, n_days) end-of-day checking balance in major units (for behaviour and relevance)."""
    spend_day: F64
    """(n, n_days) everyday card spending (major units, positive) per day."""


def generate_chunk(config: SimulationConfig, lo: int, hi: int) -> Chunk:
    with mc.using(mc.table_for(config.seed, config.unseen_merchants)):
        return _generate_chunk(config, lo, hi)


def _generate_chunk(config: SimulationConfig, lo: int, hi: int) -> Chunk:
    r = Keyed(config.seed)
    w = Window(config.start, config.months)
    gidx = np.arange(lo, hi, dtype=np.int64)
    pop = draw_population(r, gidx, config.region_weights, config.persona_weights)
    life = draw_life_events(r, pop, w)
    churn = draw_churn(r, pop, w)
    accts = adopt(r, w, pop, life, churn, draw_accounts(r, pop))
    fraud = draw_fraud(r, pop, w, churn)
    trips = draw_trips(r, w, pop, churn)
    shifts = draw_shifts(r, w, pop, life)

    sb: Builder[Series] = Builder(Series)
    cb: Builder[PriceChanges] = Builder(PriceChanges)
    rb: Builder[Rows] = Builder(Rows)
    income_series(r, w, pop, life, churn, sb, cb, rb)
    recurring_series(r, w, pop, accts, life, churn, sb, cb)

    def churn_end(idx: I64, slot: I64) -> I64:
        return churn.series_end(r, gidx, idx, slot)

    subscription_series(r, w, pop, accts, churn_end, churn.closure_day, sb, cb)
    series = sb.build()
    # Customer then slot: the order must not depend on how customers are chunked.
    series = series.take(np.lexsort((series.slot, series.cust)))
    changes = resolve(series, cb.build())
    materialize(r, w, gidx, series, changes, rb)
    opening_deposits(r, pop, accts, rb)

    first = rb.build()
    n, n_days = len(pop), w.n_days
    inc = (first.series >= 0) & (first.amount > 0)
    inc &= np.isin(series.kind[np.maximum(first.series, 0)], list(INCOME_KINDS))
    inc &= (first.day >= 0) & (first.day < n_days)
    paid = np.zeros((n, n_days), dtype=bool)
    paid[first.cust[inc], first.day[inc]] = True
    away = trips.away(n, n_days)
    home, online = day_factors(w, pop, life, churn, paid, away)
    mood = month_factors(r, w, pop)
    home, online = home * mood, online * mood
    card_share = np.where(pop.has_card, np.where(accts.revolver, 0.5, 0.6), 0.0)

    rb2: Builder[Rows] = Builder(Rows)
    rb2.extend(first)
    spending_rows(r, w, pop, life, home, online, card_share, rb2, shifts)
    trip_rows(r, w, pop, trips, card_share, rb2)
    people_rows(r, w, pop, churn, rb2)
    one_off_rows(r, w, pop, churn, rb2)
    rows = rb2.build()
    discretionary = (rows.series < 0) & (rows.lkind == CARD)
    discretionary |= (rows.desc == D_P2P_OUT) & (rows.amount < 0)
    rows = constrain(r, w, pop, accts, rows, discretionary)
    rows = with_refunds(r, pop, rows)
    rows = with_late_and_returned(r, w, pop, accts, rows)
    rb3: Builder[Rows] = Builder(Rows)
    rb3.extend(rows)
    fraud_rows(r, pop, fraud, rb3)
    _placeholders(w, pop, accts, churn, fraud, rb3)
    rows = rb3.build()
    rows = _resolve_slots(series, rows)
    rows = _clip(w, accts, churn, rows)
    # Times that do not exist locally (the hour skipped in spring) move as a clock would.
    zone = np.array([TIMEZONES.index(p.timezone) for p in ALL_PLACES])[pop.place]
    rows.sec = localize(
        w, zone[rows.cust], TIMEZONES, rows.day.astype(np.int64), rows.sec.astype(np.int64)
    )[0].astype(np.int32)
    rows.value_lag = _value_lags(r, pop, rows)
    booked = book(w, pop, accts, rows)
    eod, spend = _daily(w, pop, accts, booked)
    return Chunk(
        window=w,
        pop=pop,
        accounts=accts,
        life=life,
        churn=churn,
        fraud=fraud,
        trips=trips,
        shifts=shifts,
        series=series,
        changes=changes,
        booked=booked,
        consents=draw_consent_changes(r, w, pop),
        checking_eod=eod,
        spend_day=spend,
    )


def _placeholders(
    w: Window, pop: Population, accts: Accounts, churn: Churn, fraud: FraudPlan, rows: Builder[Rows]
) -> None:
    """Monthly interest, closure sweeps and fraud refunds (amounts decided by the ledger)."""
    months = w.month_start(np.arange(1, w.months))
    has_rate = (accts.rate_pos > 0) | (accts.rate_neg > 0)
    ci, si = np.nonzero(has_rate & accts.exists)
    desc = np.array([D_INT_OD, D_INT_CREDIT, D_INT_CARD, D_INT_LOAN, D_INT_LOAN, D_INT_CREDIT])
    cat = np.where(si == SAVINGS, code("INCOME_INTEREST_EARNED"), code("BANK_FEES_INTEREST_CHARGE"))
    for m in months:
        rows.add(
            cust=ci,
            slot=si,
            day=np.full(len(ci), m),
            sec=60,
            lkind=INTEREST,
            channel=CH_INTEREST,
            category=cat,
            desc=desc[si],
            order=0,
        )
    closes = np.flatnonzero(churn.closure_day < w.n_days)
    cc, ss = np.nonzero(accts.exists[closes])
    cust = closes[cc]
    rows.add(
        cust=cust,
        slot=ss,
        day=churn.closure_day[cust],
        sec=86_399,
        lkind=SWEEP,
        channel=CH_TRANSFER,
        category=code("TRANSFER_OUT_ACCOUNT_TRANSFER"),
        desc=D_SWEEP,
        order=9,
    )
    hit = np.flatnonzero(
        (fraud.day < NEVER) & (fraud.reissue_day < np.minimum(churn.closure_day, w.n_days))
    )
    rows.add(
        cust=hit,
        slot=fraud.slot[hit],
        day=fraud.reissue_day[hit],
        sec=12 * 3600,
        lkind=REFUND,
        channel=CH_OTHER,
        category=code("TRANSFER_IN_OTHER_TRANSFER_IN"),
        desc=D_REFUND,
        order=1,
        ref=pop.gidx[hit] % 10**8,
    )


def _value_lags(r: Keyed, pop: Population, rows: Rows) -> NDArray[np.int8]:
    """Card payments take value when the scheme settles them, 1-3 days after the purchase.

    Visa and Mastercard clear and settle most transactions the next business day, some later
    (weekends, batch cut-offs, offline terminals); banks that date card lines by settlement show
    a value date after the booking date: one day for 60%, two for 30%, three for 10% (chosen to
    that shape). Other rows take value the day they are booked.
    """
    card = np.isin(rows.channel, [CH_CARD, CH_ONLINE]) & (rows.amount < 0)
    c = np.flatnonzero(card)
    u = r.uniform("value.lag", pop.gidx[rows.cust[c]], rows.day[c], rows.sec[c], rows.amount[c])
    lag = np.zeros(len(rows), dtype=np.int8)
    lag[c] = 1 + (u > 0.6).astype(np.int8) + (u > 0.9).astype(np.int8)
    return lag


def _resolve_slots(series: Series, rows: Rows) -> Rows:
    """Point rows of irregular series (invoices) at their series."""
    m = np.flatnonzero(rows.sslot >= 0)
    if len(m) == 0:
        return rows
    key = series.cust.astype(np.int64) * SLOTS_PER_CUSTOMER + series.slot
    order = np.argsort(key, kind="stable")
    q = rows.cust[m].astype(np.int64) * SLOTS_PER_CUSTOMER + rows.sslot[m]
    j = np.minimum(np.searchsorted(key[order], q), len(order) - 1)
    ok = key[order][j] == q
    rows.series[m[ok]] = order[j[ok]]
    return rows


def _clip(w: Window, accts: Accounts, churn: Churn, rows: Rows) -> Rows:
    """Drop rows outside the window, on accounts that do not exist, or after closure."""
    exists = accts.exists[rows.cust, rows.slot]
    close = churn.closure_day[rows.cust]
    ok = exists & (rows.day >= np.maximum(accts.opened_day[rows.cust, rows.slot], 0))
    ok &= rows.day < w.n_days
    ok &= (rows.day < close) | ((rows.day == close) & (rows.lkind == SWEEP))
    return rows.take(np.flatnonzero(ok))


def _daily(w: Window, pop: Population, accts: Accounts, b: Booked) -> tuple[F64, F64]:
    """End-of-day checking balances and daily card spending, per customer."""
    n, n_days = len(pop), w.n_days
    rows = b.rows
    chk = (rows.slot == CHECKING) & (b.status != 2)
    eod = np.full((n, n_days), np.nan)
    # Last row of each (customer, day) gives the closing balance of that day.
    c, d = rows.cust[chk].astype(np.int64), rows.day[chk].astype(np.int64)
    key = c * n_days + d
    last = np.flatnonzero(np.diff(key, append=-1) != 0)
    eod[c[last], d[last]] = b.balance[chk][last]
    eod[:, 0] = np.where(np.isnan(eod[:, 0]), accts.opening[:, CHECKING], eod[:, 0])
    idx = np.where(~np.isnan(eod), np.arange(n_days)[None, :], 0)
    np.maximum.accumulate(idx, axis=1, out=idx)
    filled: F64 = np.take_along_axis(eod, idx, axis=1) / 100.0
    card = (b.status != 2) & (b.amount < 0) & np.isin(rows.slot, [CHECKING, CREDIT_CARD])
    card &= np.isin(rows.channel, [0, 1])
    flat = rows.cust[card].astype(np.int64) * n_days + rows.day[card]
    weights = -b.amount[card].astype(np.float64) / 100.0
    spend: F64 = np.bincount(flat, weights=weights, minlength=n * n_days).astype(np.float64)
    spend = spend.reshape(n, n_days)
    return filled, spend
