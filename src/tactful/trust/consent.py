"""Consent: the one door for "which customers have which consent now".

Consent is purpose-bound (``ConsentPurpose``) and a customer's records form a history: the
latest record for a customer and purpose decides, whatever its status. Two records at the same
instant resolve to the refusal, never the grant (privacy by default: an export that logs a
grant and a withdrawal in the same second must not leave the customer profiled). A customer
with no record for a purpose has not consented to it.

Every stage that uses personal data asks here, and nowhere else -- enrichment that profiles
(recurring series, income streams need ``PROFILING``), the insight catalog and its reads (the
purpose each detector declares), model training and scoring (``PROFILING`` and
``PERSONALIZATION``), the profile view -- so the rule cannot drift between copies.

A withdrawal binds at once: :func:`record` stores the record and, in the same database
transaction, :func:`retract_unconsented` moves every open insight whose purpose the customer no
longer holds to ``retracted``; ``tactful ingest`` of a consents file calls the same function
in the transaction that writes the rows. The same function cancels the customer's queued
outbox messages (``deliver/outbox.py``) whose purpose they no longer hold, so a withdrawal stops
what is queued as well as what is shown; the delivery worker asks again at the moment of
sending, for a message it had already claimed.

The rule is written once, over Polars frames (:func:`latest`, :func:`granted`); the store
functions only read the records and hand them to it.

>>> from datetime import UTC, datetime
>>> records = pl.DataFrame({
...     "customer_id": ["c1", "c1", "c2"],
...     "purpose": ["personalization", "personalization", "profiling"],
...     "status": ["granted", "withdrawn", "granted"],
...     "at": [datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC),
...            datetime(2026, 2, 1, tzinfo=UTC)],
... })
>>> granted(records).rows()
[('c2', 'profiling')]
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any, Final

import polars as pl
from sqlalchemy import Connection, bindparam, select, update

from tactful.domain.enums import ConsentPurpose, ConsentStatus
from tactful.domain.records import Consent
from tactful.errors import NotFoundError
from tactful.insights.lifecycle import OPEN, RETRACTED
from tactful.store import schema
from tactful.store.store import Store
from tactful.trust.privacy import mask

UTC_TIME: Final = pl.Datetime("us", "UTC")
RECORDS: Final[dict[str, pl.DataType]] = {
    "customer_id": pl.String(),
    "purpose": pl.String(),
    "status": pl.String(),
    "at": UTC_TIME,
}
"""Consent records as the rule reads them (a frame may carry more columns, e.g. ``source``)."""
GRANTS: Final[dict[str, pl.DataType]] = {"customer_id": pl.String(), "purpose": pl.String()}
"""One row per customer and purpose currently granted."""

NO_CONSENT: Final = "none"
"""What an insight's ``consent_purpose`` says when it needs none (a legally required message)."""
_CHUNK: Final = 5_000


# -- the rule, over frames --------------------------------------------------------------------


def latest(records: pl.DataFrame, *, at: datetime | None = None) -> pl.DataFrame:
    """The record in force for each customer and purpose at ``at`` (now when None): the latest
    one, a refusal winning a tie. Records after ``at`` are ignored."""
    frame = records.filter(pl.col("at") <= at) if at is not None else records
    if frame.height == 0:
        return frame
    refusal = (pl.col("status") != ConsentStatus.GRANTED.value).cast(pl.Int8).alias("_refusal")
    return (
        frame.with_columns(refusal)
        .sort("customer_id", "purpose", "at", "_refusal", maintain_order=True)
        .unique(subset=["customer_id", "purpose"], keep="last", maintain_order=True)
        .drop("_refusal")
    )


def granted(
    records: pl.DataFrame,
    *,
    at: datetime | None = None,
    purposes: Iterable[ConsentPurpose] | None = None,
) -> pl.DataFrame:
    """``GRANTS``: the customers and purposes whose record in force at ``at`` is a grant."""
    if records.height == 0:
        return pl.DataFrame(schema=GRANTS)
    frame = latest(records, at=at).filter(pl.col("status") == ConsentStatus.GRANTED.value)
    if purposes is not None:
        frame = frame.filter(pl.col("purpose").is_in([p.value for p in purposes]))
    return frame.select(list(GRANTS)).cast(GRANTS)  # type: ignore[arg-type]


def holders(grants: pl.DataFrame, purpose: ConsentPurpose | str | None) -> pl.DataFrame | None:
    """The customers (one ``customer_id`` column) of ``grants`` holding ``purpose``; None when
    no consent is needed (``purpose`` None or ``"none"``), meaning everyone."""
    if purpose is None or purpose == NO_CONSENT:
        return None
    value = purpose.value if isinstance(purpose, ConsentPurpose) else purpose
    return grants.filter(pl.col("purpose") == value).select("customer_id").unique()


def holding_all(grants: pl.DataFrame, purposes: Collection[ConsentPurpose]) -> pl.DataFrame:
    """The customers of ``grants`` holding every one of ``purposes``."""
    wanted = [p.value for p in purposes]
    return (
        grants.filter(pl.col("purpose").is_in(wanted))
        .group_by("customer_id")
        .agg(pl.col("purpose").n_unique().alias("n"))
        .filter(pl.col("n") == len(set(wanted)))
        .select("customer_id")
    )


def purposes_of(grants: pl.DataFrame, customer_id: str) -> frozenset[str]:
    """The purposes ``customer_id`` holds in ``grants`` (walked in Python: the real-time
    path asks this of a few rows on every event, where a frame filter costs more)."""
    return frozenset(purpose for holder, purpose in zip(
        grants.get_column("customer_id").to_list(), grants.get_column("purpose").to_list(),
        strict=True) if holder == customer_id)


def allows(held: Collection[str], purpose: ConsentPurpose | str | None) -> bool:
    """True if a customer holding ``held`` purposes may be reached for ``purpose``."""
    if purpose is None or purpose == NO_CONSENT:
        return True
    value = purpose.value if isinstance(purpose, ConsentPurpose) else purpose
    return value in held


# -- against the store ------------------------------------------------------------------------


def _records_query(
    customer_ids: Sequence[str] | None, purposes: Iterable[ConsentPurpose] | None,
    until: datetime | None = None,
) -> list[Any]:
    c = schema.consents
    query = select(c.c.customer_id, c.c.purpose, c.c.status, c.c.at)
    if until is not None:
        query = query.where(c.c.at <= until)
    if purposes is not None:
        query = query.where(c.c.purpose.in_([p.value for p in purposes]))
    if customer_ids is None:
        return [query]
    ids = list(dict.fromkeys(customer_ids))
    return [query.where(c.c.customer_id.in_(ids[s:s + _CHUNK])) for s in range(0, len(ids), _CHUNK)]


def _as_frame(rows: Iterable[Sequence[Any]]) -> pl.DataFrame:
    data = [tuple(r) for r in rows]
    if not data:
        return pl.DataFrame(schema=RECORDS)
    return pl.DataFrame(data, schema=RECORDS, orient="row")


def records(
    source: Store | Connection,
    customer_ids: Sequence[str] | None = None,
    *,
    purposes: Iterable[ConsentPurpose] | None = None,
    until: datetime | None = None,
) -> pl.DataFrame:
    """The stored consent records (``RECORDS``) of ``customer_ids`` (everyone when None), those
    up to ``until`` when given.

    ``source`` is a ``Store`` or an open connection: a caller inside a transaction reads what
    it has just written (the loader, :func:`record`)."""
    wanted = list(purposes) if purposes is not None else None
    rows: list[Sequence[Any]] = []
    for query in _records_query(customer_ids, wanted, until):
        if isinstance(source, Store):
            rows += source.rows(query)
        else:
            rows += source.execute(query).all()
    return _as_frame(rows)


def current(
    source: Store | Connection,
    customer_ids: Sequence[str] | None = None,
    *,
    purposes: Iterable[ConsentPurpose] | None = None,
    at: datetime | None = None,
) -> pl.DataFrame:
    """``GRANTS`` from the store: who holds which purpose now (or at ``at``). The records after
    ``at`` are left in the database: cutting them there is the same rule, and cheaper than in
    the frame for the few records of one customer (the feed, once a request)."""
    wanted = list(purposes) if purposes is not None else None
    return granted(records(source, customer_ids, purposes=wanted, until=at), purposes=wanted)


@cache
def _held_query() -> Any:
    """Built once: the feed asks once a request, and building costs more than running it."""
    c = schema.consents
    return select(c.c.customer_id, c.c.purpose, c.c.status, c.c.at).where(
        c.c.customer_id.in_(bindparam("ids", expanding=True)), c.c.at <= bindparam("until"))


def held(
    source: Store, customer_ids: Sequence[str], *, at: datetime
) -> dict[str, frozenset[str]]:
    """Customer -> the purposes they hold at ``at`` (those holding none are left out):
    :func:`current` for a few customers, the feed's one a request. The rule's answer is kept
    per set of records read, so it is worked out again only when the customer's records
    change -- a withdrawal recorded a second ago is a record the last answer did not see."""
    ids = list(dict.fromkeys(customer_ids))
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(ids), _CHUNK):
        rows += [tuple(r) for r in source.rows(
            _held_query(), {"ids": ids[start:start + _CHUNK], "until": at})]
    return dict(_held_of(tuple(rows)))


@lru_cache(maxsize=8192)
def _held_of(rows: tuple[tuple[Any, ...], ...]) -> tuple[tuple[str, frozenset[str]], ...]:
    purposes: dict[str, set[str]] = {}
    for cid, purpose in granted(_as_frame(rows)).iter_rows():
        purposes.setdefault(str(cid), set()).add(str(purpose))
    return tuple((cid, frozenset(p)) for cid, p in purposes.items())


def consenting(
    store: Store, purposes: Collection[ConsentPurpose], customer_ids: Sequence[str] | None = None
) -> set[str]:
    """The customers (of ``customer_ids``, or every stored one) holding all of ``purposes``."""
    grants = current(store, customer_ids, purposes=purposes)
    return set(holding_all(grants, purposes).get_column("customer_id").to_list())


def lacking(
    store: Store, purposes: Collection[ConsentPurpose], customer_ids: Sequence[str] | None = None
) -> set[str]:
    """The customers (of ``customer_ids``, or every stored customer) missing any of
    ``purposes``: the refusers, and those who never answered."""
    if customer_ids is None:
        everyone = {str(r[0]) for r in store.rows(select(schema.customers.c.id))}
    else:
        everyone = set(customer_ids)
    return everyone - consenting(store, purposes, sorted(everyone))


def in_force(store: Store, customer_id: str) -> list[Consent]:
    """``customer_id``'s record in force for each purpose they ever answered (any status),
    ordered by purpose: what the profile view shows."""
    c = schema.consents
    rows = store.rows(
        select(c.c.customer_id, c.c.purpose, c.c.status, c.c.at, c.c.source).where(
            c.c.customer_id == customer_id
        )
    )
    if not rows:
        return []
    frame = pl.DataFrame(
        [tuple(r) for r in rows], schema={**RECORDS, "source": pl.String()}, orient="row"
    )
    return [
        Consent(str(r["customer_id"]), ConsentPurpose(r["purpose"]), ConsentStatus(r["status"]),
                r["at"], str(r["source"]))
        for r in latest(frame).sort("purpose").iter_rows(named=True)
    ]


# -- a change of consent binds at once --------------------------------------------------------


def retract_unconsented(
    conn: Connection, customer_ids: Sequence[str], *, at: datetime | None = None
) -> int:
    """Inside the caller's transaction: move every open (live or shown) insight of
    ``customer_ids`` whose consent purpose the customer no longer holds to ``retracted``;
    return how many moved.

    This is the one function a withdrawal goes through. It also cancels the customers'
    pending outbox messages that need a purpose they no longer hold (not counted in the
    return), so nothing queued outlives the consent it needed.
    """
    ids = list(dict.fromkeys(customer_ids))
    if not ids:
        return 0
    stamp = at or datetime.now(UTC)
    grants = current(conn, ids)
    i = schema.insights
    moved = 0
    for start in range(0, len(ids), _CHUNK):
        part = ids[start:start + _CHUNK]
        rows = conn.execute(
            select(i.c.insight_id, i.c.customer_id, i.c.consent_purpose).where(
                i.c.customer_id.in_(part), i.c.state.in_(OPEN),
                i.c.consent_purpose != NO_CONSENT,
            )
        ).all()
        held = {
            (str(cid), str(p))
            for cid, p in grants.filter(pl.col("customer_id").is_in(part)).iter_rows()
        }
        gone = [str(r[0]) for r in rows if (str(r[1]), str(r[2])) not in held]
        for s in range(0, len(gone), _CHUNK):
            moved += conn.execute(
                update(i).where(i.c.insight_id.in_(gone[s:s + _CHUNK]), i.c.state.in_(OPEN))
                .values(state=RETRACTED, state_changed_at=stamp)
            ).rowcount
        _cancel_queued(conn, part, held, stamp)
    return moved


def _cancel_queued(conn: Connection, customer_ids: Sequence[str], held: set[tuple[str, str]],
                   stamp: datetime) -> None:
    """Cancel the pending outbox messages of ``customer_ids`` whose purpose is not ``held``."""
    o = schema.outbox
    rows = conn.execute(
        select(o.c.idempotency_key, o.c.customer_id, o.c.consent_purpose).where(
            o.c.customer_id.in_(list(customer_ids)), o.c.state == "pending",
            o.c.consent_purpose.is_not(None), o.c.consent_purpose != NO_CONSENT,
        )
    ).all()
    by_purpose: dict[str, list[str]] = {}
    for key, cid, purpose in rows:
        if (str(cid), str(purpose)) not in held:
            by_purpose.setdefault(str(purpose), []).append(str(key))
    for purpose, keys in sorted(by_purpose.items()):
        for s in range(0, len(keys), _CHUNK):
            conn.execute(
                update(o).where(o.c.idempotency_key.in_(keys[s:s + _CHUNK]),
                                o.c.state == "pending")
                .values(state="cancelled", updated_at=stamp,
                        last_error=f"consent withdrawn: the customer no longer holds {purpose}")
            )


def refusals_win_ties(conn: Connection, written: pl.DataFrame) -> None:
    """Inside the caller's transaction, after ``written`` (consent rows) went to the store: a
    refusal that met a stored grant of the same customer, purpose and instant replaces it.

    The table keeps one record per instant (its key), so an append-only write would drop the
    second of two contradictory records silently; this keeps the rule -- the refusal wins a
    tie -- true in the store as it is on frames."""
    refusals = written.filter(pl.col("status") != ConsentStatus.GRANTED.value)
    if refusals.height == 0:
        return
    c = schema.consents
    source = refusals.get_column("source") if "source" in refusals.columns else None
    rows = [
        {"k_customer": cid, "k_purpose": purpose, "k_at": at, "v_status": status,
         "v_source": source[n] if source is not None else "unknown"}
        for n, (cid, purpose, status, at) in enumerate(
            refusals.select("customer_id", "purpose", "status", "at").iter_rows())
    ]
    conn.execute(
        update(c).where(
            c.c.customer_id == bindparam("k_customer"), c.c.purpose == bindparam("k_purpose"),
            c.c.at == bindparam("k_at"), c.c.status == ConsentStatus.GRANTED.value,
        ).values(status=bindparam("v_status"), source=bindparam("v_source")),
        rows,
    )


@dataclass(frozen=True, slots=True)
class ConsentChange:
    """What storing one consent record did."""

    consent: Consent
    retracted: int
    """Open insights moved to ``retracted`` in the same transaction."""


def record(store: Store, consent: Consent) -> ConsentChange:
    """Store ``consent`` and, in the same transaction, retract whatever it no longer allows."""
    c = schema.consents
    with store.transaction() as conn:
        known = conn.execute(
            select(schema.customers.c.id).where(schema.customers.c.id == consent.customer_id)
        ).first()
        if known is None:
            raise NotFoundError(f"no customer {mask(consent.customer_id)}")
        conn.execute(c.insert().values(
            customer_id=consent.customer_id, purpose=consent.purpose.value,
            status=consent.status.value, at=consent.at, source=consent.source,
        ))
        moved = retract_unconsented(conn, [consent.customer_id], at=consent.at)
    return ConsentChange(consent, moved)
