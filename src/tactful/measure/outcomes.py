"""Outcomes: what customers did about a decision, recorded once, from wherever it is learned.

An outcome (delivered, impression, open, click, dismiss with a reason, convert, rating, opt-out)
is recorded against the decision that caused it -- from the API, from the bank's own event feed,
or from the simulator in the closed loop -- through one function, :func:`record_outcomes`, which
validates every field and refuses what cannot be true (a naive time, a reaction before the
decision, a reaction to silence, a customer who was not the decision's). One outcome is its
decision, kind and moment: recording it twice, or from the API and the events both, keeps one
row (the id is a hash of those three, and the table holds them unique).

The bank's events reach outcomes through :func:`outcomes_from_events`: ``notification_*`` events
that name the decision (``attributes.decision_id`` or ``attributes.message_id`` as the outbox sent
it) are matched exactly; those that do not are matched to the customer's latest message on the
same channel sent within :data:`MATCH_WINDOW` before -- unless they are about one of the bank's
own alerts (``attributes.alert``, as the simulated bank emits for "pay received" and the like),
which no decision of Tactful caused and which must not be credited to one.

>>> OutcomeIn("d-1", "click", datetime(2026, 3, 2, 9, tzinfo=UTC)).kind
<OutcomeKind.CLICK: 'click'>
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Final

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from tactful.domain.actions import Outcome, OutcomeKind
from tactful.domain.enums import ConsentPurpose, ConsentStatus
from tactful.domain.records import Consent, require_aware, require_id
from tactful.errors import NotFoundError, StoreError, ValidationError
from tactful.store import schema
from tactful.store.store import Store
from tactful.trust import consent
from tactful.trust.privacy import mask

SOURCES: Final = ("api", "events", "simulator", "deliver")
RATING_RANGE: Final = (1.0, 5.0)
"""A rating is one to five stars: the scale app stores and most in-app surveys use."""
MATCH_WINDOW: Final = timedelta(days=7)
"""An event that does not name its decision is credited to the customer's latest message on the
same channel sent at most this long before (an in-app card waits up to a week for a session)."""
EVENT_KINDS: Final = {
    "notification_delivered": OutcomeKind.DELIVERED,
    "notification_opened": OutcomeKind.OPEN,
    "notification_dismissed": OutcomeKind.DISMISS,
    "notification_clicked": OutcomeKind.CLICK,
}
"""The bank's event kinds that are outcomes of a message, and which outcome each is."""
_REASON = re.compile(r"^[a-z0-9_\-]{1,64}$")
_CHUNK: Final = 2_000


@dataclass(frozen=True, slots=True)
class OutcomeIn:
    """One outcome to record; validated at construction, naming the bad field."""

    decision_id: str
    kind: OutcomeKind | str
    occurred_at: datetime
    customer_id: str | None = None
    """Checked against the decision's customer when given (an API caller says who it is)."""
    reason: str | None = None
    """Why the customer dismissed it (``not_relevant``, ``too_many``...); dismissals only."""
    rating: float | None = None
    message_id: str | None = None

    def __post_init__(self) -> None:
        require_id(self.decision_id, "decision_id")
        try:
            object.__setattr__(self, "kind", OutcomeKind(self.kind))
        except ValueError as exc:
            allowed = ", ".join(k.value for k in OutcomeKind)
            raise ValidationError(f"kind must be one of {allowed}; got {self.kind!r}") from exc
        if not isinstance(self.occurred_at, datetime):
            raise ValidationError(f"occurred_at must be a datetime; got {self.occurred_at!r}")
        require_aware(self.occurred_at, "occurred_at")
        if self.customer_id is not None:
            require_id(self.customer_id, "customer_id")
        if self.message_id is not None:
            require_id(self.message_id, "message_id")
        if self.reason is not None:
            if self.kind is not OutcomeKind.DISMISS:
                raise ValidationError(f"reason is for dismissals only; got it on {self.kind}")
            if not isinstance(self.reason, str) or not _REASON.match(self.reason):
                raise ValidationError("reason must be 1-64 characters of a-z, 0-9, _ or -; "
                                      f"got {self.reason!r}")
        if self.kind is OutcomeKind.RATING:
            low, high = RATING_RANGE
            if (isinstance(self.rating, bool) or not isinstance(self.rating, int | float)
                    or not low <= self.rating <= high):
                raise ValidationError(f"rating must be a number from {low:g} to {high:g}; "
                                      f"got {self.rating!r}")
        elif self.rating is not None:
            raise ValidationError(f"rating is for ratings only; got it on {self.kind}")

    @property
    def outcome_kind(self) -> OutcomeKind:
        return OutcomeKind(self.kind)


def from_domain(outcome: Outcome) -> OutcomeIn:
    """The simulator's (and any caller's) domain ``Outcome`` as a record to store."""
    rating = outcome.value if outcome.kind is OutcomeKind.RATING else None
    return OutcomeIn(outcome.decision_id, outcome.kind, outcome.at,
                     customer_id=outcome.customer_id, rating=rating)


def outcome_id(decision_id: str, kind: OutcomeKind | str, occurred_at: datetime) -> str:
    """The identity of an outcome: its decision, kind and moment (in UTC)."""
    moment = occurred_at.astimezone(UTC).isoformat()
    text = "\x1f".join((decision_id, str(OutcomeKind(kind)), moment))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def delivered_row(*, decision_id: str, message_id: str, customer_id: str, action_id: str,
                  channel: str, at: datetime) -> dict[str, Any]:
    """The ``delivered`` outcome of a message the outbox just recorded as sent, as a row for
    the outbox to insert in the very transaction that records it: a worker killed in between
    leaves neither, so a message is delivered once in the outcomes as on the receiver."""
    return {
        "outcome_id": outcome_id(decision_id, OutcomeKind.DELIVERED, at),
        "decision_id": decision_id, "message_id": message_id, "customer_id": customer_id,
        "action_id": action_id, "channel": channel, "kind": OutcomeKind.DELIVERED.value,
        "reason": None, "rating": None, "occurred_at": at, "source": "deliver",
        "recorded_at": at,
    }


@dataclass(frozen=True, slots=True)
class Recorded:
    recorded: int
    """New rows written."""
    duplicates: int
    """Outcomes already in the store (or twice in the call): kept once."""
    withdrawals: int = 0
    """Marketing consents withdrawn by opt-outs."""


def _decisions(store: Store, ids: Sequence[str]) -> dict[str, Any]:
    d = schema.decisions
    out: dict[str, Any] = {}
    for start in range(0, len(ids), _CHUNK):
        part = list(ids[start:start + _CHUNK])
        for r in store.rows(select(d.c.decision_id, d.c.customer_id, d.c.action_id, d.c.channel,
                                   d.c.silent, d.c.decided_at).where(d.c.decision_id.in_(part))):
            out[str(r.decision_id)] = r
    return out


def _duplicate(exc: Exception) -> bool:
    """True for a unique key refused: SQLSTATE 23505 on PostgreSQL, SQLite's own words."""
    text = str(exc)
    return isinstance(exc, IntegrityError) or "SQLSTATE 23505" in text or (
        "UNIQUE constraint failed" in text)


def record_outcomes(store: Store, outcomes: Iterable[OutcomeIn | Outcome], *,
                    source: str = "api") -> Recorded:
    """Store ``outcomes`` against their decisions, idempotently, in one transaction.

    Every outcome is checked before anything is written, so a batch is all or nothing: the
    decision must exist (:class:`NotFoundError`), have sent a message, belong to the customer
    given, and precede the outcome.

    An opt-out is an unsubscribe: it withdraws the customer's marketing consent at its moment,
    through ``trust.consent.record`` (the one door, which also retracts what that consent
    allowed). Service messages and insights go on: what the law requires a bank to send cannot
    be unsubscribed from, and withdrawing personalization is the customer's own, explicit
    choice. The withdrawal is made for every opt-out of the call that lacks one, recorded now or
    before, so a call interrupted between the two writes is completed by its retry."""
    if source not in SOURCES:
        raise ValidationError(f"source must be one of {', '.join(SOURCES)}; got {source!r}")
    items = [from_domain(o) if isinstance(o, Outcome) else o for o in outcomes]
    decisions = _decisions(store, sorted({o.decision_id for o in items}))
    now = datetime.now(UTC)
    rows: dict[str, dict[str, Any]] = {}
    for o in items:
        d = decisions.get(o.decision_id)
        if d is None:
            raise NotFoundError(f"no decision {o.decision_id!r} in the store")
        if d.silent:
            raise ValidationError(f"decision {o.decision_id} was silence: nothing to react to")
        if o.customer_id is not None and o.customer_id != d.customer_id:
            raise ValidationError(f"decision {o.decision_id} was not for customer "
                                  f"{mask(o.customer_id)}")
        if o.occurred_at < d.decided_at:
            raise ValidationError(f"outcome {o.outcome_kind} of decision {o.decision_id} at "
                                  f"{o.occurred_at.isoformat()} precedes the decision "
                                  f"({d.decided_at.isoformat()})")
        key = outcome_id(o.decision_id, o.outcome_kind, o.occurred_at)
        rows.setdefault(key, {
            "outcome_id": key, "decision_id": o.decision_id, "message_id": o.message_id,
            "customer_id": str(d.customer_id), "action_id": d.action_id, "channel": d.channel,
            "kind": o.outcome_kind.value, "reason": o.reason,
            "rating": None if o.rating is None else float(o.rating),
            "occurred_at": o.occurred_at, "source": source, "recorded_at": now,
        })
    t = schema.outcomes
    for attempt in range(3):
        try:
            with store.transaction() as conn:
                keys = list(rows)
                seen: set[str] = set()
                for start in range(0, len(keys), _CHUNK):
                    seen |= {str(r[0]) for r in conn.execute(select(t.c.outcome_id).where(
                        t.c.outcome_id.in_(keys[start:start + _CHUNK])))}
                new = [rows[k] for k in keys if k not in seen]
                if new:
                    conn.execute(insert(t), new)
            break
        except (IntegrityError, StoreError) as exc:
            # The same outcome recorded at the same time by another request (a client's retry
            # racing its first try): the next pass finds it stored and inserts the rest. The
            # store reports it as a StoreError naming the unique key (``store_error``).
            if attempt == 2 or not _duplicate(exc):
                raise
    withdrawn = _withdraw_marketing(store, [r for r in rows.values()
                                            if r["kind"] == OutcomeKind.OPT_OUT.value])
    return Recorded(len(new), len(items) - len(new), withdrawn)


def _withdraw_marketing(store: Store, opt_outs: Sequence[dict[str, Any]]) -> int:
    c = schema.consents
    done = 0
    for r in opt_outs:
        at = r["occurred_at"].astimezone(UTC)
        exists = store.rows(select(c.c.status).where(
            c.c.customer_id == r["customer_id"], c.c.purpose == ConsentPurpose.MARKETING.value,
            c.c.at == at))
        if exists:
            continue
        consent.record(store, Consent(r["customer_id"], ConsentPurpose.MARKETING,
                                      ConsentStatus.WITHDRAWN, at,
                                      source=f"opt_out:{r['decision_id']}"[:64]))
        done += 1
    return done


# -- from the bank's events -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FromEvents:
    events: int
    """Notification events read."""
    by_id: int
    """Matched by the decision or message id they carry."""
    by_time: int
    """Matched to the customer's latest message on the channel."""
    bank_alerts: int
    """About the bank's own alerts: no decision of Tactful caused them."""
    unmatched: int
    recorded: int


def _attributes(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        parsed = json.loads(value)
        return parsed if isinstance(parsed, dict) else {}
    return {}


def outcomes_from_events(store: Store, *, since: datetime | None = None,
                         until: datetime | None = None) -> FromEvents:
    """Derive outcomes from the ``notification_*`` events ingested in ``[since, until]``
    (default: all) and record them with source ``events`` (idempotent: run it after every
    ingest)."""
    e = schema.events
    query = select(e.c.id, e.c.customer_id, e.c.kind, e.c.occurred_at, e.c.channel,
                   e.c.attributes).where(e.c.kind.in_(list(EVENT_KINDS)))
    if since is not None:
        query = query.where(e.c.occurred_at >= require_aware(since, "since"))
    if until is not None:
        query = query.where(e.c.occurred_at <= require_aware(until, "until"))
    events = store.rows(query.order_by(e.c.occurred_at, e.c.id))
    named: list[tuple[Any, dict[str, Any]]] = []
    loose: list[Any] = []
    alerts = 0
    for r in events:
        attrs = _attributes(r.attributes)
        if attrs.get("decision_id") or attrs.get("message_id"):
            named.append((r, attrs))
        elif attrs.get("alert"):
            alerts += 1
        else:
            loose.append(r)
    sends = _sends(store, sorted({str(r.customer_id) for r in loose}))
    records: list[OutcomeIn] = []
    by_id = by_time = unmatched = 0
    known = _decisions(store, sorted({str(a.get("decision_id")) for _, a in named
                                      if a.get("decision_id")}))
    for r, attrs in named:
        decision = str(attrs.get("decision_id") or "")
        message = attrs.get("message_id")
        if decision not in known:
            unmatched += 1
            continue
        by_id += 1
        records.append(_event_outcome(r, decision, attrs,
                                      str(message) if message else None))
    for r in loose:
        match = _latest(sends.get(str(r.customer_id), []), r.channel, r.occurred_at)
        if match is None:
            unmatched += 1
            continue
        by_time += 1
        records.append(_event_outcome(r, match, _attributes(r.attributes), None))
    done = record_outcomes(store, records, source="events") if records else Recorded(0, 0)
    return FromEvents(len(events), by_id, by_time, alerts, unmatched, done.recorded)


def _event_outcome(r: Any, decision_id: str, attrs: dict[str, Any],
                   message_id: str | None) -> OutcomeIn:
    kind = EVENT_KINDS[str(r.kind)]
    reason = attrs.get("reason") if kind is OutcomeKind.DISMISS else None
    return OutcomeIn(decision_id, kind, r.occurred_at, customer_id=str(r.customer_id),
                     reason=str(reason) if reason else None, message_id=message_id)


def _sends(store: Store, customers: Sequence[str]) -> dict[str, list[tuple[datetime, str, str]]]:
    """Customer -> their messages as (send time, channel, decision id), by send time."""
    d = schema.decisions
    out: dict[str, list[tuple[datetime, str, str]]] = defaultdict(list)
    for start in range(0, len(customers), _CHUNK):
        part = list(customers[start:start + _CHUNK])
        for r in store.rows(select(d.c.customer_id, d.c.send_at, d.c.channel, d.c.decision_id)
                            .where(d.c.customer_id.in_(part), d.c.silent.is_(False))
                            .order_by(d.c.send_at, d.c.decision_id)):
            out[str(r.customer_id)].append((r.send_at, str(r.channel), str(r.decision_id)))
    return out


def _latest(sends: list[tuple[datetime, str, str]], channel: str | None,
            at: datetime) -> str | None:
    best = None
    for send_at, ch, decision in sends:
        if send_at > at:
            break
        if (channel is None or ch == channel) and at - send_at <= MATCH_WINDOW:
            best = decision
    return best


# -- what the decision layer learns -----------------------------------------------------------


ENGAGED: Final = frozenset({OutcomeKind.CLICK, OutcomeKind.CONVERT})
REJECTED: Final = frozenset({OutcomeKind.DISMISS, OutcomeKind.OPT_OUT})
SEEN: Final = frozenset({OutcomeKind.DELIVERED, OutcomeKind.IMPRESSION, OutcomeKind.OPEN,
                         OutcomeKind.RATING})


@dataclass(frozen=True, slots=True)
class Fate:
    """What the outcomes recorded up to a moment say of one message."""

    engaged: bool
    """Clicked or converted."""
    dismissed: bool
    """Dismissed or opted out of (and not engaged with)."""
    seen: bool
    """Any outcome at all: it reached the customer."""


@cache
def _fates_query(of_ids: bool) -> Any:
    """Built once (the feed asks once a request): building costs more than running it."""
    t = schema.outcomes
    query = select(t.c.decision_id, t.c.kind).where(t.c.occurred_at <= bindparam("at"))
    if of_ids:
        query = query.where(t.c.decision_id.in_(bindparam("ids", expanding=True)))
    return query


def fates(store: Store, *, at: datetime, decision_ids: Sequence[str] | None = None) -> (
    dict[str, Fate]
):
    """Decision -> the fate of its message by the outcomes that occurred up to ``at`` (later
    ones are the future for a decision made at ``at``: replaying it must not see them); every
    decision's when ``decision_ids`` is None."""
    kinds: dict[str, set[OutcomeKind]] = defaultdict(set)
    if decision_ids is None:
        parts: list[tuple[Any, dict[str, Any]]] = [(_fates_query(False), {"at": at})]
    else:
        ids = list(decision_ids)
        parts = [(_fates_query(True), {"at": at, "ids": ids[start:start + _CHUNK]})
                 for start in range(0, len(ids), _CHUNK)]
    for query, values in parts:
        for did, kind in store.rows(query, values):
            kinds[str(did)].add(OutcomeKind(kind))
    out = {}
    for did, ks in kinds.items():
        engaged = bool(ks & ENGAGED)
        out[did] = Fate(engaged, not engaged and bool(ks & REJECTED), True)
    return out
