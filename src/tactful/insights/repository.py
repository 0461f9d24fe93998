"""The insight catalog's I/O: load a shard's inputs from the store, keep insights, budgets and
savings goals. Everything that decides lives in the pure modules; this one only reads and writes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl
from sqlalchemy import String, and_, case, func, insert, select, type_coerce, update

from tactful.domain.money import check_currency
from tactful.enrich.frames import INCOME_CHANGES, INCOME_STREAMS, SERIES, with_local_dates
from tactful.enrich.repository import _aware_utc
from tactful.errors import NotFoundError, ValidationError
from tactful.insights import lifecycle
from tactful.insights.catalog import Insight
from tactful.insights.inputs import (
    ACCOUNTS,
    BUDGETS,
    CUSTOMERS,
    FIRST_BOOKED,
    GOALS,
    LOGINS,
    LOOKBACK_DAYS,
    SERIES_CHANGES,
    TRANSACTIONS,
    InsightInputs,
    InsightSettings,
    as_of_day,
    merchant_key,
)
from tactful.store import schema
from tactful.store.store import Store
from tactful.trust import consent
from tactful.trust.privacy import mask

_t, _a, _c = schema.transactions, schema.accounts, schema.customers
CHUNK = 5_000
LOGIN_EVENT_KINDS = ("login", "session_start")
"""The events that make a login day (the only events the detectors' inputs read)."""


def _in(column: Any, ids: Sequence[str]) -> Any:
    return column.in_(list(ids))


def _frame(store: Store, query: Any, schema_: dict[str, pl.DataType]) -> pl.DataFrame:
    frame = store.frame(query)
    if frame.height == 0:
        return pl.DataFrame(schema=schema_)
    return frame.select(list(schema_)).cast(schema_, strict=False)  # type: ignore[arg-type]


def latest_booking_day(store: Store) -> date | None:
    """The bank's "today" when none is given: the last day its data reaches."""
    with store.engine.connect() as conn:
        latest = conn.execute(select(func.max(_t.c.booked_at))).scalar_one_or_none()
    if latest is None:
        return None
    if isinstance(latest, str):
        latest = datetime.fromisoformat(latest)
    return latest.date() if isinstance(latest, datetime) else None


def _utc_frame(store: Store, query: Any, zones: pl.DataFrame) -> pl.DataFrame:
    """Rows with a ``booked_at`` timestamp and a ``customer_id``, with ``booked_on``: the local
    date in the customer's time zone (``zones``: customer_id, timezone)."""
    names = [c.name for c in query.selected_columns]
    types: dict[str, Any] = dict.fromkeys(names, pl.String)
    if "amount_minor" in types:
        types["amount_minor"] = pl.Int64
    if store.dialect != "sqlite":
        types["booked_at"] = pl.Datetime("us", "UTC")
    frame = store.raw_frame(query, types)
    if frame.height == 0:
        return frame
    frame = frame.with_columns(_aware_utc(frame.get_column("booked_at")).alias("booked_at"))
    return with_local_dates(frame.join(zones, on="customer_id", how="left")).drop("timezone")


def _first_booked(store: Store, ids: Sequence[str], zones: pl.DataFrame) -> pl.DataFrame:
    query = (
        select(_t.c.account_id, _a.c.customer_id,
               type_coerce(func.min(_t.c.booked_at), String).label("booked_at"))
        .select_from(_t.join(_a, _a.c.id == _t.c.account_id))
        .where(_in(_a.c.customer_id, ids), _t.c.status == "posted")
        .group_by(_t.c.account_id, _a.c.customer_id)
    )
    frame = _utc_frame(store, query, zones)
    if frame.height == 0:
        return pl.DataFrame(schema=dict(FIRST_BOOKED))
    return frame.select("account_id", "customer_id", pl.col("booked_on").alias("first_on"))


def _transactions(store: Store, ids: Sequence[str], since: datetime,
                  zones: pl.DataFrame) -> pl.DataFrame:
    """The shard's transactions since ``since``; the text a merchant key falls back to is read
    only where there is no merchant (fetching is the cost here: fewer values, faster)."""
    query = (
        select(
            _t.c.id, _t.c.account_id, _a.c.customer_id, _a.c.type.label("account_type"),
            type_coerce(_t.c.booked_at, String).label("booked_at"), _t.c.amount_minor,
            _t.c.currency, _t.c.channel, _t.c.status, _t.c.merchant,
            case((_t.c.merchant.is_(None), _t.c.description)).label("description"),
            _t.c.category, _t.c.category_detailed, _t.c.series_id,
        )
        .select_from(_t.join(_a, _a.c.id == _t.c.account_id))
        .where(_in(_a.c.customer_id, ids), _t.c.booked_at >= since)
    )
    frame = _utc_frame(store, query, zones)
    if frame.height == 0:
        return pl.DataFrame(schema=dict(TRANSACTIONS))
    frame = frame.with_columns(merchant_key().alias("merchant_key"))
    return frame.select(list(TRANSACTIONS))


def load_inputs(
    store: Store,
    customer_ids: Sequence[str],
    *,
    as_of: date,
    settings: InsightSettings | None = None,
) -> InsightInputs:
    """A shard's inputs as of the end of ``as_of``: what the detectors may see, nothing later."""
    ids = list(customer_ids)
    customers = _frame(store, select(
        _c.c.id.label("customer_id"), _c.c.region, _c.c.locale, _c.c.timezone,
        _c.c.personalization_level).where(_in(_c.c.id, ids)), dict(CUSTOMERS))
    p = schema.products
    accounts = _frame(store, select(
        _a.c.id.label("account_id"), _a.c.customer_id, _a.c.type, _a.c.currency,
        _a.c.balance_minor, _a.c.credit_limit_minor, _a.c.opened_on, _a.c.closed_on,
        _a.c.product_id, p.c.name.label("product_name"),
    ).select_from(_a.outerjoin(p, p.c.id == _a.c.product_id)).where(
        _in(_a.c.customer_id, ids)), dict(ACCOUNTS))
    accounts = rolled_forward(store, accounts.with_columns(pl.col("balance_minor").fill_null(0)),
                              ids)
    # a day of margin for time zones west of UTC; as_of_day cuts on the local day
    since = datetime.combine(as_of - timedelta(days=LOOKBACK_DAYS + 1), time(0), UTC)
    zones = customers.select("customer_id", "timezone")
    accounts, transactions = as_of_day(accounts, _transactions(store, ids, since, zones), as_of)
    s, sc = schema.recurring_series, schema.series_changes
    series = _frame(store, select(s).where(_in(s.c.customer_id, ids)), dict(SERIES))
    changes = _frame(store, select(sc).where(_in(sc.c.customer_id, ids)), dict(SERIES_CHANGES))
    i, ic = schema.income_streams, schema.income_changes
    income = _frame(store, select(i).where(_in(i.c.customer_id, ids)), dict(INCOME_STREAMS))
    income_changes = _frame(store, select(ic).where(_in(ic.c.customer_id, ids)),
                            dict(INCOME_CHANGES))
    b, g = schema.budgets, schema.savings_goals
    budgets = _frame(store, select(b).where(_in(b.c.customer_id, ids)), dict(BUDGETS))
    goals = _frame(store, select(
        g.c.goal_id, g.c.customer_id, g.c.name, g.c.account_id, g.c.target_minor, g.c.currency,
        g.c.target_date, g.c.created_at.label("created_on"),
    ).where(_in(g.c.customer_id, ids)), {**dict(GOALS), "created_on": pl.Datetime("us", "UTC")})
    goals = goals.with_columns(pl.col("created_on").dt.date())
    return InsightInputs(
        as_of=as_of, customers=customers, accounts=accounts, transactions=transactions,
        series=series, series_changes=changes, income=income, income_changes=income_changes,
        consents=_granted(store, ids, as_of), budgets=budgets, goals=goals,
        logins=_logins(store, ids, as_of, customers), first_booked=_first_booked(store, ids, zones),
        settings=settings or InsightSettings(),
    )


def rolled_forward(store: Store, accounts: pl.DataFrame, ids: Sequence[str]) -> pl.DataFrame:
    """``accounts`` (of customers ``ids``) with each balance brought to the end of what the store
    holds: the bank's figure is the balance at its ``balance_as_of``, so every transaction the
    balance counts (``in_balance``: not declined) booked after that moment is added. A bank that
    sends transactions every day and account balances less often (a weekly or monthly accounts
    file, a statement's closing balance followed by the next days' bookings) would otherwise be
    read as if the old balance were today's, and every balance walked back from it
    (``as_of_day``) shifted by what moved since. A balance with no ``balance_as_of`` is taken
    as including every stored transaction (the real-time path adds each one to it)."""
    later = _frame(store, select(
        _t.c.account_id, func.sum(_t.c.amount_minor).label("_later"),
    ).select_from(_t.join(_a, _a.c.id == _t.c.account_id)).where(
        _in(_a.c.customer_id, ids), _a.c.balance_as_of.is_not(None),
        _t.c.booked_at > _a.c.balance_as_of, _t.c.status != "declined",
    ).group_by(_t.c.account_id), {"account_id": pl.String(), "_later": pl.Int64()})
    if later.height == 0:
        return accounts
    return accounts.join(later, on="account_id", how="left").with_columns(
        (pl.col("balance_minor") + pl.col("_later").fill_null(0)).alias("balance_minor")
    ).drop("_later")


def _granted(store: Store, ids: Sequence[str], as_of: date) -> pl.DataFrame:
    """The purposes each customer held at the end of ``as_of`` and still holds now: a replay of
    a past day may not use a consent given later, nor one withdrawn since (``trust.consent``)."""
    rows = consent.records(store, ids)
    then = consent.granted(rows, at=datetime.combine(as_of, time.max, UTC))
    return then.join(consent.granted(rows), on=["customer_id", "purpose"], how="semi")


def _logins(store: Store, ids: Sequence[str], as_of: date, customers: pl.DataFrame) -> (
    pl.DataFrame
):
    """The local days on which each customer opened the app, up to ``as_of``."""
    e = schema.events
    query = select(e.c.customer_id, type_coerce(e.c.occurred_at, String).label("booked_at")).where(
        _in(e.c.customer_id, ids), e.c.kind.in_(LOGIN_EVENT_KINDS),
        e.c.occurred_at >= datetime.combine(as_of - timedelta(days=LOOKBACK_DAYS), time(0), UTC))
    frame = _utc_frame(store, query, customers.select("customer_id", "timezone"))
    if frame.height == 0:
        return pl.DataFrame(schema=dict(LOGINS))
    local = frame.select("customer_id", pl.col("booked_on").alias("day"))
    return local.filter(pl.col("day") <= as_of).unique()


# -- insights -------------------------------------------------------------------------------

def existing(store: Store, customer_ids: Sequence[str]) -> pl.DataFrame:
    """The store's insights of ``customer_ids``, as the lifecycle needs them."""
    i = schema.insights
    frames = []
    ids = list(customer_ids)
    for start in range(0, len(ids), CHUNK):
        part = ids[start:start + CHUNK]
        frames.append(_frame(store, select(
            i.c.insight_id, i.c.customer_id, i.c.detector, i.c.subject, i.c.state,
            i.c.expires_at, i.c.cooldown_until).where(_in(i.c.customer_id, part)),
            dict(lifecycle.EXISTING)))
    return pl.concat(frames) if frames else pl.DataFrame(schema=dict(lifecycle.EXISTING))


def write_insights(store: Store, insights: Sequence[Insight], *, run_id: int | None) -> int:
    if not insights:
        return 0
    rows = [{**ins.row(), "run_id": run_id} for ins in insights]
    with store.transaction() as conn:
        for start in range(0, len(rows), 2_000):
            conn.execute(insert(schema.insights), rows[start:start + 2_000])
    return len(rows)


def expire(store: Store, insight_ids: Sequence[str], at: datetime) -> int:
    if not insight_ids:
        return 0
    i = schema.insights
    with store.transaction() as conn:
        for start in range(0, len(insight_ids), CHUNK):
            conn.execute(update(i).where(_in(i.c.insight_id, insight_ids[start:start + CHUNK]))
                         .values(state=lifecycle.EXPIRED, state_changed_at=at))
    return len(insight_ids)


def mark(store: Store, insight_id: str, state: str, *, at: datetime | None = None) -> str:
    """Move an insight to ``state`` (shown, acted_on, dismissed); returns the previous state."""
    i = schema.insights
    with store.transaction() as conn:
        current = conn.execute(select(i.c.state).where(i.c.insight_id == insight_id)).scalar()
        if current is None:
            raise NotFoundError(f"no insight {insight_id!r}")
        lifecycle.check_transition(current, state, insight_id=insight_id)
        conn.execute(update(i).where(i.c.insight_id == insight_id).values(
            state=state, state_changed_at=at or datetime.now(UTC)))
    return str(current)


def list_insights(
    store: Store, customer_id: str, *, states: Sequence[str] | None = lifecycle.OPEN
) -> list[dict[str, Any]]:
    """A customer's insights, most urgent and relevant first.

    An open insight whose consent purpose the customer does not hold now is left out, whatever
    its stored state: a second guard behind the retraction a withdrawal makes."""
    i = schema.insights
    query = select(i).where(i.c.customer_id == customer_id)
    if states:
        query = query.where(i.c.state.in_(list(states)))
    rank = {"high": 0, "normal": 1, "low": 2}
    held = consent.purposes_of(consent.current(store, [customer_id]), customer_id)
    rows = [
        dict(r._mapping) for r in store.rows(query)
        if r.state not in lifecycle.OPEN or consent.allows(held, r.consent_purpose)
    ]
    for r in rows:
        if isinstance(r["facts"], str):
            r["facts"] = json.loads(r["facts"])
    rows.sort(key=lambda r: (rank.get(r["urgency"], 3), -r["relevance"], r["detector"]))
    return rows


# -- what customers set ---------------------------------------------------------------------

def set_budget(store: Store, customer_id: str, category: str, limit_minor: int,
               currency: str) -> None:
    from tactful.enrich.taxonomy import DETAILED, PRIMARY

    if category not in PRIMARY and category not in DETAILED:
        raise ValidationError(f"budget category {category!r} is not a primary or detailed code")
    if limit_minor <= 0:
        raise ValidationError(f"budget limit must be positive, got {limit_minor}")
    check_currency(currency)
    b = schema.budgets
    with store.transaction() as conn:
        conn.execute(b.delete().where(and_(b.c.customer_id == customer_id,
                                           b.c.category == category)))
        conn.execute(insert(b).values(customer_id=customer_id, category=category,
                                      limit_minor=limit_minor, currency=currency,
                                      created_at=datetime.now(UTC)))


def add_goal(store: Store, *, goal_id: str, customer_id: str, name: str, account_id: str,
             target_minor: int, currency: str, target_date: date | None = None) -> None:
    if target_minor <= 0:
        raise ValidationError(f"goal target must be positive, got {target_minor}")
    check_currency(currency)
    a = schema.accounts
    owner = store.rows(select(a.c.customer_id).where(a.c.id == account_id))
    if not owner or owner[0][0] != customer_id:
        raise ValidationError(
            f"account {mask(account_id)} is not an account of customer {mask(customer_id)}"
        )
    g = schema.savings_goals
    with store.transaction() as conn:
        conn.execute(g.delete().where(g.c.goal_id == goal_id))
        conn.execute(insert(g).values(goal_id=goal_id, customer_id=customer_id, name=name,
                                      account_id=account_id, target_minor=target_minor,
                                      currency=currency, target_date=target_date,
                                      created_at=datetime.now(UTC)))
