"""Whether a message is *true and useful for this customer now*, judged from the simulator's truth.

This is the hidden half of the closed loop: the engine sees only the exports and must infer
these facts; the simulator knows them. Two steps (docs/simulator.md, "Relevance"):

1. ``in_need``: is the customer in the hidden state the message is about? Each family has one
   rule over the simulator's own causes and states, never an engine setting: a spending-spike
   message needs a simulator-caused rise of the customer's spending (``habits.py``), a shortfall,
   low-balance or idle-cash message the customer's hidden needs (``needs.py``), a price-increase
   message a real price rise, and so on.
2. ``help_probability`` / ``is_relevant``: whether it *helps* is a noisy function of that state
   and of timing -- a customer in need finds the message useful with probability ``P_NEED``
   decaying as the cause ages (they knew already, or it is not the moment), one not in need still
   finds it useful with probability ``P_NO_NEED`` (a reminder that happens to suit them). The draw
   is keyed on (seed, customer, day, family, product), so it is the same for every copy of the
   same message on the same day.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tactful.domain.actions import ActionFamily
from tactful.simulate.base.calendar import NEVER
from tactful.simulate.base.rng import Keyed
from tactful.simulate.base.rows import (
    CH_FEE,
    CH_INTEREST,
    CHECKING,
    CREDIT_CARD,
    INVESTMENT,
    SAVINGS,
)
from tactful.simulate.generate import Chunk
from tactful.simulate.money.series import (
    INCOME_KINDS,
    K_BILL,
    K_SUBSCRIPTION,
    R_PRICE_RISE,
)
from tactful.simulate.people.needs import BILL_KINDS, needs_of
from tactful.simulate.people.personas import HABITS, HOUSING

I64 = NDArray[np.int64]
F32 = NDArray[np.float32]
_BIG = np.int64(1 << 20)
P_NEED: Final = 0.85
"""Probability that a customer in the state a message is about finds it useful, when the cause
is fresh (decays with its age, see ``help_probability``)."""
P_NO_NEED: Final = 0.05
"""Probability that a customer not in that state still finds the message useful."""
SPIKE_NEWS_DAYS: Final = 60
"""A rise of spending is news for two months after it starts; its usefulness halves in ~42."""
NEVER_NOISY: Final = (ActionFamily.DUPLICATE_CHARGE,)
"""Families that are never useful by chance: a duplicate-charge alert about a charge that was
not duplicated is simply false."""


@dataclass(slots=True)
class DayIndex:
    """Sorted (customer, day) pairs answering "is there one between day a and day b?"."""

    key: I64

    @classmethod
    def of(cls, cust: I64, day: I64) -> DayIndex:
        return cls(np.sort(cust.astype(np.int64) * _BIG + (day.astype(np.int64) + 1000)))

    def any_between(self, c: int, lo: int, hi: int) -> bool:
        """Any day d with lo <= d <= hi for customer c."""
        a = np.searchsorted(self.key, c * _BIG + lo + 1000, side="left")
        b = np.searchsorted(self.key, c * _BIG + hi + 1000, side="right")
        return bool(b > a)

    def next_after(self, c: int, day: int) -> int | None:
        a = int(np.searchsorted(self.key, c * _BIG + day + 1000, side="right"))
        if a < len(self.key) and self.key[a] // _BIG == c:
            return int(self.key[a] % _BIG) - 1000
        return None


@dataclass(slots=True)
class TruthState:
    """What relevance needs to know about each customer, day by day."""

    eod: F32
    spend: F32
    monthly: NDArray[np.float64]
    habit: I64
    income_level: I64
    housing: I64
    persona: I64
    holds: NDArray[np.bool_]
    """(n, 6) accounts held."""
    arranged_od: NDArray[np.bool_]
    revolver: NDArray[np.bool_]
    baby_day: I64
    move_day: I64
    bills: DayIndex
    price_rises: DayIndex
    fees: DayIndex
    income_days: DayIndex
    income_changes: DayIndex
    new_series: DayIndex
    """Days on which a bill or subscription series started (its first payment's due day)."""
    fraud_day: I64
    """Day of the customer's fraud attempt (NEVER if none)."""
    rise_age: NDArray[np.int16]
    """(n, n_days) days since the latest simulator-caused rise of spending still going on
    started (``habits.py``), -1 when none is."""
    shortfall_day: NDArray[np.int32]
    stressed: NDArray[np.bool_]
    idle: NDArray[np.bool_]
    """(n, n_days) hidden needs (``needs.py``)."""
    gidx: I64
    seed: int

    @classmethod
    def from_chunk(cls, ch: Chunk, seed: int) -> TruthState:
        return _one(ch, seed)

    @classmethod
    def concat(cls, parts: list[TruthState]) -> TruthState:
        """One state for customers of several chunks, in order."""
        offs = np.cumsum([0] + [len(p.monthly) for p in parts])

        def idx(name: str) -> DayIndex:
            return DayIndex(
                np.concatenate(
                    [
                        getattr(p, name).key + int(o) * _BIG
                        for p, o in zip(parts, offs, strict=False)
                    ]
                )
            )

        return cls(
            eod=np.concatenate([p.eod for p in parts]),
            spend=np.concatenate([p.spend for p in parts]),
            monthly=np.concatenate([p.monthly for p in parts]),
            habit=np.concatenate([p.habit for p in parts]),
            income_level=np.concatenate([p.income_level for p in parts]),
            housing=np.concatenate([p.housing for p in parts]),
            persona=np.concatenate([p.persona for p in parts]),
            holds=np.concatenate([p.holds for p in parts]),
            arranged_od=np.concatenate([p.arranged_od for p in parts]),
            revolver=np.concatenate([p.revolver for p in parts]),
            baby_day=np.concatenate([p.baby_day for p in parts]),
            move_day=np.concatenate([p.move_day for p in parts]),
            bills=idx("bills"),
            price_rises=idx("price_rises"),
            fees=idx("fees"),
            income_days=idx("income_days"),
            income_changes=idx("income_changes"),
            new_series=idx("new_series"),
            fraud_day=np.concatenate([p.fraud_day for p in parts]),
            rise_age=np.concatenate([p.rise_age for p in parts]),
            shortfall_day=np.concatenate([p.shortfall_day for p in parts]),
            stressed=np.concatenate([p.stressed for p in parts]),
            idle=np.concatenate([p.idle for p in parts]),
            gidx=np.concatenate([p.gidx for p in parts]),
            seed=parts[0].seed if parts else 0,
        )


def _rise_age(ch: Chunk) -> NDArray[np.int16]:
    sh = ch.shifts
    n, n_days = ch.checking_eod.shape
    age = np.full((n, n_days), -1, dtype=np.int16)
    for i in np.flatnonzero(np.isnan(sh.factor) | (sh.factor > 1)):
        lo, hi = max(int(sh.start[i]), 0), min(int(sh.end[i]), n_days)
        if lo >= hi:
            continue
        c = int(sh.cust[i])
        new = (np.arange(lo, hi) - int(sh.start[i])).astype(np.int16)
        cur = age[c, lo:hi]
        age[c, lo:hi] = np.where(cur < 0, new, np.minimum(cur, new))
    return age


def _one(ch: Chunk, seed: int) -> TruthState:
    b, s, pop = ch.booked, ch.series, ch.pop
    rows = b.rows
    posted = b.status != 2
    sidx = np.maximum(rows.series, 0)
    is_bill = posted & (rows.series >= 0) & (b.amount < 0) & np.isin(s.kind[sidx], BILL_KINDS)
    is_bill &= np.isin(rows.slot, [CHECKING, CREDIT_CARD])
    is_inc = (
        posted & (rows.series >= 0) & (b.amount > 0) & np.isin(s.kind[sidx], list(INCOME_KINDS))
    )
    is_fee = (
        posted
        & (rows.slot == CHECKING)
        & (b.amount < 0)
        & np.isin(rows.channel, [CH_FEE, CH_INTEREST])
    )
    started = np.isin(s.kind, [K_BILL, K_SUBSCRIPTION]) & (s.start >= 0)
    ch_rise = ch.changes.reason == R_PRICE_RISE
    inc_series = np.isin(s.kind[ch.changes.series], list(INCOME_KINDS))
    life = ch.life
    needs = needs_of(ch)
    ev_c = [np.flatnonzero(life.job_loss_day < NEVER), np.flatnonzero(life.new_job_day < NEVER)]
    ev_d = [life.job_loss_day[ev_c[0]], life.new_job_day[ev_c[1]]]
    rc, ry = np.nonzero(life.raise_day < NEVER)
    ev_c.append(rc)
    ev_d.append(life.raise_day[rc, ry])
    rt = np.flatnonzero(life.retire_day < NEVER)
    ev_c.append(rt)
    ev_d.append(life.retire_day[rt])
    chg = ~ch_rise & inc_series
    ev_c.append(s.cust[ch.changes.series[chg]].astype(np.int64))
    ev_d.append(ch.changes.day[chg])
    return TruthState(
        eod=ch.checking_eod.astype(np.float32),
        spend=ch.spend_day.astype(np.float32),
        monthly=pop.monthly_income,
        habit=pop.habit,
        income_level=pop.income_level,
        housing=pop.housing,
        persona=pop.persona,
        holds=ch.accounts.exists,
        arranged_od=ch.accounts.limit[:, CHECKING] > 0,
        revolver=ch.accounts.revolver,
        baby_day=life.baby_day,
        move_day=life.move_day,
        bills=DayIndex.of(rows.cust[is_bill], rows.day[is_bill]),
        price_rises=DayIndex.of(
            s.cust[ch.changes.series[ch_rise]].astype(np.int64), ch.changes.day[ch_rise]
        ),
        fees=DayIndex.of(rows.cust[is_fee], rows.day[is_fee]),
        income_days=DayIndex.of(rows.cust[is_inc], rows.day[is_inc]),
        income_changes=DayIndex.of(np.concatenate(ev_c), np.concatenate(ev_d)),
        new_series=DayIndex.of(s.cust[started].astype(np.int64), s.start[started]),
        fraud_day=ch.fraud.day.astype(np.int64),
        rise_age=_rise_age(ch),
        shortfall_day=needs.shortfall_day,
        stressed=needs.stressed,
        idle=needs.idle,
        gidx=pop.gidx.astype(np.int64),
        seed=seed,
    )


def is_relevant(
    t: TruthState, c: int, d: int, family: ActionFamily, product_id: str | None
) -> bool:
    """Whether a message of ``family`` helps customer position ``c`` on local day ``d``: a
    keyed draw against ``help_probability``."""
    p = help_probability(t, c, d, family, product_id)
    if p in (0.0, 1.0):
        return p == 1.0
    product = zlib.crc32((product_id or "").encode())
    fam = zlib.crc32(family.value.encode())
    u = float(Keyed(t.seed).uniform("relevance", int(t.gidx[c]), d + 1000, fam, product))
    return u < p


def help_probability(
    t: TruthState, c: int, d: int, family: ActionFamily, product_id: str | None
) -> float:
    """The probability that the message helps: high if the customer is in need (fading as the
    cause ages), low otherwise."""
    if family is ActionFamily.SERVICE_MESSAGE:
        return 1.0
    if not in_need(t, c, d, family, product_id):
        return 0.0 if family in NEVER_NOISY else P_NO_NEED
    if family is ActionFamily.SPENDING_SPIKE:
        return P_NEED * float(np.exp(-int(t.rise_age[c, d]) / SPIKE_NEWS_DAYS))
    if family is ActionFamily.SHORTFALL:
        ahead = int(t.shortfall_day[c, max(d - 1, 0)]) - d
        return P_NEED if ahead <= 7 else 0.7 * P_NEED
    return P_NEED


def in_need(t: TruthState, c: int, d: int, family: ActionFamily, product_id: str | None) -> bool:
    """Whether customer position ``c`` is, on local day ``d``, in the hidden state a message of
    ``family`` is about. States known at the end of day d-1 are those a message on day d meets."""
    n_days = t.eod.shape[1]
    m = float(t.monthly[c])
    y = max(d - 1, 0)
    spend30 = float(t.spend[c, max(d - 30, 0) : d].sum())
    if family is ActionFamily.SPENDING_SPIKE:
        return 0 <= int(t.rise_age[c, min(d, n_days - 1)]) < SPIKE_NEWS_DAYS
    if family is ActionFamily.BUDGET:
        return spend30 > 0.45 * m
    if family is ActionFamily.UPCOMING_BILL:
        return t.bills.any_between(c, d + 1, d + 5)
    if family is ActionFamily.PRICE_INCREASE:
        return t.price_rises.any_between(c, d - 40, d + 7)
    if family is ActionFamily.SHORTFALL:
        return int(t.shortfall_day[c, y]) >= d
    if family is ActionFamily.LOW_BALANCE:
        return bool(t.stressed[c, y])
    if family is ActionFamily.FEES:
        return t.fees.any_between(c, d - 30, d)
    if family is ActionFamily.SAVINGS_OPPORTUNITY:
        return bool(t.idle[c, y]) or t.income_changes.any_between(c, d - 60, d)
    if family is ActionFamily.INCOME_CHANGE:
        return t.income_changes.any_between(c, d - 45, d)
    if family is ActionFamily.PERIODIC_SUMMARY:
        return int(t.habit[c]) in (
            HABITS.index("daily_morning"),
            HABITS.index("daily_evening"),
            HABITS.index("weekly"),
        )
    if family is ActionFamily.NEW_RECURRING:
        return t.new_series.any_between(c, d - 45, d)
    if family is ActionFamily.DUPLICATE_CHARGE:
        return False  # the simulated bank never books a charge twice (docs/simulator.md)
    if family is ActionFamily.UNUSUAL_TRANSACTION:
        return bool(d - 7 <= int(t.fraud_day[c]) <= d)
    if family is ActionFamily.SERVICE_MESSAGE:
        return True
    return _offer_relevant(t, c, d, product_id or "")


def _offer_relevant(t: TruthState, c: int, d: int, product_id: str) -> bool:
    m = float(t.monthly[c])
    low90 = float(t.eod[c, max(d - 90, 0) : d + 1].min())
    low60 = float(t.eod[c, max(d - 60, 0) : d + 1].min())

    def near(day: np.int64, before: int, after: int) -> bool:
        return bool(d - before <= int(day) <= d + after)

    if product_id.startswith("P-SAV"):
        return (
            not t.holds[c, SAVINGS] and (low60 > m or t.income_changes.any_between(c, d - 90, d))
        ) or (bool(t.holds[c, SAVINGS]) and low60 > 3 * m)
    if product_id.startswith("P-CC"):
        return not t.holds[c, CREDIT_CARD] and int(t.income_level[c]) >= 1 and low90 >= 0
    if product_id == "P-LOAN-PERSONAL":
        return near(t.baby_day[c], 60, 60) or near(t.move_day[c], 60, 30) or bool(t.revolver[c])
    if product_id.startswith("P-MORTGAGE"):
        return (
            int(t.housing[c]) == HOUSING.index("rent")
            and near(t.move_day[c], 0, 120)
            and int(t.income_level[c]) >= 1
        )
    if product_id.startswith("P-INV"):
        return not t.holds[c, INVESTMENT] and low60 > 3 * m
    if product_id == "P-INS-LIFE":
        return near(t.baby_day[c], 120, 60)
    if product_id == "P-INS-HOME":
        return near(t.move_day[c], 30, 60)
    if product_id == "P-SVC-OVERDRAFT":
        return not t.arranged_od[c] and low90 < 0
    if product_id == "P-SVC-ALERTS":
        return low90 < 0.05 * m
    return False
