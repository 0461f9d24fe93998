"""The bandit's evidence for the real-time path, kept up to date instead of re-read per request.

:func:`~tactful.decide.repository.learned` reads the whole decisions log and every outcome, and
parses each message's JSON, to count what every arm earned: right for a batch run (once for the
bank), ruinous for the feed, where it grew with every decision ever made. :class:`Evidence` holds
the log's sends and their outcomes in memory, one per store and process, and before each answer
brings them up to date with the rows written since -- by this process or any other worker --
through indexed reads (``ix_decisions_created_at``, ``ix_outcomes_recorded_at``,
``ix_insights_state``). The counting itself is :func:`learned`'s, over the same rows, so both
give the same answer at every moment (a test holds them to it).

What tells it what changed, in one statement before the reads (one snapshot):

* decisions and outcomes are appended (a decision decided again is upserted with a new
  ``created_at``): the rows with ``created_at`` / ``recorded_at`` from :data:`MARGIN` before the
  latest seen are read again, so a transaction that committed a little after a later one is not
  missed; fewer rows held than the table has (one committed later still, or an outcome stamped
  in the past) reloads everything;
* an insight's state counts only once it is ``acted_on`` or ``dismissed``, states it never
  leaves: their number changing re-reads them;
* rows are deleted only by an erasure, which leaves a tombstone: a new tombstone reloads all.

A feedback posted, or an opt-out, is an outcome (and an insight state): the next request sees
it, as it saw it when everything was read afresh -- or, in a serving process, which asks with
``fresh_for=FRESH_FOR``, the first request a quarter of a second later: at a hundred requests a
second every request re-read the rows of the last :data:`MARGIN`, a few hundred, and that read
was a quarter of the feed's CPU; the arms' counts move by one message in thousands meanwhile.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Final

from sqlalchemy import Select, func, select

from tactful.decide.bandit import arm_key
from tactful.decide.contact import Send
from tactful.decide.held import PerStore
from tactful.decide.repository import _verdict as verdict
from tactful.domain.actions import OutcomeKind
from tactful.domain.enums import Channel
from tactful.insights import lifecycle
from tactful.measure.outcomes import ENGAGED, REJECTED, Fate
from tactful.store import schema
from tactful.store.store import Store

MARGIN: Final = timedelta(seconds=2)
"""How far before the latest row seen the next read starts: a write stamped earlier than another
may commit after it (two workers, a slow transaction)."""
SETTLED: Final = (lifecycle.ACTED_ON, lifecycle.DISMISSED)
FRESH_FOR: Final = 0.25
"""Seconds a serving process counts on the rows it read last before reading again."""


@dataclass(frozen=True, slots=True)
class _Sent:
    decided_at: datetime
    send: Send
    arm: str
    insight_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Marks:
    decisions: int
    outcomes: int
    settled: int
    erasures: int | None


class Evidence:
    """Arm -> (engaged, not engaged) at any moment, as :func:`learned` would count it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._sent: dict[str, _Sent] = {}
        self._silent: dict[str, datetime] = {}
        self._stamp: dict[str, datetime] = {}
        self._outcomes: dict[str, tuple[str, OutcomeKind, datetime]] = {}
        self._by_decision: dict[str, list[tuple[datetime, OutcomeKind]]] = defaultdict(list)
        self._settled: dict[str, str] = {}
        self._decisions_mark: datetime | None = None
        self._outcomes_mark: datetime | None = None
        self._marks: _Marks | None = None
        self._memo: tuple[datetime, dict[str, tuple[int, int]]] | None = None
        self._synced: float | None = None

    def learned(self, store: Store, *, at: datetime, fresh_for: float = 0.0) -> (
        dict[str, tuple[int, int]]
    ):
        """The counts at ``at``; the rows are brought up to date first, unless they were less
        than ``fresh_for`` seconds ago."""
        with self._lock:
            now = time.monotonic()
            if self._synced is None or now - self._synced >= fresh_for:
                self._sync(store)
                self._synced = now
            if self._memo is not None and self._memo[0] == at:
                return dict(self._memo[1])
            counts = self._count(at)
            self._memo = (at, counts)
            return dict(counts)

    # -- bringing the rows up to date ----------------------------------------------------------

    def _sync(self, store: Store) -> None:
        i = schema.insights
        marks = _Marks(*store.rows(_marks_query())[0])
        if self._marks is not None and marks.erasures != self._marks.erasures:
            self._reset()
        changed = self._read_decisions(store)
        changed |= self._read_outcomes(store)
        if len(self._sent) + len(self._silent) < marks.decisions or (
                len(self._outcomes) < marks.outcomes):
            self._reset()
            self._read_decisions(store)
            self._read_outcomes(store)
            changed = True
        if self._marks is None or marks.settled != self._marks.settled:
            self._settled = {str(k): str(v) for k, v in store.rows(
                select(i.c.insight_id, i.c.state).where(i.c.state.in_(SETTLED)))}
            changed = True
        self._marks = marks
        if changed:
            self._memo = None

    def _read_decisions(self, store: Store) -> bool:
        d = schema.decisions
        query = select(d.c.decision_id, d.c.silent, d.c.decided_at, d.c.send_at, d.c.action_id,
                       d.c.channel, d.c.relevance, d.c.created_at)
        if self._decisions_mark is not None:
            query = query.where(d.c.created_at >= self._decisions_mark - MARGIN)
        changed = False
        for r in store.rows(query):
            did = str(r.decision_id)
            if self._decisions_mark is None or r.created_at > self._decisions_mark:
                self._decisions_mark = r.created_at
            if self._stamp.get(did) == r.created_at:
                continue
            self._stamp[did] = r.created_at
            before = self._sent.pop(did, None) or self._silent.pop(did, None)
            if r.silent:
                self._silent[did] = r.decided_at
                changed |= isinstance(before, _Sent)
                continue
            relevance = r.relevance if isinstance(r.relevance, dict) else json.loads(r.relevance)
            sent = _Sent(r.decided_at, Send(r.send_at, Channel(r.channel), str(r.action_id)),
                         arm_key(str(r.action_id), str(r.channel)),
                         tuple(str(x) for x in relevance.get("insight_ids", [])))
            self._sent[did] = sent
            changed |= before != sent
        return changed

    def _read_outcomes(self, store: Store) -> bool:
        o = schema.outcomes
        query = select(o.c.outcome_id, o.c.decision_id, o.c.kind, o.c.occurred_at,
                       o.c.recorded_at)
        if self._outcomes_mark is not None:
            query = query.where(o.c.recorded_at >= self._outcomes_mark - MARGIN)
        changed = False
        for r in store.rows(query):
            if self._outcomes_mark is None or r.recorded_at > self._outcomes_mark:
                self._outcomes_mark = r.recorded_at
            key = str(r.outcome_id)
            if key in self._outcomes:
                continue
            item = (str(r.decision_id), OutcomeKind(r.kind), r.occurred_at)
            self._outcomes[key] = item
            self._by_decision[item[0]].append((item[2], item[1]))
            changed = True
        return changed

    # -- counting --------------------------------------------------------------------------------

    def _fate(self, decision_id: str, at: datetime) -> Fate | None:
        seen = self._by_decision.get(decision_id)
        if not seen:
            return None
        kinds = {k for when, k in seen if when <= at}
        if not kinds:
            return None
        engaged = bool(kinds & ENGAGED)
        return Fate(engaged, not engaged and bool(kinds & REJECTED), True)

    def _count(self, at: datetime) -> dict[str, tuple[int, int]]:
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        state: Mapping[str, str] = self._settled
        for did, s in self._sent.items():
            if s.decided_at >= at:
                continue
            found = verdict(s.send, list(s.insight_ids), state, at, self._fate(did, at))
            if found is not None:
                counts[s.arm][0 if found else 1] += 1
        return {k: (v[0], v[1]) for k, v in sorted(counts.items())}


@cache
def _marks_query() -> Select[Any]:
    """Built once: building a statement costs more than running this one."""
    d, o, i, e = schema.decisions, schema.outcomes, schema.insights, schema.erasures
    return select(
        select(func.count()).select_from(d).scalar_subquery(),
        select(func.count()).select_from(o).scalar_subquery(),
        select(func.count()).select_from(i).where(i.c.state.in_(SETTLED)).scalar_subquery(),
        select(func.max(e.c.id)).scalar_subquery(),
    )


_HELD: PerStore[Evidence] = PerStore(Evidence)


def evidence(store: Store) -> Evidence:
    """This process's evidence for ``store``, made on first use."""
    return _HELD.of(store)


def learned_now(store: Store, *, at: datetime, fresh_for: float = 0.0) -> (
    dict[str, tuple[int, int]]
):
    """:func:`~tactful.decide.repository.learned` at ``at``, from the rows held in memory
    (brought up to date unless they were less than ``fresh_for`` seconds ago)."""
    return evidence(store).learned(store, at=at, fresh_for=fresh_for)


__all__ = ["FRESH_FOR", "MARGIN", "Evidence", "evidence", "learned_now"]
