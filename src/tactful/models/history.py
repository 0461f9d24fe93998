"""The model layer's edge with the store: everything a feature or a label is computed from.

``load_history`` reads customers, accounts, transactions and login events once into Polars
frames; features (``features.py``) and labels (``labels.py``) are pure functions of a
``History`` and a cutoff, so the no-leakage property can be tested without a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import String, select, type_coerce

from tactful.domain.enums import ConsentPurpose
from tactful.store import schema
from tactful.store.store import Store
from tactful.trust import consent

UTC_TIME = pl.Datetime("us", "UTC")
REFUSING_PURPOSES = (ConsentPurpose.PROFILING, ConsentPurpose.PERSONALIZATION)
"""A customer is trained on and scored only if their latest consent to both purposes is a grant:
a propensity or churn score is profiling (GDPR art. 4(4)), and personalization is what the
scores are for. No record means no consent, as everywhere in Tactful (the insight catalog too)."""

TXN_SCHEMA: dict[str, Any] = {
    "id": pl.String,
    "external_id": pl.String,
    "account_id": pl.String,
    "customer_id": pl.String,
    "account_type": pl.String,
    "booked_at": UTC_TIME,
    "amount_minor": pl.Int64,
    "currency": pl.String,
    "status": pl.String,
    "channel": pl.String,
    "category": pl.String,
    "merchant": pl.String,
    "balance_after_minor": pl.Int64,
}
ACCOUNT_SCHEMA: dict[str, Any] = {
    "id": pl.String,
    "customer_id": pl.String,
    "type": pl.String,
    "opened_on": pl.Date,
    "closed_on": pl.Date,
    "product_id": pl.String,
}
EVENT_SCHEMA: dict[str, Any] = {"customer_id": pl.String, "occurred_at": UTC_TIME}


@dataclass(frozen=True)
class History:
    """What the store knew, as frames: one row per customer, account, transaction, login."""

    customers: pl.DataFrame
    """customer_id, timezone"""
    accounts: pl.DataFrame
    transactions: pl.DataFrame
    logins: pl.DataFrame

    @property
    def end(self) -> datetime:
        """The latest moment the history covers (its last transaction or login)."""
        ends = [
            f[c].max()
            for f, c in ((self.transactions, "booked_at"), (self.logins, "occurred_at"))
            if f.height
        ]
        if not ends:
            raise ValueError("the history holds no transactions")
        return max(e for e in ends if isinstance(e, datetime))

    @property
    def start(self) -> datetime:
        value = self.transactions["booked_at"].min()
        if not isinstance(value, datetime):
            raise ValueError("the history holds no transactions")
        return value

    def restrict(self, customer_ids: Sequence[str]) -> History:
        keep = pl.Series(list(customer_ids), dtype=pl.String)
        return History(
            self.customers.filter(pl.col("customer_id").is_in(keep)),
            self.accounts.filter(pl.col("customer_id").is_in(keep)),
            self.transactions.filter(pl.col("customer_id").is_in(keep)),
            self.logins.filter(pl.col("customer_id").is_in(keep)),
        )


def _utc(column: pl.Series) -> pl.Series:
    if column.dtype == pl.String:
        return column.str.to_datetime(time_zone="UTC", time_unit="us")
    if isinstance(column.dtype, pl.Datetime) and column.dtype.time_zone is None:
        return column.dt.replace_time_zone("UTC").cast(UTC_TIME)
    return column.cast(UTC_TIME)


def _read(store: Store, query: Any, types: dict[str, Any], times: Sequence[str]) -> pl.DataFrame:
    """Bulk read: SQLite hands timestamps over as text, PostgreSQL as aware datetimes."""
    text = store.dialect == "sqlite"
    raw = {k: (pl.String if k in times and text else v) for k, v in types.items()}
    frame = store.raw_frame(query, raw)
    return frame.with_columns([_utc(frame[c]).alias(c) for c in times])


def load_history(store: Store) -> History:
    """Read what features and labels need, in four queries (no per-customer round trips)."""
    t, a, c, e = schema.transactions, schema.accounts, schema.customers, schema.events
    text = store.dialect == "sqlite"

    def ts(col: Any) -> Any:
        return type_coerce(col, String) if text else col

    txns = _read(
        store,
        select(
            t.c.id,
            t.c.external_id,
            t.c.account_id,
            a.c.customer_id,
            a.c.type.label("account_type"),
            ts(t.c.booked_at).label("booked_at"),
            t.c.amount_minor,
            t.c.currency,
            t.c.status,
            t.c.channel,
            t.c.category,
            t.c.merchant,
            t.c.balance_after_minor,
        ).select_from(t.join(a, a.c.id == t.c.account_id)),
        TXN_SCHEMA,
        ["booked_at"],
    )
    accounts = store.frame(
        select(a.c.id, a.c.customer_id, a.c.type, a.c.opened_on, a.c.closed_on, a.c.product_id),
        schema_overrides=ACCOUNT_SCHEMA,
    )
    if accounts.height == 0:
        accounts = pl.DataFrame(schema=ACCOUNT_SCHEMA)
    logins = _read(
        store,
        select(e.c.customer_id, ts(e.c.occurred_at).label("occurred_at")).where(
            e.c.kind == "login"
        ),
        EVENT_SCHEMA,
        ["occurred_at"],
    )
    customers = store.frame(
        select(c.c.id.label("customer_id"), c.c.timezone),
        schema_overrides={"customer_id": pl.String, "timezone": pl.String},
    )
    return History(customers, accounts.select(list(ACCOUNT_SCHEMA)), txns, logins)


def refused_customers(store: Store) -> set[str]:
    """Customers whose latest consent to profiling or personalization is not a grant, or who
    have no consent record for one of them (the rule is ``trust.consent``'s)."""
    return consent.lacking(store, REFUSING_PURPOSES)
