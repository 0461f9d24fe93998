"""Outcomes: one validated door, idempotent, matched from the bank's events, and read back by
the decision layer -- a click or a dismissal changes the next decision's evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select
from tests.measure.bank import T0, add_customer, add_decision

from tactful.decide.bandit import arm_key
from tactful.decide.repository import learned
from tactful.decide.service import decide_customer, default_policy
from tactful.errors import NotFoundError, ValidationError
from tactful.measure.outcomes import OutcomeIn, outcomes_from_events, record_outcomes
from tactful.store import schema
from tactful.store.store import Store

LATER = T0 + timedelta(hours=1)


def _count(store: Store) -> int:
    return int(store.rows(select(func.count()).select_from(schema.outcomes))[0][0])


def test_recording_the_same_outcome_twice_keeps_one_row(store: Store) -> None:
    add_customer(store)
    add_decision(store, "d1")
    click = OutcomeIn("d1", "click", LATER, customer_id="CUS-1")
    assert record_outcomes(store, [click, click]).recorded == 1
    again = record_outcomes(store, [click], source="events")
    assert (again.recorded, again.duplicates) == (0, 1)
    assert _count(store) == 1
    row = store.rows(select(schema.outcomes))[0]
    assert (row.action_id, row.channel, row.source) == ("idle_cash", "push", "api")
    assert row.occurred_at == LATER and row.occurred_at.tzinfo is not None


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"kind": "like"}, "kind must be one of delivered, impression, open, click, dismiss, "
                       "convert, opt_out, rating; got 'like'"),
    ({"occurred_at": datetime(2026, 3, 2, 10)}, "occurred_at must be timezone-aware"),
    ({"kind": "click", "reason": "spam"}, "reason is for dismissals only; got it on click"),
    ({"kind": "dismiss", "reason": "Not Relevant!"}, "reason must be 1-64 characters"),
    ({"kind": "rating", "rating": 6}, "rating must be a number from 1 to 5; got 6"),
    ({"kind": "rating"}, "rating must be a number from 1 to 5; got None"),
    ({"kind": "open", "rating": 3}, "rating is for ratings only; got it on open"),
    ({"decision_id": ""}, "decision_id must be a non-empty string"),
])
def test_invalid_outcomes_are_refused_naming_the_field(kwargs: dict[str, object],
                                                       message: str) -> None:
    base: dict[str, object] = {"decision_id": "d1", "kind": "click", "occurred_at": LATER}
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        OutcomeIn(**{**base, **kwargs})  # type: ignore[arg-type]


def test_outcomes_that_cannot_be_true_are_refused_before_anything_is_written(
        sqlite_store: Store) -> None:
    store = sqlite_store
    add_customer(store)
    add_decision(store, "d1")
    add_decision(store, "quiet", action_id=None, channel=None)
    good = OutcomeIn("d1", "open", LATER)
    cases = [
        (OutcomeIn("nope", "open", LATER), NotFoundError, "no decision 'nope'"),
        (OutcomeIn("quiet", "open", LATER), ValidationError, "was silence"),
        (OutcomeIn("d1", "open", T0 - timedelta(seconds=1)), ValidationError,
         "precedes the decision"),
        (OutcomeIn("d1", "open", LATER, customer_id="CUS-2"), ValidationError,
         "was not for customer"),
    ]
    for bad, error, message in cases:
        with pytest.raises(error, match=message):
            record_outcomes(store, [good, bad])
    with pytest.raises(ValidationError, match="source must be one of api, events, simulator"):
        record_outcomes(store, [good], source="crm")
    assert _count(store) == 0


def test_events_are_matched_by_id_by_time_and_bank_alerts_are_not_credited(
        sqlite_store: Store) -> None:
    store = sqlite_store
    add_customer(store)
    add_decision(store, "d1", channel="push")
    add_decision(store, "d2", channel="email", at=T0 + timedelta(days=1))
    ev = [
        ("e1", "notification_opened", T0 + timedelta(minutes=30), "push", {"decision_id": "d1"}),
        ("e2", "notification_dismissed", T0 + timedelta(days=1, hours=2), "email",
         {"reason": "not_relevant"}),
        ("e3", "notification_opened", T0 + timedelta(hours=2), "push",
         {"alert": "income_received"}),
        ("e4", "notification_opened", T0 + timedelta(days=30), "push", {}),  # too late
        ("e5", "login", T0 + timedelta(hours=3), None, {}),
    ]
    with store.transaction() as conn:
        conn.execute(insert(schema.events), [
            {"id": i, "customer_id": "CUS-1", "kind": k, "occurred_at": at, "channel": ch,
             "attributes": a} for i, k, at, ch, a in ev])
    report = outcomes_from_events(store)
    assert (report.events, report.by_id, report.by_time, report.bank_alerts,
            report.unmatched, report.recorded) == (4, 1, 1, 1, 1, 2)
    rows = {(r.decision_id, r.kind, r.reason, r.source)
            for r in store.rows(select(schema.outcomes))}
    assert rows == {("d1", "open", None, "events"), ("d2", "dismiss", "not_relevant", "events")}
    assert outcomes_from_events(store).recorded == 0  # idempotent: run it after every ingest


def test_an_outcome_changes_the_next_decisions_arm_evidence(sqlite_store: Store) -> None:
    store = sqlite_store
    add_customer(store)
    policy = default_policy()
    for k in range(3):
        add_decision(store, f"d{k}", action_id="idle_cash", channel="push",
                     at=T0 + timedelta(hours=k))
    arm = arm_key("idle_cash", "push")
    at = T0 + timedelta(days=1)
    assert learned(store, at=at, policy=policy).get(arm) is None  # an offer with no outcome
    record_outcomes(store, [OutcomeIn("d0", "click", T0 + timedelta(minutes=10)),
                            OutcomeIn("d1", "dismiss", T0 + timedelta(hours=1, minutes=9),
                                      reason="not_relevant"),
                            OutcomeIn("d2", "delivered", T0 + timedelta(hours=2, minutes=5))])
    assert learned(store, at=at, policy=policy)[arm] == (1, 1)  # d2: too early to say
    assert learned(store, at=T0 + timedelta(days=4), policy=policy)[arm] == (1, 2)  # ignored
    # an outcome after the moment is the future: a decision at that moment does not see it
    assert learned(store, at=T0 + timedelta(minutes=9), policy=policy).get(arm) is None
    result = decide_customer(store, customer_id="CUS-1", at=at, save=False)
    assert result.inputs.outcomes[arm] == (1, 1)


def test_dismissals_and_ignores_from_outcomes_reach_the_contact_history(
        sqlite_store: Store) -> None:
    store = sqlite_store
    add_customer(store)
    add_decision(store, "d0", action_id="idle_cash", subject="S0", at=T0)
    for k in (1, 2):
        add_decision(store, f"d{k}", action_id="daily_summary", subject=f"S{k}",
                     at=T0 + timedelta(hours=k))
    at = T0 + timedelta(days=5)
    before = decide_customer(store, customer_id="CUS-1", at=at, save=False)
    assert before.inputs.history.dismissed == frozenset()
    assert before.inputs.history.ignores == {}
    record_outcomes(store, [
        OutcomeIn("d0", "dismiss", T0 + timedelta(minutes=20), reason="not_relevant"),
        OutcomeIn("d1", "impression", T0 + timedelta(hours=1, minutes=5)),
        OutcomeIn("d2", "open", T0 + timedelta(hours=2, minutes=5)),
    ])
    after = decide_customer(store, customer_id="CUS-1", at=at, save=False)
    assert after.inputs.history.dismissed == frozenset({"idle_cash:S0"})
    assert after.inputs.history.ignores == {"daily_summary": 2}
    assert after.budget < before.budget  # a smaller attention budget
    policy = default_policy()
    cap_before = policy.attention.capacity_for(0, 0)
    cap_after = policy.attention.capacity_for(len(after.inputs.history.dismissed),
                                              sum(after.inputs.history.ignores.values()))
    assert cap_after < cap_before


def test_outcomes_at_another_offset_are_stored_in_utc(sqlite_store: Store) -> None:
    from zoneinfo import ZoneInfo

    store = sqlite_store
    add_customer(store)
    add_decision(store, "d1")
    paris = LATER.astimezone(ZoneInfo("Europe/Paris"))
    record_outcomes(store, [OutcomeIn("d1", "convert", paris)])
    assert record_outcomes(store, [OutcomeIn("d1", "convert", LATER)]).duplicates == 1
    assert store.rows(select(schema.outcomes.c.occurred_at))[0][0] == LATER.astimezone(UTC)


def test_an_opt_out_withdraws_marketing_consent_once_through_the_consent_door(
        store: Store) -> None:
    from tactful.trust import consent

    add_customer(store)
    add_decision(store, "d1")
    with store.transaction() as conn:
        conn.execute(insert(schema.consents), [
            {"customer_id": "CUS-1", "purpose": p, "status": "granted",
             "at": T0 - timedelta(days=30), "source": "test"}
            for p in ("marketing", "personalization")])

    def held(at: datetime) -> set[str]:
        return {str(p) for _, p in consent.current(store, ["CUS-1"], at=at).iter_rows()}

    assert held(LATER) == {"marketing", "personalization"}
    opt_out = OutcomeIn("d1", "opt_out", LATER - timedelta(minutes=10))
    assert record_outcomes(store, [opt_out]).withdrawals == 1
    assert held(LATER) == {"personalization"}
    assert held(T0) == {"marketing", "personalization"}  # from its moment, not before
    again = record_outcomes(store, [opt_out], source="events")
    assert (again.recorded, again.withdrawals) == (0, 0)


def test_erasing_a_customer_erases_their_outcomes(sqlite_store: Store) -> None:
    from tactful.trust.erasure import erase_customer
    from tactful.trust.export import export_customer

    store = sqlite_store
    add_customer(store)
    add_customer(store, "CUS-2")
    add_decision(store, "d1")
    add_decision(store, "d2", customer_id="CUS-2")
    record_outcomes(store, [OutcomeIn("d1", "click", LATER), OutcomeIn("d2", "click", LATER)])
    assert len(export_customer(store, "CUS-1", requested_by="test").tables["outcomes"]) == 1
    erase_customer(store, "CUS-1", erased_by="test", key=None)
    left = store.rows(select(schema.outcomes.c.customer_id))
    assert [r[0] for r in left] == ["CUS-2"]
