"""What ``tactful demo`` reads from the store to show the loop: an empty store of its own, the
customers worth showing (one per region, the widest mix of insights per language), how the
transactions were understood, and the decisions beside what the rules-only approach (every live
insight at once) would have shown. The simulated bank itself is made by the face (the engine
never imports the simulator); the steps in between are the other service modules'."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from tactful.decide.policy import DecisionResult
from tactful.store import schema
from tactful.store.store import Store

__all__ = [
    "DecisionResult",
    "Shown",
    "Understanding",
    "counts",
    "decisions",
    "fresh_store",
    "pick_customers",
    "pick_insight_customers",
    "store_url",
    "understanding",
]


def store_url(directory: Path) -> str:
    """The demo's store: SQLite in its working folder."""
    return f"sqlite:///{directory / 'tactful.db'}"


@contextmanager
def fresh_store(directory: Path) -> Iterator[Store]:
    """An empty store in ``directory`` (a previous run's is deleted), closed when done."""
    for old in directory.glob("tactful.db*"):
        old.unlink()
    store = Store.open(store_url(directory))
    try:
        yield store
    finally:
        store.close()


def counts(store: Store) -> dict[str, int]:
    """Rows per table."""
    return store.counts()


def pick_customers(store: Store, n: int) -> list[str]:
    """Customers from each region in turn, so the demo shows different lives.

    Only what a bank's export carries is used: the simulated persona is truth, never exported.
    """
    c, a, t = schema.customers, schema.accounts, schema.transactions
    by_region: dict[str, list[str]] = {}
    for cid, region in store.rows(select(c.c.id, c.c.region).order_by(c.c.id)):
        by_region.setdefault(region, []).append(cid)
    queues = [iter(ids) for _, ids in sorted(by_region.items())]
    picked: list[str] = []
    while queues and len(picked) < n:
        for q in list(queues):
            cid = next(q, None)
            if cid is None:
                queues.remove(q)
            elif len(picked) < n:
                picked.append(cid)
    if picked:
        return picked
    return [
        r[0]
        for r in store.rows(
            select(a.c.customer_id).join(t, t.c.account_id == a.c.id).distinct().limit(n)
        )
    ]


def pick_insight_customers(store: Store, per_language: int = 1) -> list[tuple[str, str]]:
    """For each language the catalog speaks, the customer with the widest mix of insights."""
    i = schema.insights
    kinds = func.count(func.distinct(i.c.detector))
    rows = store.rows(
        select(i.c.customer_id, i.c.locale, kinds.label("n"))
        .where(i.c.state == "live")
        .group_by(i.c.customer_id, i.c.locale)
        .order_by(kinds.desc(), i.c.customer_id)
    )
    picked: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for customer_id, locale, _n in rows:
        language = locale[:2]
        if seen.get(language, 0) < per_language and language in ("en", "de"):
            seen[language] = seen.get(language, 0) + 1
            picked.append((customer_id, locale))
    return picked


@dataclass(frozen=True)
class Understanding:
    sources: list[tuple[str | None, int]]
    """How each transaction got its category: (source or None when not enriched, count),
    most first."""
    series: list[tuple[str, int, int]]
    """Recurring series found: (kind, series, customers), most series first."""


def understanding(store: Store) -> Understanding:
    """How the bank's transactions were categorized, and what recurs."""
    t, s = schema.transactions, schema.recurring_series
    rows = store.rows(select(t.c.category_source, func.count()).group_by(t.c.category_source))
    sources = [(None if r[0] is None else str(r[0]), int(r[1]))
               for r in sorted(rows, key=lambda r: -int(r[1]))]
    series = [
        (str(kind), int(n), int(customers))
        for kind, n, customers in store.rows(
            select(s.c.kind, func.count(), func.count(func.distinct(s.c.customer_id)))
            .group_by(s.c.kind)
            .order_by(func.count().desc())
        )
    ]
    return Understanding(sources, series)


@dataclass(frozen=True)
class Shown:
    """A decision beside what the rules-only approach would have shown the customer."""

    result: DecisionResult
    live: Counter[str]
    """The customer's live insights by detector: all of them, at once, without Tactful."""


def decisions(store: Store, *, shown: int = 3) -> list[Shown]:
    """Two customers who get a message and one who gets silence (among those with the most
    live insights), each with their live insights."""
    from tactful.decide.service import decide_customer, default_policy

    i = schema.insights
    rows = store.rows(
        select(i.c.customer_id, func.count().label("n"))
        .where(i.c.state == "live")
        .group_by(i.c.customer_id)
        .order_by(func.count().desc(), i.c.customer_id)
        .limit(12)
    )
    policy = default_policy()
    talk: list[DecisionResult] = []
    quiet: list[DecisionResult] = []
    for customer_id, _n in rows:
        result = decide_customer(store, customer_id=customer_id, policy=policy)
        (quiet if result.decision.is_silence else talk).append(result)
        if len(talk) >= shown - 1 and quiet:
            break
    picked = (talk[: shown - 1] + quiet[:1]) if quiet else talk[:shown]
    out = []
    for result in picked:
        live = store.rows(
            select(i.c.detector).where(
                i.c.customer_id == result.decision.customer_id, i.c.state == "live"
            )
        )
        out.append(Shown(result, Counter(str(r[0]) for r in live)))
    return out
