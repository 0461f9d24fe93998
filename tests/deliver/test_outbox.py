"""The outbox on SQLite and PostgreSQL: decisions become one message each, claims honour the
send time and never overlap, failures back off and give up, a dead worker's claim expires."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from tactful.deliver import outbox
from tactful.deliver.message import MessageState, SendResult, idempotency_key
from tactful.store import schema
from tactful.store.store import Store

from .conftest import NOW, add_customer, add_decision, add_insight


def _row(store: Store, key: str) -> dict[str, object]:
    o = schema.outbox
    return dict(store.rows(select(o).where(o.c.idempotency_key == key))[0]._mapping)


def test_every_decision_to_send_becomes_one_message_and_enqueueing_again_adds_nothing(
        store: Store) -> None:
    add_customer(store, "C-0001")
    add_insight(store, "ins-1", "C-0001")
    sent = add_decision(store, "C-0001", channel="push", insight_ids=("ins-1",))
    add_decision(store, "C-0001", channel="push", at=NOW - timedelta(hours=2), silent=True)
    assert outbox.enqueue(store, now=NOW) == 1
    assert outbox.enqueue(store, now=NOW) == 0
    row = _row(store, idempotency_key(sent))
    assert row["decision_id"] == sent
    assert row["state"] == "pending" and row["attempts"] == 0
    assert row["adapter"] == "webhook"  # push goes to the bank's provider
    assert row["title"] == "Rent due in 3 days"
    assert row["consent_purpose"] == "personalization"
    assert row["next_attempt_at"] == row["send_at"] == NOW


def test_enqueue_reads_only_the_decisions_it_has_not_looked_at(store: Store) -> None:
    """Every decision looked at is stamped, silent ones too, and leaves the partial index; a
    stamped decision whose message vanished is not looked at again (the round is incremental),
    while a re-decision (stamp cleared) is, and adds nothing over its existing message."""
    add_customer(store, "C-0001")
    sent = add_decision(store, "C-0001", channel="push")
    silent = add_decision(store, "C-0001", channel="push", at=NOW - timedelta(hours=2),
                          silent=True)
    assert outbox.enqueue(store, now=NOW) == 1
    d = schema.decisions
    rows = store.rows(select(d.c.decision_id, d.c.outboxed_at))
    stamps = {r.decision_id: r.outboxed_at for r in rows}
    assert stamps == {sent: NOW, silent: NOW}
    with store.transaction() as conn:  # the message goes: a full scan would add it again
        conn.execute(schema.outbox.delete())
    assert outbox.enqueue(store, now=NOW) == 0
    with store.transaction() as conn:
        conn.execute(d.update().where(d.c.decision_id == sent).values(outboxed_at=None))
    assert outbox.enqueue(store, now=NOW) == 1
    assert outbox.enqueue(store, now=NOW) == 0
    if store.dialect == "sqlite":
        with store.transaction() as conn:
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT decision_id FROM decisions "
                "WHERE outboxed_at IS NULL ORDER BY send_at, decision_id LIMIT 10"))
        assert "ix_decisions_not_outboxed" in plan


def test_an_offer_is_written_from_the_product_in_the_customers_language(store: Store) -> None:
    add_customer(store, "C-0002", locale="de_DE")
    with store.transaction() as conn:
        conn.execute(insert(schema.products).values(id="P-SAV-HY", name="Tagesgeld Plus",
                                                    kind="savings", account_type="savings"))
    did = add_decision(store, "C-0002", channel="email", action_id="offer_savings.P-SAV-HY",
                       product_id="P-SAV-HY")
    assert outbox.enqueue(store, now=NOW) == 1
    row = _row(store, idempotency_key(did))
    assert row["language"] == "de"
    assert row["title"] == "Lassen Sie Ihr Geld arbeiten: Tagesgeld Plus"
    assert row["consent_purpose"] == "marketing"


def test_a_claim_honours_the_send_time_and_two_claims_never_share_a_message(
        store: Store) -> None:
    add_customer(store, "C-0003")
    later = add_decision(store, "C-0003", channel="in_app", send_at=NOW + timedelta(hours=1))
    for n in range(5):
        add_decision(store, "C-0003", channel="in_app", send_at=NOW - timedelta(minutes=n))
    outbox.enqueue(store, now=NOW)
    lease = timedelta(hours=2)
    first = outbox.claim(store, worker="w1", batch=3, lease=lease, now=NOW)
    second = outbox.claim(store, worker="w2", batch=10, lease=lease, now=NOW)
    keys1 = {c.message.idempotency_key for c in first}
    keys2 = {c.message.idempotency_key for c in second}
    assert (len(keys1), len(keys2), keys1 & keys2) == (3, 2, set())
    assert idempotency_key(later) not in keys1 | keys2
    assert all(c.message.attempt == 1 for c in first + second)
    assert outbox.counts(store)["sending"] == 5
    due = outbox.claim(store, worker="w3", batch=10, lease=timedelta(minutes=1),
                       now=NOW + timedelta(hours=1))
    assert [c.message.idempotency_key for c in due] == [idempotency_key(later)]


def test_a_dead_workers_claim_is_taken_over_when_its_lease_runs_out(store: Store) -> None:
    add_customer(store, "C-0004")
    add_decision(store, "C-0004", channel="in_app")
    outbox.enqueue(store, now=NOW)
    assert len(outbox.claim(store, worker="dead", batch=5, lease=timedelta(seconds=30),
                            now=NOW)) == 1
    assert outbox.claim(store, worker="w2", batch=5, lease=timedelta(seconds=30),
                        now=NOW + timedelta(seconds=29)) == []
    again = outbox.claim(store, worker="w2", batch=5, lease=timedelta(seconds=30),
                         now=NOW + timedelta(seconds=31))
    assert [c.message.attempt for c in again] == [2]


def test_failures_back_off_exponentially_then_give_up(store: Store) -> None:
    add_customer(store, "CUS-000005")
    add_decision(store, "CUS-000005", channel="push")
    outbox.enqueue(store, now=NOW)
    now = NOW
    waits = []
    rng = random.Random(1)
    for attempt in (1, 2, 3):
        claimed = outbox.claim(store, worker="w", batch=5, lease=timedelta(minutes=1), now=now)
        assert [c.message.attempt for c in claimed] == [attempt]
        key = claimed[0].message.idempotency_key
        outbox.record(store, claimed, [SendResult.failed(
            key, "webhook answered HTTP 503 for CUS-000005", retryable=True)], worker="w",
            max_attempts=3, backoff_base=timedelta(seconds=30),
            backoff_cap=timedelta(minutes=10), now=now, rng=rng)
        row = _row(store, key)
        if attempt < 3:
            assert row["state"] == "pending"
            wait = row["next_attempt_at"] - now  # type: ignore[operator]
            waits.append(wait.total_seconds())
            assert outbox.claim(store, worker="w", batch=5, lease=timedelta(minutes=1),
                                now=now + wait - timedelta(seconds=1)) == []
            now = now + wait
    assert row["state"] == "failed"
    assert row["last_error"] == "webhook answered HTTP 503 for …0005"  # masked
    assert 15 <= waits[0] <= 30 and 30 <= waits[1] <= 60


def test_a_permanent_failure_fails_at_once_and_sent_is_final(store: Store) -> None:
    add_customer(store, "C-0006")
    a = add_decision(store, "C-0006", channel="push")
    b = add_decision(store, "C-0006", channel="push", send_at=NOW - timedelta(minutes=1))
    outbox.enqueue(store, now=NOW)
    claimed = outbox.claim(store, worker="w", batch=5, lease=timedelta(minutes=1), now=NOW)
    outbox.record(store, claimed, [
        SendResult.failed(idempotency_key(a), "webhook answered HTTP 400", retryable=False),
        SendResult.sent(idempotency_key(b))], worker="w", max_attempts=5,
        backoff_base=timedelta(seconds=1), backoff_cap=timedelta(seconds=2), now=NOW)
    assert _row(store, idempotency_key(a))["state"] == "failed"
    assert _row(store, idempotency_key(b))["state"] == "sent"
    assert outbox.cancel(store, {idempotency_key(b): "too late"}, now=NOW) == 0
    assert outbox.counts(store) == {"pending": 0, "sending": 0, "sent": 1, "failed": 1,
                                    "cancelled": 0}


@pytest.mark.parametrize("state", list(MessageState))
def test_final_states_are_exactly_sent_failed_cancelled(state: MessageState) -> None:
    assert state.final == (state.value in {"sent", "failed", "cancelled"})


def test_workers_claiming_at_once_share_nothing_and_miss_nothing(store_url: str) -> None:
    import threading

    setup = Store.open(store_url)
    try:
        add_customer(setup, "C-0010")
        rows = []
        for i in range(120):
            did = f"dec-{i:04d}"
            rows.append({
                "idempotency_key": idempotency_key(did), "decision_id": did,
                "customer_id": "C-0010", "action_id": "upcoming_bill", "channel": "push",
                "adapter": "webhook", "language": "en", "locale": "en", "title": "t",
                "body": "b", "call_to_action": "c", "explanation": "e", "send_at": NOW,
                "state": "pending", "attempts": 0, "next_attempt_at": NOW, "created_at": NOW,
                "updated_at": NOW})
        assert outbox.add(setup, rows) == 120
        assert outbox.add(setup, rows[:10]) == 0
    finally:
        setup.close()
    got: dict[str, list[str]] = {}
    barrier = threading.Barrier(4)

    def work(name: str) -> None:
        own = Store.open(store_url)
        try:
            barrier.wait()
            mine: list[str] = []
            while batch := outbox.claim(own, worker=name, batch=7, lease=timedelta(hours=1),
                                        now=NOW):
                mine += [c.message.idempotency_key for c in batch]
            got[name] = mine
        finally:
            own.close()

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [k for keys in got.values() for k in keys]
    assert len(claimed) == len(set(claimed)) == 120


def test_a_decision_with_nothing_left_to_say_is_enqueued_cancelled(store: Store) -> None:
    add_customer(store, "C-0011")
    did = add_decision(store, "C-0011", channel="email", action_id="offer_loan.P-GONE",
                       product_id="P-GONE")
    assert outbox.enqueue(store, now=NOW) == 1
    row = _row(store, idempotency_key(did))
    assert row["state"] == "cancelled"
    assert row["last_error"] == ("nothing to say: the message's insight or product is no "
                                 "longer in the store")
    assert outbox.claim(store, worker="w", batch=5, lease=timedelta(minutes=1), now=NOW) == []


def test_a_sent_message_is_delivered_once_in_the_outcomes_and_a_failure_not_at_all(
    store: Store,
) -> None:
    """The outcome is written with the state change: recording the same answer again (a worker
    that lost its claim, a retry after a crash) adds no second delivery."""
    add_customer(store, "C-0007")
    a = add_decision(store, "C-0007", channel="push")
    b = add_decision(store, "C-0007", channel="push", send_at=NOW - timedelta(minutes=1))
    outbox.enqueue(store, now=NOW)
    claimed = outbox.claim(store, worker="w", batch=5, lease=timedelta(minutes=1), now=NOW)
    answers = [SendResult.failed(idempotency_key(a), "webhook answered HTTP 400",
                                 retryable=False), SendResult.sent(idempotency_key(b))]
    for when in (NOW, NOW + timedelta(seconds=5)):
        outbox.record(store, claimed, answers, worker="w", max_attempts=5,
                      backoff_base=timedelta(seconds=1), backoff_cap=timedelta(seconds=2),
                      now=when)
    t = schema.outcomes
    rows = store.rows(select(t.c.decision_id, t.c.message_id, t.c.kind, t.c.source))
    assert [tuple(r) for r in rows] == [(b, idempotency_key(b), "delivered", "deliver")]
