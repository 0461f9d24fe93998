"""The customer's feed for a placement, and "why am I seeing this?".

``feed`` runs the real-time decision (``decide.service.decide_customer``) and answers with
the one message chosen -- its words taken from the insight it carries -- or silence, each with
its one-sentence explanation, and logs the decision so feedback and ``why`` can refer to it.
Consent is read as it stands at the wall clock, not at the decision's moment: a withdrawal
recorded a second ago binds this request (see ``clock``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import select

from tactful.decide.placement import Placement
from tactful.decide.policy import DecisionPolicy, DecisionResult
from tactful.errors import NotFoundError
from tactful.service.clock import Clock, moment
from tactful.service.records import Candidate, FeedAnswer, FeedMessage, WhyAnswer
from tactful.store import schema
from tactful.store.store import Store


def _message(store: Store, result: DecisionResult) -> FeedMessage | None:
    d = result.decision
    if d.action is None or d.channel is None:
        return None
    ids = [str(i) for i in d.relevance.get("insight_ids", [])]
    title = text = cta = None
    if ids:
        i = schema.insights
        rows = store.rows(select(i.c.insight_id, i.c.title, i.c.message, i.c.call_to_action,
                                 i.c.locale).where(i.c.insight_id.in_(ids)))
        lead = {str(r.insight_id): r for r in rows}.get(ids[0])
        if lead is not None:
            title, text, cta = _worded(store, result, lead)
    return FeedMessage(action_id=d.action.id, family=d.action.family.value, channel=d.channel,
                       title=title, message=text, call_to_action=cta, insight_ids=ids)


def _worded(store: Store, result: DecisionResult, lead: Any) -> (
    tuple[str | None, str | None, str | None]
):
    """The insight's words as the decision's experiment arm says them: a message-variant test
    (tone, format) measures the same wording in the feed as in the outbox's messages."""
    from tactful.deliver.content import Content
    from tactful.deliver.variants import apply
    from tactful.measure.assignment import variant_of
    from tactful.measure.experiments import load

    logged = dict(result.inputs.customer.assignments)
    variant = variant_of(load(store), logged) if logged else None
    if variant is None:
        return lead.title, lead.message, lead.call_to_action
    locale = str(lead.locale)
    said = apply(Content(locale.split("_")[0], locale, lead.title or "", lead.message or "",
                         lead.call_to_action or "", ""), variant)
    return said.title, said.body, said.call_to_action


@cache
def default_policy() -> DecisionPolicy:
    """The default policy, built once per process: parsing the actions catalog costs more than
    a decision, and the policy's pool of posterior draws is worth keeping warm."""
    from tactful.decide.service import default_policy as build

    return build()


def feed(
    store: Store,
    *,
    customer_id: str,
    placement: Placement = Placement.FEED,
    clock: Clock = Clock.NOW,
    at: datetime | None = None,
) -> FeedAnswer:
    """What ``customer_id`` sees on ``placement`` now (or at ``at``): one message or silence,
    logged as a decision. ``NotFoundError`` for an unknown customer."""
    from tactful.decide.evidence import FRESH_FOR
    from tactful.decide.service import decide_customer

    when = at or moment(store, clock)
    served = datetime.now(UTC)
    result = decide_customer(store, customer_id=customer_id, placement=placement, at=when,
                             policy=default_policy(), consent_at=max(when, served),
                             served_at=served, fresh_for=FRESH_FOR)
    d = result.decision
    return FeedAnswer(
        decision_id=d.decision_id, customer_id=d.customer_id, placement=placement,
        decided_at=result.inputs.at, silent=d.is_silence, message=_message(store, result),
        explanation=d.explanation, pscore=float(d.pscore), policy_version=d.policy_version)


def decision_owner(store: Store, decision_id: str) -> str:
    """The customer a logged decision was about; ``NotFoundError`` if it is not logged."""
    d = schema.decisions
    rows = store.rows(select(d.c.customer_id).where(d.c.decision_id == decision_id))
    if not rows:
        raise NotFoundError(f"no decision {decision_id!r} in the store")
    return str(rows[0][0])


def why(store: Store, *, decision_id: str) -> WhyAnswer:
    """A logged decision replayed from its inputs: what was chosen, why, every candidate and
    what became of it, and whether the replay gives the same answer."""
    from tactful.decide.service import explain

    replay = explain(store, decision_id=decision_id, policy=default_policy())
    log = replay.logged
    return WhyAnswer(
        decision_id=decision_id, customer_id=str(log["customer_id"]),
        placement=str(log["placement"]), decided_at=log["decided_at"],
        action_id=log["action_id"], channel=log["channel"], explanation=str(log["explanation"]),
        pscore=float(log["pscore"]), policy_version=str(log["policy_version"]),
        candidates=[Candidate(action_id=c.action_id, subject=c.subject, channel=c.channel,
                              outcome=c.dropped or "chosen", reason=c.reason)
                    for c in replay.considered],
        replays_identically=replay.same)
