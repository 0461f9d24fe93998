"""A customer's rule features for the real-time decision, computed once per day and data.

The catalog's eligibility rules read the insight rules' features (``insights.rules.features``
over ``insights.repository.load_inputs``): a dozen frames built for one customer, three
quarters of a feed request. They are a function of the customer's rows and the day, and
between two requests those rarely change -- so the features are kept per customer and day,
beside a *fingerprint* of every row ``load_inputs`` reads for them, taken in one indexed
statement per request; a fingerprint that differs computes the features again.

The fingerprint holds, for the customer: the profile row; per account table the number of
rows, the sums of balances and limits, the latest update; per transactions, logins, consents
and recategorizations the number of rows, the sum of amounts and the latest moment (they are
appended; a recategorization is written beside the rows it changes); the number of rows of each
derived table (series, income, budgets, goals) with the sums of their amounts; and, for the
bank, the latest enrich and insight runs (a run rewrites categories and derived rows in place)
and the number of products. A posted transaction (a row, a balance moved), a login, a consent,
a preference, a budget or a nightly run each changes it; a page view does not (the features
read logins only).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Any, Final

from sqlalchemy import bindparam, func, select

from tactful.decide.held import PerStore
from tactful.insights.repository import LOGIN_EVENT_KINDS as LOGIN_KINDS
from tactful.store import schema
from tactful.store.store import Store

HELD: Final = 20_000
"""Customers whose features one process keeps (least recently asked for dropped first)."""

Features = dict[str, float]


@cache
def _fingerprint_query() -> Any:
    """Built once, the customer a parameter: building the statement costs more than running
    it."""
    customer_id: Any = bindparam("customer_id")
    a, t, e = schema.accounts, schema.transactions, schema.events
    c = schema.customers

    def scalar(*columns: Any, table: Any, where: Any = None) -> list[Any]:
        out = []
        for column in columns:
            q = select(column).select_from(table)
            if where is not None:
                q = q.where(where)
            out.append(q.scalar_subquery())
        return out

    own = a.c.customer_id == customer_id
    accounts = a.join(t, a.c.id == t.c.account_id)
    parts = [
        *scalar(c.c.timezone, c.c.region, c.c.locale, c.c.personalization_level, table=c,
                where=c.c.id == customer_id),
        *scalar(func.count(), func.sum(a.c.balance_minor), func.sum(a.c.credit_limit_minor),
                func.max(a.c.updated_at), func.max(a.c.balance_as_of), func.count(a.c.closed_on),
                func.count(a.c.product_id), table=a, where=own),
        *scalar(func.count(), func.sum(t.c.amount_minor), func.max(t.c.booked_at),
                table=accounts, where=own),
        *scalar(func.count(), func.max(e.c.occurred_at), table=e,
                where=(e.c.customer_id == customer_id) & e.c.kind.in_(LOGIN_KINDS)),
    ]
    for table, amount in ((schema.consents, None), (schema.recategorizations, None),
                          (schema.recurring_series, None), (schema.series_changes, None),
                          (schema.income_streams, "monthly_amount_minor"),
                          (schema.income_changes, None), (schema.budgets, "limit_minor"),
                          (schema.savings_goals, "target_minor")):
        columns: list[Any] = [func.count()]
        if amount is not None:
            columns.append(func.sum(table.c[amount]))
        if "at" in table.c:
            columns.append(func.max(table.c["at"]))
        parts += scalar(*columns, table=table, where=table.c.customer_id == customer_id)
    parts += [
        *scalar(func.max(schema.enrich_runs.c.id), table=schema.enrich_runs),
        *scalar(func.max(schema.insight_runs.c.id), table=schema.insight_runs),
        *scalar(func.count(), table=schema.products),
    ]
    return select(*parts)


def fingerprint(store: Store, customer_id: str) -> tuple[Any, ...]:
    """What the customer's features are computed from, in brief (see the module's docstring)."""
    return tuple(store.rows(_fingerprint_query(), {"customer_id": customer_id})[0])


class FeatureCache:
    """Customer -> (day, fingerprint, features), for one store in one process."""

    def __init__(self, size: int = HELD) -> None:
        self.size = size
        self._held: OrderedDict[str, tuple[date, frozenset[str], tuple[Any, ...], Features]] = (
            OrderedDict())
        self._lock = threading.Lock()

    def get(self, store: Store, customer_id: str, day: date, wanted: frozenset[str],
            compute: Callable[[], Features]) -> Features:
        """The features of ``customer_id`` on ``day``: held if their rows have not changed since,
        else ``compute()``d and held."""
        mark = fingerprint(store, customer_id)
        with self._lock:
            held = self._held.get(customer_id)
            if held is not None and held[:3] == (day, wanted, mark):
                self._held.move_to_end(customer_id)
                return dict(held[3])
        fresh = compute()
        with self._lock:
            self._held[customer_id] = (day, wanted, mark, dict(fresh))
            self._held.move_to_end(customer_id)
            while len(self._held) > self.size:
                self._held.popitem(last=False)
        return fresh


_CACHES: PerStore[FeatureCache] = PerStore(FeatureCache)


def cache_for(store: Store) -> FeatureCache:
    """This process's feature cache for ``store``, made on first use."""
    return _CACHES.of(store)
