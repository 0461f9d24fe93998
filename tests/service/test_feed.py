"""The feed as the application layer serves it: one message or silence with its reason, logged
and replayable; and a withdrawn consent binding on the very next request."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tactful.decide.placement import Placement
from tactful.decide.service import decide_customer
from tactful.errors import NotFoundError
from tactful.insights import lifecycle
from tactful.service.clock import Clock
from tactful.service.customers import change_consent
from tactful.service.feed import decision_owner, feed, why
from tactful.service.records import ConsentIn
from tactful.store import schema
from tactful.store.store import Store

from .conftest import customers


def _first(store: Store, kind: str) -> tuple[str, str]:
    """A customer whose feed shows an ``offer`` (or an ``insight``) now, and its action."""
    for cid in customers(store):
        answer = feed(store, customer_id=cid, clock=Clock.DATA)
        m = answer.message
        if m is not None and (m.family == "product_offer") == (kind == "offer") and (
                kind == "offer" or m.insight_ids):
            return cid, m.action_id
    raise AssertionError(f"no feed in the test bank shows an {kind}")


def test_the_feed_answers_a_message_or_silence_each_with_its_reason(bank: Store) -> None:
    answers = [feed(bank, customer_id=c, clock=Clock.DATA) for c in customers(bank)]
    shown = [a for a in answers if not a.silent]
    quiet = [a for a in answers if a.silent]
    assert shown and quiet
    assert all(a.message is None and a.explanation.startswith("Stayed silent") for a in quiet)
    for a in shown:
        assert a.message is not None and a.message.channel.value == "in_app"
        assert a.explanation.startswith(f"Chose {a.message.action_id}")
    insight = next(a for a in shown if a.message and a.message.insight_ids)
    assert insight.message is not None and insight.message.title and insight.message.message
    again = why(bank, decision_id=insight.decision_id)
    assert again.replays_identically and again.explanation == insight.explanation
    assert decision_owner(bank, insight.decision_id) == insight.customer_id
    assert any(c.outcome == "chosen" for c in again.candidates)


def test_a_withdrawn_marketing_consent_binds_the_very_next_feed(bank: Store) -> None:
    cid, offer = _first(bank, "offer")
    before = feed(bank, customer_id=cid, clock=Clock.DATA)
    # the decision's moment is the data's (in the past); the withdrawal is recorded now
    change_consent(bank, customer_id=cid, change=ConsentIn(purpose="marketing", action="withdraw"))
    after = feed(bank, customer_id=cid, clock=Clock.DATA)
    assert before.message is not None and before.message.action_id == offer
    assert after.message is None or after.message.family != "product_offer"
    dropped = {c.action_id: c.outcome for c in why(bank, decision_id=after.decision_id).candidates}
    assert dropped[offer] == "no_consent"
    # the decision layer alone, consent read at the data's moment, still holds marketing then
    # (the offer, shown twice already at this moment, may now be held back by the contact
    # policy, but not for consent)
    past = decide_customer(bank, customer_id=cid, at=after.decided_at, save=False)
    assert "marketing" in past.inputs.customer.held
    assert {c.dropped for c in past.considered if c.action_id == offer} != {"no_consent"}


def test_a_withdrawn_personalization_consent_silences_every_insight_at_once(bank: Store) -> None:
    cid, _ = _first(bank, "insight")
    change_consent(bank, customer_id=cid,
                   change=ConsentIn(purpose="personalization", action="withdraw"))
    after = feed(bank, customer_id=cid, clock=Clock.DATA)
    assert after.message is None or not after.message.insight_ids
    i = schema.insights
    states = {str(r[0]) for r in bank.rows(select(i.c.state).where(i.c.customer_id == cid))}
    assert not states & set(lifecycle.OPEN)
    # granting it again lets the customer's future insights through (the retracted stay so)
    change_consent(bank, customer_id=cid,
                   change=ConsentIn(purpose="personalization", action="grant"))
    again = decide_customer(bank, customer_id=cid, at=after.decided_at, save=False,
                            consent_at=datetime.now(UTC))
    assert "personalization" in again.inputs.customer.held


def test_unknown_customers_and_decisions_are_not_found(bank: Store) -> None:
    with pytest.raises(NotFoundError, match="is not in the store"):
        feed(bank, customer_id="NOBODY", clock=Clock.DATA)
    with pytest.raises(NotFoundError, match="no decision"):
        why(bank, decision_id="nope")
    with pytest.raises(NotFoundError, match="no decision"):
        decision_owner(bank, "nope")


def test_the_feed_serves_any_placement(bank: Store) -> None:
    cid = customers(bank)[0]
    push = feed(bank, customer_id=cid, placement=Placement.PUSH, clock=Clock.DATA)
    assert push.placement is Placement.PUSH
    if push.message is not None:
        assert push.message.channel.value == "push"


def test_a_wording_experiment_words_the_feed_as_it_words_the_outbox(bank: Store) -> None:
    """A message-variant arm changes what the feed says, not only the messages the outbox
    sends: the test measures one wording wherever the customer reads it."""
    from tactful.measure import experiments
    from tactful.measure.assignment import Arm, Experiment
    from tactful.service.clock import moment
    from tactful.service.feed import _message

    cid, _ = _first(bank, "insight")
    # the same decision (unlogged, so the second sees the history the first saw), taken
    # without and then with the experiment: a logged feed request is a decision of its own
    # and the next one may choose differently -- the wording is what is under test here
    when = moment(bank, Clock.DATA)
    plain = _message(bank, decide_customer(bank, customer_id=cid, at=when, save=False))
    assert plain is not None and plain.title and plain.message
    start = datetime(2000, 1, 1, tzinfo=UTC)
    experiments.create(bank, Experiment(
        "feed-wording", (Arm("warm", variant="friendly"), Arm("warmer", variant="friendly")),
        start))
    try:
        warm = _message(bank, decide_customer(bank, customer_id=cid, at=when, save=False))
    finally:  # the module's other tests see no experiment
        experiments.stop(bank, "feed-wording", at=start)
    assert warm is not None and warm.action_id == plain.action_id
    assert warm.title != plain.title and plain.title in warm.title
    assert warm.message is not None and warm.message.startswith(plain.message)
    assert len(warm.message) > len(plain.message)
