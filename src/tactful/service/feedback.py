"""Feedback on a message the customer was shown: impression, click, dismissal (with a reason),
conversion, rating, opt-out.

Everything goes through :func:`feedback`, the one door: the event is stored (kind ``feedback``,
keyed by decision and kind, so a retry is one row) and the insights the message carried move
along their lifecycle (``insights.lifecycle``: an impression makes them shown, a conversion
acted on, a dismissal or an opt-out dismissed), which is what the decision layer's contact
history and its bandit read. When the outcomes table lands, it is written here and nowhere else.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Final

import polars as pl
from sqlalchemy import select, update

from tactful.errors import NotFoundError, ValidationError
from tactful.insights import lifecycle
from tactful.service.records import FeedbackAnswer, FeedbackIn, FeedbackKind
from tactful.store import schema
from tactful.store.store import Store

EVENT_KIND: Final = "feedback"
MOVES_TO: Final[dict[FeedbackKind, str]] = {
    FeedbackKind.IMPRESSION: lifecycle.SHOWN,
    FeedbackKind.CLICK: lifecycle.SHOWN,
    FeedbackKind.CONVERT: lifecycle.ACTED_ON,
    FeedbackKind.DISMISS: lifecycle.DISMISSED,
    FeedbackKind.OPT_OUT: lifecycle.DISMISSED,
}
"""The state each kind of feedback moves the message's insights to (a rating moves nothing)."""


def feedback(store: Store, *, customer_id: str, item: FeedbackIn) -> FeedbackAnswer:
    """Record ``item`` against its decision, which must be ``customer_id``'s and a message
    (``NotFoundError`` otherwise: a customer cannot reach another's decisions)."""
    from tactful.decide.repository import read_decision

    row = read_decision(store, item.decision_id)
    if row is None or row["customer_id"] != customer_id:
        raise NotFoundError(f"no decision {item.decision_id!r} for this customer")
    if row["silent"]:
        raise NotFoundError(f"decision {item.decision_id!r} showed nothing to give feedback on")
    at = item.at or datetime.now(UTC)
    if at < row["decided_at"]:
        raise ValidationError(f"feedback at {at.isoformat()} precedes decision "
                              f"{item.decision_id} ({row['decided_at'].isoformat()})")
    insight_ids = [str(i) for i in row["relevance"].get("insight_ids", [])]
    attributes = {"decision_id": item.decision_id, "feedback": item.kind.value,
                  "action_id": row["action_id"], "reason": item.reason, "rating": item.rating}
    event = pl.DataFrame({
        "id": [f"fb:{item.decision_id}:{item.kind.value}"], "customer_id": [customer_id],
        "kind": [EVENT_KIND], "occurred_at": [at], "channel": [row["channel"]],
        "feature": [item.kind.value], "attributes": [json.dumps(attributes, sort_keys=True)],
    }).with_columns(pl.col("occurred_at").dt.cast_time_unit("us"))
    target = MOVES_TO.get(item.kind)
    moved = 0
    i = schema.insights
    with store.transaction() as conn:
        recorded = store.write(conn, "events", event).inserted == 1
        if target is not None and insight_ids:
            states = dict(conn.execute(select(i.c.insight_id, i.c.state).where(
                i.c.insight_id.in_(insight_ids), i.c.customer_id == customer_id)).all())
            movable = [k for k, s in states.items() if target in lifecycle.TRANSITIONS[s]]
            if movable:
                moved = conn.execute(update(i).where(
                    i.c.insight_id.in_(movable),
                    i.c.state.in_([s for s, nxt in lifecycle.TRANSITIONS.items()
                                   if target in nxt])).values(
                    state=target, state_changed_at=at)).rowcount
    _outcome(store, customer_id, item, event_id=str(event["id"][0]))
    return FeedbackAnswer(decision_id=item.decision_id, kind=item.kind, recorded=recorded,
                          insights_moved=moved)


def _outcome(store: Store, customer_id: str, item: FeedbackIn, *, event_id: str) -> None:
    """The feedback as an outcome of its decision (``measure.outcomes``: the bandit's evidence,
    the contact history, the engagement report), at the moment the event was first stored, so a
    retry -- or the retry of a call interrupted after the event -- records the same outcome."""
    from tactful.domain.actions import OutcomeKind
    from tactful.measure.outcomes import OutcomeIn, record_outcomes

    e = schema.events
    first = store.rows(select(e.c.occurred_at).where(e.c.id == event_id))[0][0]
    kind = OutcomeKind(item.kind.value)
    record_outcomes(store, [OutcomeIn(
        decision_id=item.decision_id, kind=kind, occurred_at=first, customer_id=customer_id,
        reason=_reason_code(item.reason) if kind is OutcomeKind.DISMISS else None,
        rating=float(item.rating) if kind is OutcomeKind.RATING and item.rating else None,
    )], source="api")


def _reason_code(reason: str | None) -> str | None:
    """The app's words for a dismissal as the outcome's reason code (``not relevant`` ->
    ``not_relevant``): the engagement report groups dismissals by it."""
    if not reason:
        return None
    code = re.sub(r"[^a-z0-9_-]+", "_", reason.strip().lower()).strip("_")[:64]
    return code or None
