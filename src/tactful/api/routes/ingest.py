"""``POST /v1/transactions`` and ``/v1/events``, one record or a batch; ``ingest`` keys."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from tactful.api.deps import IdempotencyKey, IngestKey, StateDep
from tactful.api.idempotent import answer
from tactful.service import ingest
from tactful.service.records import (
    EventBatch,
    EventIn,
    IngestAnswer,
    TransactionBatch,
    TransactionIn,
)

router = APIRouter(prefix="/v1", tags=["ingest"])


@router.post("/transactions", response_model=IngestAnswer)
def post_transaction(body: TransactionIn, app: StateDep, who: IngestKey,
                     key: IdempotencyKey = None) -> JSONResponse:
    """One transaction as it happens: stored, categorized, folded into the customer's state,
    and the real-time detectors it can make true run; the next feed call sees the result."""
    return answer(app.store, who=who, key=key, path="/v1/transactions", request=body,
                  run=lambda: ingest.ingest_transactions(
                      app.store, transactions=[body], realtime=True, clock=app.clock,
                      engine=app.realtime))


@router.post("/transactions/batch", response_model=IngestAnswer)
def post_transactions(body: TransactionBatch, app: StateDep, who: IngestKey,
                      key: IdempotencyKey = None) -> JSONResponse:
    """A backfill of transactions (up to 5,000): stored idempotently; the nightly run
    understands them."""
    return answer(app.store, who=who, key=key, path="/v1/transactions/batch", request=body,
                  run=lambda: ingest.ingest_transactions(app.store,
                                                         transactions=body.transactions))


@router.post("/events", response_model=IngestAnswer)
def post_event(body: EventIn, app: StateDep, who: IngestKey,
               key: IdempotencyKey = None) -> JSONResponse:
    return answer(app.store, who=who, key=key, path="/v1/events", request=body,
                  run=lambda: ingest.ingest_events(app.store, events=[body]))


@router.post("/events/batch", response_model=IngestAnswer)
def post_events(body: EventBatch, app: StateDep, who: IngestKey,
                key: IdempotencyKey = None) -> JSONResponse:
    return answer(app.store, who=who, key=key, path="/v1/events/batch", request=body,
                  run=lambda: ingest.ingest_events(app.store, events=body.events))
