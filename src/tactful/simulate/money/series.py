"""Recurring series: the schedules behind salaries, bills, subscriptions and transfers.

A series is one payer-payee relationship with a cadence, an amount that changes only through
recorded price changes (a raise, a subscription price rise, a rent review) and, for metered
bills and hourly pay, a per-payment variation. ``materialize`` expands every series of a chunk
into rows at once; the same expansion is what the truth tables record, so the truth and the
exports agree by construction and the tests check that they do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Final

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.base.calendar import IRREGULAR, Window, occurrences
from tactful.simulate.base.columns import Builder, Columns
from tactful.simulate.base.rng import Keyed
from tactful.simulate.base.rows import CARD_PAY, CHECKING, FIXED, LINKED, STATEMENT, Rows

SERIES_KINDS: Final = (
    "payroll",
    "pension",
    "gig_income",
    "business_income",
    "benefit",
    "allowance",
    "child_benefit",
    "tax_refund",
    "bonus",
    "rent",
    "mortgage",
    "loan_payment",
    "bill",
    "subscription",
    "transfer",
    "credit_card_payment",
    "childcare",
    "tax",
)
(
    K_PAYROLL,
    K_PENSION,
    K_GIG,
    K_BUSINESS,
    K_BENEFIT,
    K_ALLOWANCE,
    K_CHILD_BENEFIT,
    K_TAX_REFUND,
    K_BONUS,
    K_RENT,
    K_MORTGAGE,
    K_LOAN,
    K_BILL,
    K_SUBSCRIPTION,
    K_TRANSFER,
    K_CARD_PAYMENT,
    K_CHILDCARE,
    K_TAX,
) = range(len(SERIES_KINDS))
INCOME_KINDS: Final = frozenset(
    {
        K_PAYROLL,
        K_PENSION,
        K_GIG,
        K_BUSINESS,
        K_BENEFIT,
        K_ALLOWANCE,
        K_CHILD_BENEFIT,
        K_TAX_REFUND,
        K_BONUS,
    }
)
CHANGE_REASONS: Final = ("price_rise", "raise", "cut", "review", "new_job", "uprating")
R_PRICE_RISE, R_RAISE, R_CUT, R_REVIEW, R_NEW_JOB, R_UPRATING = range(len(CHANGE_REASONS))
SLOTS_PER_CUSTOMER: Final = 100


@dataclass(slots=True)
class Series(Columns):
    """One row per recurring series of the chunk."""

    SPEC: ClassVar[dict[str, tuple[type[Any], int | float | bool]]] = {
        "cust": (np.int32, -1),
        "slot": (np.int16, 0),
        "kind": (np.int8, 0),
        "cadence": (np.int8, 3),
        "anchor_day": (np.int64, 1),
        "anchor_month": (np.int64, 0),
        "start": (np.int64, -(1 << 20)),
        "end": (np.int64, 1 << 30),
        "roll": (np.int8, 0),
        "amount": (np.int64, 0),
        "sigma": (np.float64, 0.0),
        "seasonal": (np.float64, 0.0),
        "skip_months": (np.int32, 0),
        "acct": (np.int8, CHECKING),
        "pair_acct": (np.int8, -1),
        "lkind": (np.int8, FIXED),
        "channel": (np.int8, 0),
        "category": (np.int16, -1),
        "merchant": (np.int32, -1),
        "cparty": (np.int32, -1),
        "service": (np.int32, -1),
        "desc": (np.int8, 0),
        "pair_desc": (np.int8, 0),
        "ref": (np.int64, 0),
        "sec": (np.int32, 0),
        "jitter": (np.int32, 0),
        "p_skip": (np.float64, 0.0),
    }
    cust: NDArray[np.int32]
    slot: NDArray[np.int16]
    kind: NDArray[np.int8]
    cadence: NDArray[np.int8]
    anchor_day: NDArray[np.int64]
    anchor_month: NDArray[np.int64]
    start: NDArray[np.int64]
    end: NDArray[np.int64]
    roll: NDArray[np.int8]
    amount: NDArray[np.int64]
    """Signed minor units at the start (credits positive)."""
    sigma: NDArray[np.float64]
    seasonal: NDArray[np.float64]
    skip_months: NDArray[np.int32]
    """Bit mask of calendar months (bit 0 = January) with no payment (UK council tax)."""
    acct: NDArray[np.int8]
    pair_acct: NDArray[np.int8]
    """For transfers between own accounts: the other account (gets the mirrored row)."""
    lkind: NDArray[np.int8]
    channel: NDArray[np.int8]
    category: NDArray[np.int16]
    merchant: NDArray[np.int32]
    cparty: NDArray[np.int32]
    service: NDArray[np.int32]
    desc: NDArray[np.int8]
    pair_desc: NDArray[np.int8]
    ref: NDArray[np.int64]
    sec: NDArray[np.int32]
    jitter: NDArray[np.int32]
    p_skip: NDArray[np.float64]
    """Probability a scheduled payment does not happen (a gig week without work)."""


@dataclass(slots=True)
class PriceChanges(Columns):
    """Amount changes of series, addressed by (customer, series slot) until ``resolve``."""

    SPEC: ClassVar[dict[str, tuple[type[Any], int | float | bool]]] = {
        "cust": (np.int32, -1),
        "slot": (np.int16, 0),
        "series": (np.int32, -1),
        "day": (np.int64, 0),
        "amount": (np.int64, 0),
        "reason": (np.int8, 0),
    }
    cust: NDArray[np.int32]
    slot: NDArray[np.int16]
    series: NDArray[np.int32]
    """Index into the chunk's ``Series`` (set by ``resolve``)."""
    day: NDArray[np.int64]
    amount: NDArray[np.int64]
    """New signed amount from ``day`` on."""
    reason: NDArray[np.int8]


def resolve(series: Series, changes: PriceChanges) -> PriceChanges:
    """Fill ``changes.series`` from (cust, slot); drop changes of series that do not exist."""
    key = series.cust.astype(np.int64) * SLOTS_PER_CUSTOMER + series.slot
    order = np.argsort(key, kind="stable")
    q = changes.cust.astype(np.int64) * SLOTS_PER_CUSTOMER + changes.slot
    j = np.searchsorted(key[order], q)
    ok = (j < len(key)) & (key[order][np.minimum(j, len(key) - 1)] == q)
    out = changes.take(np.flatnonzero(ok))
    out.series = order[j[ok]].astype(np.int32)
    return out


def amounts_at(
    series: Series, changes: PriceChanges, sidx: NDArray[np.int64], day: NDArray[np.int64]
) -> NDArray[np.int64]:
    """The nominal amount of series ``sidx`` on ``day`` after the price changes before it."""
    base = series.amount[sidx].copy()
    if len(changes) == 0 or len(sidx) == 0:
        return base
    big = np.int64(1 << 32)
    order = np.lexsort((changes.day, changes.series))
    ckey = changes.series[order].astype(np.int64) * big + changes.day[order]
    qkey = sidx.astype(np.int64) * big + day
    j = np.searchsorted(ckey, qkey, side="right") - 1
    ok = (j >= 0) & (changes.series[order][np.maximum(j, 0)] == sidx)
    base[ok] = changes.amount[order][j[ok]]
    return base


def materialize(
    r: Keyed,
    w: Window,
    gidx: NDArray[np.int64],
    series: Series,
    changes: PriceChanges,
    rows: Builder[Rows],
) -> None:
    """Append one row per scheduled payment of every (non-irregular) series."""
    sched = series.cadence != IRREGULAR
    occ = occurrences(
        w,
        np.where(sched, series.cadence, IRREGULAR).astype(np.int64),
        series.anchor_day,
        series.anchor_month,
        series.start,
        series.end,
        series.roll.astype(np.int64),
    )
    s, day = occ.series, occ.day
    cal = w.calendar_month(occ.nominal)
    keep = ((series.skip_months[s] >> cal) & 1) == 0
    g = gidx[series.cust[s]]
    slot = series.slot[s].astype(np.int64)
    keep &= r.uniform("series.skip", g, slot, occ.nominal) >= series.p_skip[s]
    s, day, cal, nominal, g, slot = (
        s[keep],
        day[keep],
        cal[keep],
        occ.nominal[keep],
        g[keep],
        slot[keep],
    )
    amount = amounts_at(series, changes, s, day).astype(np.float64)
    sig = series.sigma[s]
    noise = np.where(
        sig > 0, np.exp(sig * r.normal("series.amount", g, slot, nominal) - sig * sig / 2), 1.0
    )
    # Metered bills peak in winter (heating) and summer (cooling): a six-month cycle.
    season = 1.0 + series.seasonal[s] * np.cos(2 * np.pi * cal / 6.0)
    amount = np.rint(amount * noise * season)
    jit = series.jitter[s]
    sec = series.sec[s] + (r.uniform("series.sec", g, slot, nominal) * jit).astype(np.int64)
    lk = series.lkind[s]
    is_card_pay = lk == CARD_PAY
    pair = np.where(series.pair_acct[s] >= 0, g * 10_000_000 + slot * 100_000 + day, -1)
    common = {
        "cust": series.cust[s],
        "day": day,
        "sec": np.minimum(sec, 86_390),
        "category": series.category[s],
        "merchant": series.merchant[s],
        "cparty": series.cparty[s],
        "service": series.service[s],
        "ref": series.ref[s],
        "series": s,
    }
    rows.add(
        slot=series.acct[s],
        amount=amount.astype(np.int64),
        lkind=lk,
        channel=series.channel[s],
        desc=series.desc[s],
        pair=pair,
        order=1,
        **common,
    )
    has_pair = series.pair_acct[s] >= 0
    if np.any(has_pair):
        p = np.flatnonzero(has_pair)
        pc = {k: v[p] for k, v in common.items()}
        rows.add(
            slot=series.pair_acct[s][p],
            amount=-amount[p].astype(np.int64),
            lkind=np.where(is_card_pay[p], LINKED, FIXED),
            channel=series.channel[s][p],
            desc=series.pair_desc[s][p],
            pair=pair[p],
            order=1,
            **pc,
        )
    # A card account's statement is cut 22 days before its payment is due.
    if np.any(is_card_pay):
        p = np.flatnonzero(is_card_pay)
        rows.add(
            cust=series.cust[s][p],
            slot=series.acct[s][p],
            day=np.maximum(day[p] - 22, 0),
            sec=np.full(len(p), 86_395),
            lkind=STATEMENT,
            series=-1,
        )
