"""What the engine sees of a living world: each customer's live findings, features and profile.

The closed loop runs five policies for half a year on thousands of customers; running the full
ingest-and-detect pipeline on every arm's daily exports would cost hours. This view stands in
for it, from the data a bank has -- the balance history up to yesterday (the world's baseline
balances shifted by what the world has moved since), card spending, the accounts held, the
exported profile and consents, and what the customer did with earlier messages (opt-outs) --
never from the world's hidden needs (`simulate/world/latent.py`), which only the oracle reads.

The findings mirror the catalog's detectors with plain rules of thumb (thresholds chosen here,
none shared with the world's response model):

- ``shortfall``: the balance dipped below zero in the same stretch of last month (days 16-30
  back) and is under half a month's income now -- a monthly pattern about to repeat;
- ``low_balance``: under a tenth of a month's income now;
- ``fees_paid``: overdrawn at some point in the last week (overdraft fees follow; sensitive);
- ``idle_cash``: more than a month's income in checking for 30 days and no savings account;
- ``spending_spike``: card spending of the last two weeks 40% above its usual fortnight;
- ``salary_raise``: income rose (a raise or a new job) in the last 30 days;
- ``upcoming_bill``: every week, the next bills (everyone has some);
- ``daily_summary`` and ``weekly_roundup``: at every scan (the policy picks by rhythm).

A condition that persists is the *same* finding (its subject is the day it started), so a
dismissal sticks and the rules-only arm shows it once, as today's feed does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import numpy as np

from tactful.decide.policy import Candidate, CustomerContext
from tactful.domain.enums import Channel, PersonalizationLevel
from tactful.domain.records import QuietHours
from tactful.simulate.base.rows import CHECKING, CREDIT_CARD, LOAN, SAVINGS
from tactful.simulate.people.personas import CHANNELS
from tactful.simulate.world import World
from tactful.simulate.world.latent import Latent
from tactful.simulate.world.plan import Customers

SCAN_HOUR: Final = 8
"""Decisions are made at 08:00 in the customer's time zone."""
OFFERS: Final = (
    Candidate("offer_savings.P-SAV-EASY", "P-SAV-EASY"),
    Candidate("offer_credit_card.P-CC-CLASSIC", "P-CC-CLASSIC"),
    Candidate("offer_loan.P-LOAN-PERSONAL", "P-LOAN-PERSONAL"),
)
"""One product of each account type the catalog offers (the world's default products)."""
_URGENT = {"shortfall", "low_balance"}


@dataclass(frozen=True, slots=True)
class Person:
    """Where a customer lives in the world's plan, and their static profile."""

    g: int
    customer_id: str
    chunk: int
    pos: int
    timezone: str
    level: PersonalizationLevel
    preferences: tuple[Channel, ...]
    quiet: QuietHours | None
    held: frozenset[str]
    read_hour: int
    logins_per_week: float


class View:
    """The engine's view of one world (one arm): recomputed from the world's state each scan."""

    def __init__(self, world: World) -> None:
        self.world = world
        plans = world._plans  # the evaluation reads the plan it stepped
        self._chunks: list[Customers] = [p.customers for p in plans.chunks]
        self._latent: list[Latent] = plans.latent
        self.people: dict[str, Person] = {}
        for k, plan in enumerate(plans.chunks):
            c = plan.customers
            static = plan.static["customers"]
            consents = plan.static["consents"]
            held: dict[str, set[str]] = {}
            for cid, purpose, status in consents.select(
                    "customer_id", "purpose", "status").iter_rows():
                if status == "granted":
                    held.setdefault(cid, set()).add(purpose)
            pos = {int(g): i for i, g in enumerate(c.gidx)}
            for row in static.iter_rows(named=True):
                g = int(row["g"])
                prefs = tuple(Channel(p) for p in str(row["channel_preferences"] or "")
                              .replace("|", ",").split(",") if p)
                i = pos[g]
                self.people[row["customer_id"]] = Person(
                    g, row["customer_id"], k, i, row["timezone"],
                    PersonalizationLevel(row["personalization_level"]), prefs,
                    _quiet(row["quiet_hours_start"], row["quiet_hours_end"]),
                    frozenset(held.get(row["customer_id"], set())),
                    int(c.read_hour[i]) % 24,
                    7.0 if float(c.engagement[i]) >= 1.0 else 2.0)
        self._live: dict[tuple[int, str], int] = {}

    def plan_of(self, person: Person) -> tuple[Customers, Latent]:
        return self._chunks[person.chunk], self._latent[person.chunk]

    def moment(self, person: Person, day: date) -> datetime:
        """The scan moment: 08:00 local on ``day``."""
        return datetime.combine(day, time(SCAN_HOUR), ZoneInfo(person.timezone))

    def context(self, person: Person, opted_out: frozenset[Channel]) -> CustomerContext:
        prefs = tuple(c for c in person.preferences if c not in opted_out)
        return CustomerContext(
            person.customer_id, person.timezone, person.level, prefs, person.held,
            person.quiet, None, person.read_hour, person.logins_per_week)

    def holds(self, person: Person, slot: int) -> bool:
        return bool(self.world.state.holds[person.g * 6 + slot])

    def scan(self, person: Person, day: int) -> tuple[list[Candidate], dict[str, float]]:
        """The live findings of ``person`` on world day ``day`` (findings first, then offers)
        and the features the catalog's eligibility rules read (money in minor units beside its
        ``unit``, as the rules' vocabulary has it)."""
        c, _ = self.plan_of(person)
        i, st = person.pos, self.world.state
        shift = float(st.offset[person.g * 6 + CHECKING]) / 100.0
        balance = float(st.balance(person.g, CHECKING)) / 100.0
        income = max(float(c.monthly_income[i]) / 100.0, 1.0)
        eod = c.eod[i]
        past30 = eod[max(0, day - 30):day] + shift
        has_savings = self.holds(person, SAVINGS)
        on: dict[str, float] = {}
        if day >= 30 and float(eod[day - 30:day - 16].min()) + shift < 0 and \
                balance < 0.5 * income:
            on["shortfall"] = 0.8
        if 0 <= balance < 0.1 * income:
            on["low_balance"] = 0.6
        if day >= 1 and float((eod[max(0, day - 7):day] + shift).min()) < 0:
            on["fees_paid"] = 0.5
        if day >= 30 and float(past30.min()) > income and not has_savings:
            on["idle_cash"] = 0.7
        if day >= 70:
            recent = float(c.spend[i, day - 14:day].sum())
            usual = float(c.spend[i, day - 70:day - 14].sum()) / 4
            if usual > 0 and recent > 1.4 * usual:
                on["spending_spike"] = 0.5
        raise_day = min(int(c.life_days[i, 1]), int(c.life_days[i, 4]))
        if day - 30 <= raise_day < day:
            on["salary_raise"] = 0.6
        out: list[Candidate] = []
        for action, relevance in on.items():
            start = self._live.setdefault((person.g, action), day)
            out.append(Candidate(action, f"{action}@{start}", relevance,
                                 "high" if action in _URGENT else "normal",
                                 action == "fees_paid", (f"{person.customer_id}:{action}"
                                                         f"@{start}",)))
        for action in ("shortfall", "low_balance", "fees_paid", "idle_cash", "spending_spike",
                       "salary_raise"):
            if action not in on:
                self._live.pop((person.g, action), None)
        week = day // 7
        out.append(Candidate("upcoming_bill", f"bills@w{week}", 0.3))
        out.append(Candidate("daily_summary", f"daily@{day}", 0.2))
        out.append(Candidate("weekly_roundup", f"weekly@w{week}", 0.2))
        out += OFFERS
        features = {
            "holds_savings": float(has_savings),
            "holds_credit_card": float(self.holds(person, CREDIT_CARD)),
            "holds_loan": float(self.holds(person, LOAN)),
            "checking_balance_min_30d": 100.0 * (float(past30.min()) if len(past30)
                                                 else balance),
            "unit": 100.0,
            "shortfall_forecast": float("shortfall" in on or "low_balance" in on),
        }
        return out, features

    def overdrawn_days(self, person: Person, day: int, width: int = 14) -> list[int]:
        """Days of the last ``width`` ending overdrawn (an overdraft fee is a sensitive event
        the contact policy suppresses marketing after)."""
        c, _ = self.plan_of(person)
        shift = float(self.world.state.offset[person.g * 6 + CHECKING]) / 100.0
        lo = max(0, day - width)
        seg = c.eod[person.pos, lo:day] + shift
        return [lo + int(k) for k in np.flatnonzero(seg < 0)]


def channel_index(channel: Channel) -> int:
    return CHANNELS.index(channel.value)


def _quiet(start: str | None, end: str | None) -> QuietHours | None:
    if not start or not end:
        return None
    return QuietHours(time.fromisoformat(start), time.fromisoformat(end))


def local_day(moment: datetime, timezone: str, start: date) -> int:
    """The world's day index of ``moment`` in the customer's zone."""
    return (moment.astimezone(ZoneInfo(timezone)).date() - start).days


def days(n: int) -> timedelta:
    return timedelta(days=n)
