"""Feedback through its one door: the event stored once, the message's insights moved along
their lifecycle, and no customer reaching another's decisions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tactful.errors import NotFoundError
from tactful.service.clock import Clock
from tactful.service.feed import feed
from tactful.service.feedback import feedback
from tactful.service.records import FeedAnswer, FeedbackIn
from tactful.store import schema
from tactful.store.store import Store

from .conftest import customers


def _with_insight(store: Store) -> FeedAnswer:
    for cid in customers(store):
        answer = feed(store, customer_id=cid, clock=Clock.DATA)
        if answer.message is not None and answer.message.insight_ids:
            return answer
    raise AssertionError("no feed shows an insight")


def _states(store: Store, ids: list[str]) -> set[str]:
    i = schema.insights
    return {str(r[0]) for r in store.rows(select(i.c.state).where(i.c.insight_id.in_(ids)))}


def test_an_impression_then_a_dismissal_move_the_insights_and_are_recorded_once(
        bank: Store) -> None:
    shown = _with_insight(bank)
    assert shown.message is not None
    ids = shown.message.insight_ids
    seen = FeedbackIn(decision_id=shown.decision_id, kind="impression")
    first = feedback(bank, customer_id=shown.customer_id, item=seen)
    assert first.recorded and first.insights_moved == len(ids)
    assert _states(bank, ids) == {"shown"}
    retry = feedback(bank, customer_id=shown.customer_id, item=seen)
    assert not retry.recorded and retry.insights_moved == 0
    gone = feedback(bank, customer_id=shown.customer_id, item=FeedbackIn(
        decision_id=shown.decision_id, kind="dismiss", reason="not relevant"))
    assert gone.insights_moved == len(ids) and _states(bank, ids) == {"dismissed"}
    rated = feedback(bank, customer_id=shown.customer_id, item=FeedbackIn(
        decision_id=shown.decision_id, kind="rating", rating=2))
    assert rated.recorded and rated.insights_moved == 0
    e = schema.events
    rows = bank.rows(select(e.c.feature, e.c.attributes).where(
        e.c.customer_id == shown.customer_id, e.c.kind == "feedback"))
    kinds = sorted(str(r[0]) for r in rows)
    assert kinds == ["dismiss", "impression", "rating"]
    assert any("not relevant" in str(r[1]) for r in rows)


def test_feedback_on_someone_elses_or_a_silent_decision_is_not_found(bank: Store) -> None:
    shown = _with_insight(bank)
    other = next(c for c in customers(bank) if c != shown.customer_id)
    with pytest.raises(NotFoundError, match="for this customer"):
        feedback(bank, customer_id=other,
                 item=FeedbackIn(decision_id=shown.decision_id, kind="click"))
    silent = next(a for a in (feed(bank, customer_id=c, clock=Clock.DATA)
                              for c in customers(bank)) if a.silent)
    with pytest.raises(NotFoundError, match="showed nothing"):
        feedback(bank, customer_id=silent.customer_id,
                 item=FeedbackIn(decision_id=silent.decision_id, kind="impression"))


def test_feedback_becomes_the_decisions_outcomes_once_each(bank: Store) -> None:
    """What the bandit, the contact history and the engagement report read: one outcome per
    feedback, a retry adding none, a dismissal with its reason, a rating with its stars."""
    shown = _with_insight(bank)
    for item in (FeedbackIn(decision_id=shown.decision_id, kind="click"),
                 FeedbackIn(decision_id=shown.decision_id, kind="click"),
                 FeedbackIn(decision_id=shown.decision_id, kind="dismiss", reason="too_many"),
                 FeedbackIn(decision_id=shown.decision_id, kind="rating", rating=4)):
        feedback(bank, customer_id=shown.customer_id, item=item)
    o = schema.outcomes
    rows = bank.rows(select(o.c.kind, o.c.reason, o.c.rating, o.c.source).where(
        o.c.decision_id == shown.decision_id).order_by(o.c.kind))
    assert [tuple(r) for r in rows] == [("click", None, None, "api"),
                                       ("dismiss", "too_many", None, "api"),
                                       ("rating", None, 4.0, "api")]
