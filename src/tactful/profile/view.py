"""Build one customer's profile from the store.

The behavioural summary is computed in the customer's own time zone: "usually logs in at 7" must
mean 7 where the customer lives, not 7 UTC. Protected attributes are never read here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from sqlalchemy import desc, func, select

from tactful.domain import (
    Account,
    AccountType,
    Channel,
    Consent,
    ConsentPurpose,
    ConsentStatus,
    Customer,
    Money,
    PersonalizationLevel,
    QuietHours,
    Region,
    Transaction,
    TransactionChannel,
    TransactionStatus,
)
from tactful.errors import NotFoundError
from tactful.store import schema
from tactful.store.store import Store
from tactful.trust import consent
from tactful.trust.privacy import mask

LOGIN_KINDS = ("login", "session_start")


@dataclass(frozen=True, slots=True)
class Holding:
    """A product the customer holds, through one of their accounts."""

    product_id: str
    name: str
    kind: str
    account_id: str


@dataclass(frozen=True, slots=True)
class BehaviourSummary:
    logins_per_week: float
    usual_login_hour: int | None
    median_session_minutes: float | None
    features_used: dict[str, int]
    last_seen: datetime | None
    weeks_observed: float


@dataclass(frozen=True, slots=True)
class ConsentState:
    purpose: ConsentPurpose
    status: ConsentStatus
    since: datetime
    source: str


@dataclass(frozen=True, slots=True)
class CategorySpend:
    """Money out in one primary category over the profile's spending window."""

    category: str
    amount: Money
    transactions: int


@dataclass(frozen=True, slots=True)
class RecurringItem:
    series_id: str
    merchant: str
    kind: str
    cadence: str
    typical: Money
    next_date: date | None
    next_amount: Money | None
    status: str


@dataclass(frozen=True, slots=True)
class IncomeItem:
    stream_id: str
    payer: str
    kind: str
    schedule: str
    typical: Money
    monthly: Money | None
    next_date: date | None
    status: str
    last_change: str | None


@dataclass(frozen=True, slots=True)
class InsightLine:
    """A live insight as the customer would read it."""

    insight_id: str
    detector: str
    urgency: str
    title: str
    message: str
    explanation: str


NOT_SPENDING = ("INCOME", "TRANSFER_IN", "TRANSFER_OUT", "LOAN_PAYMENTS")
"""Primary categories that move money without being spent: left out of the spending view."""


@dataclass(frozen=True, slots=True)
class CustomerProfile:
    customer: Customer
    accounts: list[Account]
    holdings: list[Holding]
    recent_transactions: list[Transaction]
    behaviour: BehaviourSummary
    consents: list[ConsentState] = field(default_factory=list)
    spending: list[CategorySpend] = field(default_factory=list)
    spending_window: tuple[date, date] | None = None
    recurring: list[RecurringItem] = field(default_factory=list)
    income: list[IncomeItem] = field(default_factory=list)
    insights: list[InsightLine] = field(default_factory=list)

    def total_balance(self) -> dict[str, Money]:
        """Net balance per currency over open accounts (debts count negative)."""
        totals: dict[str, Money] = {}
        for acc in self.accounts:
            if acc.balance is None or not acc.is_open:
                continue
            prev = totals.get(acc.currency, Money(0, acc.currency))
            totals[acc.currency] = prev + acc.balance
        return totals

    def consent(self, purpose: ConsentPurpose) -> bool:
        return any(
            c.purpose is purpose and c.status is ConsentStatus.GRANTED for c in self.consents
        )


def _money(minor: int | None, currency: str) -> Money | None:
    return None if minor is None else Money(int(minor), currency)


def _customer(row: object) -> Customer:
    r = row._mapping  # type: ignore[attr-defined]
    quiet = None
    if r["quiet_hours_start"] and r["quiet_hours_end"]:
        quiet = QuietHours(
            time.fromisoformat(r["quiet_hours_start"]), time.fromisoformat(r["quiet_hours_end"])
        )
    channels = tuple(Channel(c) for c in (r["channel_preferences"] or "").split("|") if c)
    return Customer(
        id=r["id"],
        region=Region(r["region"]),
        locale=r["locale"],
        timezone=r["timezone"],
        personalization_level=PersonalizationLevel(r["personalization_level"]),
        channel_preferences=channels,
        quiet_hours=quiet,
        segment=r["segment"],
        created_at=r["created_at"],
    )


def _account(row: object) -> Account:
    r = row._mapping  # type: ignore[attr-defined]
    return Account(
        id=r["id"],
        customer_id=r["customer_id"],
        type=AccountType(r["type"]),
        currency=r["currency"],
        balance=_money(r["balance_minor"], r["currency"]),
        balance_as_of=r["balance_as_of"],
        credit_limit=_money(r["credit_limit_minor"], r["currency"]),
        opened_on=r["opened_on"],
        closed_on=r["closed_on"],
        product_id=r["product_id"],
        name=r["name"],
    )


def _transaction(row: object) -> Transaction:
    r = row._mapping  # type: ignore[attr-defined]
    return Transaction(
        id=r["id"],
        account_id=r["account_id"],
        booked_at=r["booked_at"],
        amount=Money(int(r["amount_minor"]), r["currency"]),
        description=r["description"],
        value_at=r["value_at"],
        counterparty=r["counterparty"],
        mcc=r["mcc"],
        channel=TransactionChannel(r["channel"]),
        status=TransactionStatus(r["status"]),
        external_id=r["external_id"],
        balance_after=_money(r["balance_after_minor"], r["currency"]),
        merchant=r["merchant"],
        category=r["category"],
        category_detailed=r["category_detailed"],
        category_source=r["category_source"],
        series_id=r["series_id"],
    )


def summarize_behaviour(
    kinds: list[str],
    times: list[datetime],
    durations: list[float | None],
    features: list[str | None],
    tz: str,
    now: datetime,
) -> BehaviourSummary:
    """Rhythm of use from the customer's events (all of them, in their zone)."""
    zone = ZoneInfo(tz)
    logins = [t.astimezone(zone) for k, t in zip(kinds, times, strict=True) if k in LOGIN_KINDS]
    sessions = [
        d for k, d in zip(kinds, durations, strict=True) if k == "session_end" and d is not None
    ]
    used = Counter(f for k, f in zip(kinds, features, strict=True) if k == "feature_used" and f)
    span_days = max((max(times) - min(times)).total_seconds() / 86400, 7.0) if times else 0.0
    weeks = span_days / 7
    hours = Counter(t.hour for t in logins)
    return BehaviourSummary(
        logins_per_week=round(len(logins) / weeks, 2) if weeks else 0.0,
        usual_login_hour=hours.most_common(1)[0][0] if hours else None,
        median_session_minutes=round(median(sessions) / 60, 1) if sessions else None,
        features_used=dict(used.most_common(8)),
        last_seen=max(times) if times else None,
        weeks_observed=round(weeks, 1),
    )


def load_profile(
    store: Store, customer_id: str, *, recent: int = 10, now: datetime | None = None
) -> CustomerProfile:
    """The 360-degree view of ``customer_id``; ``NotFoundError`` if the store does not know it."""
    now = now or datetime.now(UTC)
    rows = store.rows(select(schema.customers).where(schema.customers.c.id == customer_id))
    if not rows:
        raise NotFoundError(f"customer {mask(customer_id)} is not in the store ({store.url})")
    customer = _customer(rows[0])
    accounts = [
        _account(r)
        for r in store.rows(
            select(schema.accounts)
            .where(schema.accounts.c.customer_id == customer_id)
            .order_by(schema.accounts.c.opened_on, schema.accounts.c.id)
        )
    ]
    account_ids = [a.id for a in accounts]
    products = {r.id: r for r in store.rows(select(schema.products))} if accounts else {}
    holdings = [
        Holding(a.product_id, products[a.product_id].name, products[a.product_id].kind, a.id)
        for a in accounts
        if a.product_id is not None and a.product_id in products
    ]
    t = schema.transactions
    txns = (
        [
            _transaction(r)
            for r in store.rows(
                select(t)
                .where(t.c.account_id.in_(account_ids))
                .order_by(desc(t.c.booked_at), desc(t.c.id))
                .limit(recent)
            )
        ]
        if account_ids
        else []
    )
    e = schema.events
    last = store.rows(select(func.max(e.c.occurred_at)).where(e.c.customer_id == customer_id))
    # The window ends at the customer's latest event, not today, so a historical export still
    # shows its rhythm.
    since = min(now, last[0][0] or now) - timedelta(days=90)
    events = store.rows(
        select(e.c.kind, e.c.occurred_at, e.c.duration_s, e.c.feature).where(
            e.c.customer_id == customer_id, e.c.occurred_at >= since
        )
    )
    behaviour = summarize_behaviour(
        [r.kind for r in events],
        [r.occurred_at for r in events],
        [r.duration_s for r in events],
        [r.feature for r in events],
        customer.timezone,
        now,
    )
    states = [ConsentState(r.purpose, r.status, r.at, r.source)
              for r in consent.in_force(store, customer_id)]
    window, spending = _spending(store, account_ids)
    return CustomerProfile(
        customer,
        accounts,
        holdings,
        txns,
        behaviour,
        states,
        spending=spending,
        spending_window=window,
        recurring=_recurring(store, customer_id),
        income=_income(store, customer_id),
        insights=_insights(store, customer_id,
                           consent.purposes_of(consent.current(store, [customer_id]),
                                               customer_id)),
    )


def _insights(store: Store, customer_id: str, held: frozenset[str]) -> list[InsightLine]:
    """Live and shown insights whose consent purpose the customer holds now (``held``), most
    urgent first (``tactful run`` produces them)."""
    i = schema.insights
    rank = {"high": 0, "normal": 1, "low": 2}
    rows = [r for r in store.rows(
        select(i.c.insight_id, i.c.detector, i.c.urgency, i.c.relevance, i.c.title, i.c.message,
               i.c.explanation, i.c.consent_purpose)
        .where(i.c.customer_id == customer_id, i.c.state.in_(("live", "shown")))
    ) if consent.allows(held, r.consent_purpose)]
    ordered = sorted(rows, key=lambda r: (rank.get(r.urgency, 3), -r.relevance, r.detector))
    return [InsightLine(r.insight_id, r.detector, r.urgency, r.title, r.message, r.explanation)
            for r in ordered]


def _spending(
    store: Store, account_ids: list[str], days: int = 30
) -> tuple[tuple[date, date] | None, list[CategorySpend]]:
    """Spending per primary category over the last ``days`` days of the customer's data."""
    if not account_ids:
        return None, []
    t = schema.transactions
    last = store.rows(select(func.max(t.c.booked_at)).where(t.c.account_id.in_(account_ids)))
    end = last[0][0]
    if end is None:
        return None, []
    start = end - timedelta(days=days)
    rows = store.rows(
        select(t.c.category, t.c.currency, func.sum(t.c.amount_minor), func.count())
        .where(
            t.c.account_id.in_(account_ids),
            t.c.booked_at > start,
            t.c.status != "declined",
            t.c.amount_minor < 0,
            t.c.category.is_not(None),
            t.c.category.not_in(NOT_SPENDING),
        )
        .group_by(t.c.category, t.c.currency)
    )
    spend = [CategorySpend(str(r[0]), Money(-int(r[2]), str(r[1])), int(r[3])) for r in rows]
    spend.sort(key=lambda c: c.amount.minor, reverse=True)
    return (start.date(), end.date()), spend


def _recurring(store: Store, customer_id: str) -> list[RecurringItem]:
    s = schema.recurring_series
    rows = store.rows(
        select(s).where(s.c.customer_id == customer_id, s.c.status != "cancelled")
        .order_by(s.c.next_date, s.c.series_id)
    )
    return [
        RecurringItem(
            r.series_id,
            r.merchant or r.merchant_key or "?",
            r.kind,
            r.cadence,
            Money(int(r.typical_amount_minor), r.currency),
            r.next_date,
            _money(r.next_amount_minor, r.currency),
            r.status,
        )
        for r in rows
    ]


def _income(store: Store, customer_id: str) -> list[IncomeItem]:
    s, ch = schema.income_streams, schema.income_changes
    changes: dict[str, str] = {}
    for r in store.rows(
        select(ch).where(ch.c.customer_id == customer_id).order_by(ch.c.effective_date)
    ):
        changes[r.stream_id] = f"{r.change} {r.change_ratio:+.1%} from {r.effective_date}"
    rows = store.rows(
        select(s).where(s.c.customer_id == customer_id).order_by(s.c.monthly_amount_minor.desc())
    )
    return [
        IncomeItem(
            r.stream_id,
            r.merchant or "?",
            r.kind,
            r.schedule,
            Money(int(r.typical_amount_minor), r.currency),
            _money(r.monthly_amount_minor, r.currency),
            r.next_date,
            r.status,
            changes.get(r.stream_id),
        )
        for r in rows
    ]


def as_consents(profile: CustomerProfile) -> list[Consent]:
    return [
        Consent(profile.customer.id, s.purpose, s.status, s.since, s.source)
        for s in profile.consents
    ]
