"""The worker end to end, on SQLite and PostgreSQL, against a real SMTP server and a real HTTP
receiver: what was decided arrives once on its channel, a consent withdrawn after the decision
stops its message, quiet hours wait, an outage is retried."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from tactful.deliver import outbox
from tactful.deliver.message import idempotency_key
from tactful.deliver.receiver import WebhookReceiver
from tactful.deliver.worker import Worker
from tactful.store import schema
from tactful.store.store import Store

from .conftest import NOW, Inbox, add_customer, add_decision, settings, withdraw


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def worker(store: Store, smtp: tuple[Inbox, int], receiver: WebhookReceiver,
           clock: Clock) -> Iterator[Worker]:
    _inbox, port = smtp
    w = Worker(store, settings(smtp_host="127.0.0.1", smtp_port=port,
                               webhook_url=receiver.url, max_attempts=4),
               clock=clock, rng=random.Random(3), name="test-worker")
    try:
        yield w
    finally:
        w.close()


def _states(store: Store) -> dict[str, str]:
    o = schema.outbox
    return {str(k): str(s) for k, s in store.rows(select(o.c.decision_id, o.c.state))}


def test_each_decision_arrives_once_on_its_channel(
        store: Store, worker: Worker, smtp: tuple[Inbox, int],
        receiver: WebhookReceiver) -> None:
    inbox, _ = smtp
    add_customer(store, "CUS-000001")
    feed = add_decision(store, "CUS-000001", channel="in_app")
    mail = add_decision(store, "CUS-000001", channel="email",
                        send_at=NOW - timedelta(minutes=1))
    push = add_decision(store, "CUS-000001", channel="push", send_at=NOW - timedelta(minutes=2))
    later = add_decision(store, "CUS-000001", channel="push", send_at=NOW + timedelta(hours=1))
    total = worker.drain()
    assert total.enqueued == 4 and total.states["sent"] == 3
    assert _states(store) == {feed: "sent", mail: "sent", push: "sent", later: "pending"}
    assert list(receiver.accepted) == [idempotency_key(push)]
    assert [m["Tactful-Idempotency-Key"] for m in inbox.messages] == [idempotency_key(mail)]
    f = schema.feed
    assert [r[0] for r in store.rows(select(f.c.idempotency_key))] == [idempotency_key(feed)]
    assert worker.drain().claimed == 0  # nothing is sent twice


def test_a_consent_withdrawn_after_the_decision_cancels_its_message(
        store: Store, worker: Worker, receiver: WebhookReceiver) -> None:
    add_customer(store, "CUS-000002")
    add_customer(store, "CUS-000003")
    stopped = add_decision(store, "CUS-000002", channel="push")
    kept = add_decision(store, "CUS-000003", channel="push")
    assert outbox.enqueue(store, now=NOW - timedelta(minutes=4)) == 2  # queued while granted
    withdraw(store, "CUS-000002", "personalization", NOW - timedelta(minutes=1))
    worker.drain()
    assert _states(store) == {stopped: "cancelled", kept: "sent"}
    assert list(receiver.accepted) == [idempotency_key(kept)]
    o = schema.outbox
    [why] = store.rows(select(o.c.last_error).where(o.c.decision_id == stopped))
    assert why[0] == "consent withdrawn: the customer no longer holds personalization"


def test_an_opted_out_channel_cancels_and_quiet_hours_wait(
        store: Store, worker: Worker, clock: Clock, receiver: WebhookReceiver) -> None:
    add_customer(store, "CUS-000004", channels="in_app", quiet=None)
    add_customer(store, "CUS-000005", quiet=("22:00", "07:00"))
    night = NOW.replace(hour=22)  # 23:00 in Paris
    clock.now = night
    dropped = add_decision(store, "CUS-000004", channel="push", send_at=night)
    waits = add_decision(store, "CUS-000005", channel="push", send_at=night)
    total = worker.drain()
    assert (total.deferred, total.states["cancelled"]) == (1, 1)
    assert _states(store) == {dropped: "cancelled", waits: "pending"}
    o = schema.outbox
    [(nxt, attempts)] = store.rows(select(o.c.next_attempt_at, o.c.attempts)
                                   .where(o.c.decision_id == waits))
    assert nxt.isoformat() == "2026-03-03T06:00:00+00:00" and attempts == 0  # 07:00 Paris
    clock.now = nxt
    worker.drain()
    assert _states(store)[waits] == "sent"
    assert list(receiver.accepted) == [idempotency_key(waits)]


def test_an_outage_is_retried_with_back_off_until_it_passes(
        store: Store, worker: Worker, clock: Clock, receiver: WebhookReceiver) -> None:
    add_customer(store, "CUS-000006")
    did = add_decision(store, "CUS-000006", channel="push")
    receiver.fail_next = 2
    worker.drain()
    o = schema.outbox
    waits = []
    for _ in range(2):
        [(state, nxt, error)] = store.rows(select(o.c.state, o.c.next_attempt_at,
                                                  o.c.last_error).where(o.c.decision_id == did))
        assert (state, error) == ("pending", "webhook answered HTTP 503")
        waits.append((nxt - clock.now).total_seconds())
        clock.now = nxt
        worker.drain()
    assert _states(store)[did] == "sent"
    assert 15 <= waits[0] <= 30 and 30 <= waits[1] <= 60
    assert receiver.raw == {idempotency_key(did): 1}


def test_a_misconfigured_channel_fails_its_batch_not_the_worker(store: Store,
                                                                 clock: Clock) -> None:
    add_customer(store, "CUS-000007")
    push = add_decision(store, "CUS-000007", channel="push")
    feed = add_decision(store, "CUS-000007", channel="in_app",
                        send_at=NOW - timedelta(minutes=1))
    w = Worker(store, settings(webhook_url=None), clock=clock, name="w")
    try:
        w.drain()
    finally:
        w.close()
    assert _states(store) == {push: "pending", feed: "sent"}
    o = schema.outbox
    [why] = store.rows(select(o.c.last_error).where(o.c.decision_id == push))
    assert str(why[0]).startswith("channel webhook: ConfigError: the webhook channel needs")


def test_an_erased_customer_is_not_contacted(store: Store, worker: Worker) -> None:
    add_customer(store, "CUS-000008")
    did = add_decision(store, "CUS-000008", channel="push")
    outbox.enqueue(store, now=NOW)
    with store.transaction() as conn:
        conn.execute(schema.customers.delete().where(schema.customers.c.id == "CUS-000008"))
    worker.drain()
    assert _states(store)[did] == "cancelled"


def test_recording_a_withdrawal_cancels_what_is_queued_at_once(store: Store) -> None:
    from tactful.domain.enums import ConsentPurpose, ConsentStatus
    from tactful.domain.records import Consent
    from tactful.trust import consent

    add_customer(store, "CUS-000009")
    needs = add_decision(store, "CUS-000009", channel="push")
    offer_free = add_decision(store, "CUS-000009", channel="in_app",
                              send_at=NOW - timedelta(minutes=1))
    outbox.enqueue(store, now=NOW)
    o = schema.outbox
    with store.transaction() as conn:  # a security message, which needs no consent
        conn.execute(update(o).where(o.c.decision_id == offer_free).values(consent_purpose=None))
    consent.record(store, Consent("CUS-000009", ConsentPurpose.PERSONALIZATION,
                                  ConsentStatus.WITHDRAWN, NOW, "app"))
    assert _states(store) == {needs: "cancelled", offer_free: "pending"}
