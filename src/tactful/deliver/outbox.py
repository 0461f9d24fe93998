"""The outbox in the store: enqueue decisions to send, claim due messages, record results.

Every write is one short transaction, and a message's whole life is in its row, so a worker
killed at any point leaves a state another worker can continue from:

- :func:`enqueue` turns every decision to send that has no message yet into a ``pending`` row,
  reading only the decisions not yet looked at (``decisions.outboxed_at``, a partial index);
  the row's key is derived from the decision id and is its primary key, so enqueueing again (two
  workers at once, a worker killed mid-way, a re-decision) adds nothing.
- :func:`claim` moves due rows (``next_attempt_at`` passed, which starts at the decision's
  ``send_at``) to ``sending`` under a lease, in one ``UPDATE ... RETURNING``: on PostgreSQL its
  subquery takes the rows ``FOR UPDATE SKIP LOCKED``, so many workers claim disjoint batches
  without waiting on each other; SQLite runs one writer at a time, which the single statement
  makes atomic. A ``sending`` row whose lease ran out (its worker died) is due again.
- :func:`record` writes what the channel answered: ``sent``; or, for a failure worth retrying,
  back to ``pending`` after an exponential back-off with jitter, until ``max_attempts``;
  otherwise ``failed``. Errors are stored with identifiers masked.

A worker that dies between sending and recording leaves the row ``sending``; it is claimed and
sent again when the lease runs out: transport is at-least-once, and the idempotency key lets
the receiver make the effect once.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tactful.decide.catalog import ActionsCatalog
from tactful.deliver import variants
from tactful.deliver.checks import CustomerState
from tactful.deliver.content import Content, compose, spec_of
from tactful.deliver.message import MessageState, OutboundMessage, SendResult, backoff
from tactful.deliver.message import idempotency_key as key_of
from tactful.deliver.settings import DEFAULT_ROUTES
from tactful.domain.records import QuietHours
from tactful.errors import ConfigError
from tactful.measure import experiments
from tactful.measure.assignment import variant_of
from tactful.measure.outcomes import delivered_row
from tactful.store import schema
from tactful.store.store import Store
from tactful.trust import consent
from tactful.trust.privacy import mask_in

__all__ = [
    "Claimed",
    "add",
    "cancel",
    "claim",
    "counts",
    "customer_states",
    "defer",
    "enqueue",
    "record",
]

_CHUNK = 2_000
_ERROR_CHARS = 500


@dataclass(frozen=True, slots=True)
class Claimed:
    """A message claimed for sending, with what the send-time checks need."""

    message: OutboundMessage
    adapter: str
    consent_purpose: str | None
    cap_exempt: bool


def _insert_ignoring_duplicates(conn: Connection, rows: list[dict[str, Any]]) -> int:
    o = schema.outbox
    dialect = conn.dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(o).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(o).on_conflict_do_nothing()
    else:  # pragma: no cover -- make_engine accepts only the two
        raise ConfigError(f"unsupported store backend {dialect!r}")
    stmt = stmt.returning(o.c.idempotency_key)  # executemany's rowcount is -1 on psycopg
    inserted = 0
    for start in range(0, len(rows), _CHUNK):
        inserted += len(conn.execute(stmt, rows[start:start + _CHUNK]).all())
    return inserted


def enqueue(store: Store, *, catalog: ActionsCatalog | None = None,
            routes: Mapping[str, str] | None = None, now: datetime | None = None,
            limit: int = 10_000) -> int:
    """Add a ``pending`` message for every decision to send that has none yet (at most
    ``limit`` decisions looked at per call); return how many were added.

    Reads only the decisions the outbox has not looked at (``outboxed_at`` NULL, through the
    partial index of those) and stamps them in the same transaction as their messages, so a
    round costs the new decisions, not the table. Silent decisions are stamped too (nothing to
    send). A decision stamped whose message already exists (a re-decision, two workers at once)
    adds nothing: the message key is the primary key. On PostgreSQL the decisions are taken
    ``FOR UPDATE SKIP LOCKED``, so two workers enqueue disjoint ones."""
    chosen = catalog or ActionsCatalog.default()
    routing = dict(routes or DEFAULT_ROUTES)
    stamp = now or datetime.now(UTC)
    d = schema.decisions
    query = (select(d.c.decision_id, d.c.customer_id, d.c.action_id, d.c.product_id,
                    d.c.channel, d.c.send_at, d.c.relevance, d.c.silent, d.c.experiments)
             .where(d.c.outboxed_at.is_(None))
             .order_by(d.c.send_at, d.c.decision_id).limit(limit))
    if store.dialect == "postgresql":
        query = query.with_for_update(skip_locked=True)
    with store.transaction() as conn:
        looked = [dict(r._mapping) for r in conn.execute(query)]
        if not looked:
            return 0
        decisions = [dec for dec in looked if not dec["silent"]]
        rows = _messages(conn, decisions, chosen, routing, stamp) if decisions else []
        for start in range(0, len(looked), _CHUNK):
            conn.execute(update(d).where(d.c.decision_id.in_(
                [str(dec["decision_id"]) for dec in looked[start:start + _CHUNK]]))
                .values(outboxed_at=stamp))
        return _insert_ignoring_duplicates(conn, rows) if rows else 0


def _messages(conn: Connection, decisions: list[dict[str, Any]], chosen: ActionsCatalog,
              routing: Mapping[str, str], stamp: datetime) -> list[dict[str, Any]]:
    contents = compose(conn, decisions, chosen)
    logged = {str(dec["decision_id"]): _json(dec["experiments"]) for dec in decisions}
    running = experiments.load_in(conn) if any(logged.values()) else []
    rows = []
    for dec in decisions:
        channel = str(dec["channel"])
        if channel not in routing:
            raise ConfigError(f"no channel adapter is routed for channel {channel!r} "
                              f"(routes: {', '.join(sorted(routing))})")
        spec = spec_of(chosen, str(dec["action_id"]))
        text = contents[str(dec["decision_id"])]
        state, error = MessageState.PENDING.value, None
        if text is None:
            state, error = MessageState.CANCELLED.value, "nothing to say: the message's " \
                "insight or product is no longer in the store"
            text = Content("en", "en", "", "", "", "")
        else:
            text = variants.apply(text, variant_of(running, logged[str(dec["decision_id"])]))
        rows.append({
            "idempotency_key": key_of(str(dec["decision_id"])),
            "decision_id": dec["decision_id"], "customer_id": dec["customer_id"],
            "action_id": dec["action_id"], "channel": channel,
            "adapter": routing[channel],
            "consent_purpose": spec.consent.value if spec and spec.consent else None,
            "cap_exempt": bool(spec and spec.cap_exempt),
            "language": text.language, "locale": text.locale, "title": text.title,
            "body": text.body, "call_to_action": text.call_to_action,
            "explanation": text.explanation, "send_at": dec["send_at"],
            "state": state, "last_error": error, "attempts": 0,
            "next_attempt_at": dec["send_at"], "created_at": stamp, "updated_at": stamp,
        })
    return rows


def _json(value: Any) -> dict[str, str] | None:
    if value is None or isinstance(value, dict):
        return value
    return dict(json.loads(value)) or None


def claim(store: Store, *, worker: str, batch: int, lease: timedelta,
          now: datetime | None = None) -> list[Claimed]:
    """Claim up to ``batch`` due messages for ``worker`` until ``now + lease``."""
    stamp = now or datetime.now(UTC)
    o = schema.outbox
    due = (((o.c.state == MessageState.PENDING.value) & (o.c.next_attempt_at <= stamp))
           | ((o.c.state == MessageState.SENDING.value) & (o.c.claimed_until < stamp)))
    pick = select(o.c.idempotency_key).where(due).order_by(o.c.next_attempt_at).limit(batch)
    if store.dialect == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    stmt = (update(o).where(o.c.idempotency_key.in_(pick.scalar_subquery()))
            .values(state=MessageState.SENDING.value, claimed_by=worker,
                    claimed_until=stamp + lease, attempts=o.c.attempts + 1, updated_at=stamp)
            .returning(o.c.idempotency_key, o.c.decision_id, o.c.customer_id, o.c.action_id,
                       o.c.channel, o.c.adapter, o.c.consent_purpose, o.c.cap_exempt,
                       o.c.language, o.c.locale, o.c.title, o.c.body, o.c.call_to_action,
                       o.c.explanation, o.c.send_at, o.c.attempts))
    with store.transaction() as conn:
        rows = conn.execute(stmt).all()
    out = [Claimed(OutboundMessage(
        r.idempotency_key, r.decision_id, r.customer_id, r.action_id, r.channel, r.language,
        r.locale, r.title, r.body, r.call_to_action, r.explanation, r.send_at, r.attempts),
        r.adapter, r.consent_purpose, bool(r.cap_exempt)) for r in rows]
    return sorted(out, key=lambda c: (c.message.send_at, c.message.idempotency_key))


def record(store: Store, claimed: Sequence[Claimed], results: Sequence[SendResult], *,
           worker: str, max_attempts: int, backoff_base: timedelta, backoff_cap: timedelta,
           now: datetime | None = None, rng: random.Random | None = None) -> Counter[str]:
    """Write the channels' answers for ``claimed``; return how many rows went to each state.

    A message is recorded ``sent`` whoever holds its claim now (it went out: that is the
    truth); a failure only by the worker still holding the claim (another worker may have
    taken over a claim whose lease ran out, and sent it)."""
    stamp = now or datetime.now(UTC)
    by_key = {c.message.idempotency_key: c for c in claimed}
    o = schema.outbox
    sent: list[str] = []
    retry: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for res in results:
        c = by_key[res.idempotency_key]
        if res.ok:
            sent.append(res.idempotency_key)
            continue
        error = mask_in(str(res.error or "unknown error"), [c.message.customer_id,
                                                            c.message.decision_id])
        error = error[:_ERROR_CHARS]
        attempt = c.message.attempt
        if res.retryable and attempt < max_attempts:
            wait = backoff(attempt, base=backoff_base, cap=backoff_cap, rng=rng)
            retry.append({"k": res.idempotency_key, "e": error, "n": stamp + wait})
        else:
            failed.append({"k": res.idempotency_key, "e": error})
    done: Counter[str] = Counter()
    mine = (o.c.state == MessageState.SENDING.value) & (o.c.claimed_by == worker)
    with store.transaction() as conn:
        for start in range(0, len(sent), _CHUNK):
            changed = [str(r[0]) for r in conn.execute(
                update(o).where(o.c.idempotency_key.in_(sent[start:start + _CHUNK]),
                                o.c.state == MessageState.SENDING.value)
                .values(state=MessageState.SENT.value, sent_at=stamp, claimed_until=None,
                        last_error=None, updated_at=stamp)
                .returning(o.c.idempotency_key))]
            done[MessageState.SENT.value] += len(changed)
            if changed:
                conn.execute(insert(schema.outcomes), [delivered_row(
                    decision_id=m.decision_id, message_id=m.idempotency_key,
                    customer_id=m.customer_id, action_id=m.action_id, channel=m.channel,
                    at=stamp) for m in (by_key[k].message for k in changed)])
        if retry:
            conn.execute(update(o).where(o.c.idempotency_key == bindparam("k"), mine)
                         .values(state=MessageState.PENDING.value, last_error=bindparam("e"),
                                 next_attempt_at=bindparam("n"), claimed_until=None,
                                 updated_at=stamp), retry)
            done[MessageState.PENDING.value] += len(retry)
        if failed:
            conn.execute(update(o).where(o.c.idempotency_key == bindparam("k"), mine)
                         .values(state=MessageState.FAILED.value, last_error=bindparam("e"),
                                 claimed_until=None, updated_at=stamp), failed)
            done[MessageState.FAILED.value] += len(failed)
    return done


def cancel(store: Store, reasons: Mapping[str, str], *, now: datetime | None = None) -> int:
    """Cancel the messages ``reasons`` names (key -> why), unless already final."""
    if not reasons:
        return 0
    stamp = now or datetime.now(UTC)
    o = schema.outbox
    open_ = o.c.state.in_([MessageState.PENDING.value, MessageState.SENDING.value])
    by_reason: dict[str, list[str]] = {}
    for key, why in reasons.items():
        by_reason.setdefault(why, []).append(key)
    done = 0
    with store.transaction() as conn:
        for why, keys in sorted(by_reason.items()):
            done += conn.execute(
                update(o).where(o.c.idempotency_key.in_(keys), open_)
                .values(state=MessageState.CANCELLED.value, last_error=why,
                        claimed_until=None, updated_at=stamp)).rowcount
    return done


def defer(store: Store, until: Mapping[str, datetime], *, worker: str,
          now: datetime | None = None) -> int:
    """Put claimed messages back to ``pending`` until the given moments; the claim was no
    attempt, so it is not counted as one."""
    if not until:
        return 0
    stamp = now or datetime.now(UTC)
    o = schema.outbox
    by_moment: dict[datetime, list[str]] = {}
    for key, when in until.items():
        by_moment.setdefault(when, []).append(key)
    done = 0
    with store.transaction() as conn:
        for when, keys in sorted(by_moment.items()):
            done += conn.execute(
                update(o).where(o.c.idempotency_key.in_(keys),
                                o.c.state == MessageState.SENDING.value,
                                o.c.claimed_by == worker)
                .values(state=MessageState.PENDING.value, next_attempt_at=when,
                        attempts=o.c.attempts - 1, claimed_until=None,
                        updated_at=stamp)).rowcount
    return done


def customer_states(store: Store, customer_ids: Sequence[str], *, now: datetime) -> (
    dict[str, CustomerState]
):
    """The send-time state of ``customer_ids`` (a customer erased since is absent)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    held: dict[str, set[str]] = {}
    for cid, purpose in consent.current(store, ids, at=now).iter_rows():
        held.setdefault(str(cid), set()).add(str(purpose))
    c = schema.customers
    out = {}
    for start in range(0, len(ids), _CHUNK):
        for r in store.rows(select(c.c.id, c.c.timezone, c.c.channel_preferences,
                                   c.c.quiet_hours_start, c.c.quiet_hours_end)
                            .where(c.c.id.in_(ids[start:start + _CHUNK]))):
            quiet = None
            if r.quiet_hours_start and r.quiet_hours_end:
                quiet = QuietHours(time.fromisoformat(r.quiet_hours_start),
                                   time.fromisoformat(r.quiet_hours_end))
            prefs = frozenset(p for p in str(r.channel_preferences).replace(",", "|").split("|")
                              if p)
            out[str(r.id)] = CustomerState(frozenset(held.get(str(r.id), set())), prefs,
                                           str(r.timezone), quiet)
    return out


def counts(store: Store) -> dict[str, int]:
    """Messages per state (every state, zero included)."""
    o = schema.outbox
    found = {str(s): int(n) for s, n in store.rows(
        select(o.c.state, func.count()).group_by(o.c.state))}
    return {s.value: found.get(s.value, 0) for s in MessageState}


def add(store: Store, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert ready-made outbox rows (tests, benchmarks, a bank's own producer), ignoring keys
    already present."""
    with store.transaction() as conn:
        return _insert_ignoring_duplicates(conn, [dict(r) for r in rows])

