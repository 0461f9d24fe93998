"""Transactions and events posted by the bank's systems, one or a batch at a time.

The records go through the same validation and the same stable ids as a file ``tactful ingest``
reads (``ingest.validate``, ``ingest.loader.table_frames``, ``ingest.keys``) and the same
idempotent write (``Store.write``: a row already held is a duplicate, never an overwrite), so a
re-post, an overlapping batch or a file imported later adds nothing twice.

A single posted transaction also takes the real-time path, in the same request: categorized by
the understanding layer's real-time step, folded into the customer's state (the row stored with
its category; the account balance then counts it unless it was declined -- added to a balance
held without its moment, and past a dated one, read forward from that moment by
``insights.repository.rolled_forward``, as a batch is), and the real-time detectors
it can make true run (``insights.realtime``); what they find is stored as live insights, so the
very next feed call can choose it. A batch is a backfill: it is stored, and the nightly run
understands it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import polars as pl
from sqlalchemy import select, update

from tactful.errors import ValidationError
from tactful.ingest.keys import OccurrenceCounter
from tactful.ingest.loader import table_frames
from tactful.ingest.schema import LOCATION, Chunk, RecordKind, Reject
from tactful.ingest.validate import validate_chunk
from tactful.insights.catalog import Insight
from tactful.insights.realtime import NEW_TRANSACTION, RealtimeInsights
from tactful.service.clock import Clock
from tactful.service.records import (
    EventIn,
    IngestAnswer,
    NewInsight,
    Rejected,
    TransactionIn,
)
from tactful.service.rows import insert_new
from tactful.store import schema
from tactful.store.store import Store

if TYPE_CHECKING:
    from tactful.insights.inputs import InsightInputs
    from tactful.insights.late_income_risk import LateIncomeRisk
    from tactful.insights.shortfall_risk import ShortfallRisk

SOURCE = "api"
Progress = Callable[[int], Any]


def _index(location: str) -> int:
    """``record 3`` (the validator's 1-based location) -> 2, the request's 0-based index."""
    return int(location.rsplit(" ", 1)[-1]) - 1


def _rejected(rejects: Sequence[Reject]) -> list[Rejected]:
    return [Rejected(index=_index(r.location), field=r.field, reason=r.reason) for r in rejects]


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """The records as the validator reads a file: text columns, a location per row."""
    columns = list(rows[0]) if rows else []
    return pl.DataFrame(rows, schema={c: pl.String for c in columns}, orient="row").with_row_index(
        LOCATION, offset=1).with_columns(
        (pl.lit("record ") + pl.col(LOCATION).cast(pl.String)).alias(LOCATION))


def _validated(kind: RecordKind, rows: list[dict[str, Any]]) -> tuple[pl.DataFrame, list[Reject]]:
    return validate_chunk(Chunk(kind, _frame(rows), SOURCE))


def _transaction_row(t: TransactionIn) -> dict[str, Any]:
    return {
        "account_id": t.account_id, "transaction_id": t.transaction_id,
        "booked_at": _iso(t.booked_at), "amount_minor": str(t.amount_minor),
        "currency": t.currency, "description": t.description, "counterparty": t.counterparty,
        "mcc": t.mcc, "channel": t.channel.value, "status": t.status.value,
    }


def _event_row(e: EventIn) -> dict[str, Any]:
    return {
        "event_id": e.event_id, "customer_id": e.customer_id, "kind": e.kind.value,
        "occurred_at": _iso(e.occurred_at), "session_id": e.session_id,
        "duration_s": None if e.duration_s is None else repr(e.duration_s),
        "feature": e.feature, "channel": e.channel.value if e.channel else None,
        "attributes": None if e.attributes is None else json.dumps(e.attributes),
    }


def _ids_in_order(typed: pl.DataFrame, frame: pl.DataFrame, received: int) -> list[str]:
    """Accepted records' ids, in request order (rejected ones left out)."""
    by_index = dict(zip([_index(str(x)) for x in typed.get_column(LOCATION).to_list()],
                        frame.get_column("id").to_list(), strict=True))
    return [str(by_index[i]) for i in range(received) if i in by_index]


def ingest_events(store: Store, *, events: Sequence[EventIn],
                  progress: Progress | None = None) -> IngestAnswer:
    """Store ``events`` idempotently (their ``event_id``, or a key of their content); rejects
    are answered, not stored."""
    if not events:
        raise ValidationError("no events to ingest")
    typed, rejects = _validated(RecordKind.EVENT, [_event_row(e) for e in events])
    inserted = duplicates = 0
    ids: list[str] = []
    if typed.height:
        [(table, frame)] = table_frames(RecordKind.EVENT, typed, None, OccurrenceCounter())
        with store.transaction() as conn:
            result = store.write(conn, table, frame)
        inserted, duplicates = result.inserted, result.duplicates
        ids = _ids_in_order(typed, frame, len(events))
    if progress:
        progress(len(events))
    return IngestAnswer(received=len(events), inserted=inserted, duplicates=duplicates,
                        rejected=_rejected(rejects), ids=ids)


@dataclass(frozen=True, slots=True)
class _Loaded:
    at: float
    insights: RealtimeInsights
    shortfall: ShortfallRisk | None
    late: LateIncomeRisk | None


class Realtime:
    """The real-time path's long-lived parts: the real-time detectors, the enrichment
    context (the bank's rules, merchant directory and text model) and the promoted shortfall
    and late-income models, loaded once per process and reloaded every ``refresh_s`` seconds
    so a rule changed or a model promoted at noon applies by the afternoon without a
    restart."""

    def __init__(self, *, refresh_s: float = 300.0) -> None:
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None

    def _current(self, store: Store) -> _Loaded:
        with self._lock:
            now = time.monotonic()
            if self._loaded is None or now - self._loaded.at > self.refresh_s:
                from tactful.enrich.repository import latest_context
                from tactful.models.late_income import production_late_risk
                from tactful.models.registry import ModelRegistry
                from tactful.models.shortfall import production_risk

                registry = ModelRegistry(store)
                self._loaded = _Loaded(now, RealtimeInsights(ctx=latest_context(store)),
                                       production_risk(registry), production_late_risk(registry))
            return self._loaded

    def insights(self, store: Store) -> RealtimeInsights:
        return self._current(store).insights

    def with_models(self, store: Store, inputs: InsightInputs) -> InsightInputs:
        """``inputs`` carrying the promoted models, as the nightly run's do: the money-critical
        warnings are then their probabilities' on an event too."""
        loaded = self._current(store)
        if loaded.shortfall is None and loaded.late is None:
            return inputs
        return replace(inputs, shortfall_risk=loaded.shortfall, late_income_risk=loaded.late)


_DEFAULT_REALTIME = Realtime()


def _owner(store: Store, account_id: str) -> str | None:
    a = schema.accounts
    rows = store.rows(select(a.c.customer_id).where(a.c.id == account_id))
    return str(rows[0][0]) if rows and rows[0][0] is not None else None


def ingest_transactions(
    store: Store,
    *,
    transactions: Sequence[TransactionIn],
    realtime: bool = False,
    clock: Clock = Clock.NOW,
    engine: Realtime | None = None,
    progress: Progress | None = None,
) -> IngestAnswer:
    """Store ``transactions`` idempotently; with ``realtime`` (one transaction, as the bank's
    feed posts it) also run the real-time path (see the module doc) in the same request."""
    if not transactions:
        raise ValidationError("no transactions to ingest")
    if realtime and len(transactions) != 1:
        raise ValidationError("the real-time path takes one transaction at a time")
    typed, rejects = _validated(RecordKind.TRANSACTION,
                                [_transaction_row(t) for t in transactions])
    answer = IngestAnswer(received=len(transactions), inserted=0, duplicates=0,
                          rejected=_rejected(rejects))
    if typed.height == 0:
        return answer
    [(table, frame)] = table_frames(RecordKind.TRANSACTION, typed, None, OccurrenceCounter())
    ids = _ids_in_order(typed, frame, len(transactions))
    customer = _owner(store, transactions[0].account_id) if realtime else None
    if customer is None:
        with store.transaction() as conn:
            result = store.write(conn, table, frame)
        if progress:
            progress(len(transactions))
        return answer.model_copy(update={"inserted": result.inserted,
                                         "duplicates": result.duplicates, "ids": ids})
    found = _realtime(store, customer, frame, clock, engine or _DEFAULT_REALTIME)
    if progress:
        progress(1)
    inserted, insights = found
    return answer.model_copy(update={
        "inserted": inserted, "duplicates": 1 - inserted, "ids": ids,
        "insights": [NewInsight(insight_id=i.insight_id, customer_id=i.customer_id,
                                detector=i.detector, title=i.title) for i in insights]})


def _realtime(store: Store, customer: str, frame: pl.DataFrame, clock: Clock,
              engine: Realtime) -> tuple[int, list[Insight]]:
    """Store the one transaction ``frame`` of ``customer`` and, if it is new, fold it in and
    run the real-time detectors; returns (1 if stored now else 0, the insights stored)."""
    from tactful.insights.realtime import enrich_new
    from tactful.insights.repository import existing, load_inputs

    realtime = engine.insights(store)
    booked: datetime = frame.get_column("booked_at")[0]
    at = datetime.now(UTC) if clock is Clock.NOW else booked
    inputs = engine.with_models(store, load_inputs(store, [customer], as_of=booked.date()))
    new = frame.select(list(NEW_TRANSACTION)).cast(NEW_TRANSACTION)  # type: ignore[arg-type]
    enriched = enrich_new(inputs, new, realtime.ctx)
    t, a = schema.transactions, schema.accounts
    row = enriched.row(0, named=True)
    with store.transaction() as conn:
        stored = store.write(conn, "transactions", frame).inserted
        if not stored:
            return 0, []
        conn.execute(update(t).where(t.c.id == row["id"]).values(
            merchant=row["merchant"], category=row["category"],
            category_detailed=row["category_detailed"]))
        if row["status"] != "declined":
            # a balance with its moment is brought forward by the reader
            # (insights.repository.rolled_forward); one without has each event added
            conn.execute(update(a).where(a.c.id == row["account_id"],
                                         a.c.balance_as_of.is_(None)).values(
                balance_minor=a.c.balance_minor + int(row["amount_minor"])))
    _, found = realtime.on_enriched(inputs, enriched, existing=existing(store, [customer]),
                                    at=at)
    if found:
        with store.transaction() as conn:
            insert_new(conn, schema.insights, [{**i.row(), "run_id": None} for i in found])
    return 1, found
