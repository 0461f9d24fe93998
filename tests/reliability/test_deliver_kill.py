"""The delivery kill test, on SQLite and PostgreSQL: ``tactful deliver --once`` killed with
SIGKILL at random (seeded) points, again and again, over an outbox of signed webhook messages,
then run to completion. The receiver deduplicates by idempotency key and counts every raw
delivery. At the end every message reached the receiver (0 lost), the receiver acted on each
key exactly once (0 duplicated effects) and the store shows every message sent.

A worker killed between sending and recording leaves its claim to expire and the message to be
sent again: the raw deliveries beyond one per key are those kills, which is what makes the
test mean something (it asserts some happened). ``SOAK_KILLS`` (default 20) kills per store;
``make soak`` runs 200.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from tactful.deliver import outbox
from tactful.deliver.message import idempotency_key
from tactful.deliver.receiver import WebhookReceiver
from tactful.store import schema
from tactful.store.store import Store

from .test_kill_and_concurrency import Zygote, _exited

pytestmark = pytest.mark.reliability

KILLS = int(os.environ.get("SOAK_KILLS", "20"))
SEED = int(os.environ.get("SOAK_SEED", "14"))
SECRET = "kill-test-secret-" + "x" * 32
LEASE_S = 0.5
BATCH = 8
CUSTOMERS = 20


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver(SECRET.encode()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def zygote(tmp_path: Path, receiver: WebhookReceiver,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[Zygote]:
    monkeypatch.setenv("TACTFUL_DELIVER_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("TACTFUL_DELIVER_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("TACTFUL_DELIVER_CONCURRENCY", "4")
    z = Zygote(tmp_path)
    try:
        yield z
    finally:
        z.close()


def _fill(url: str, n: int) -> list[str]:
    """``n`` due webhook messages to ``CUSTOMERS`` consenting customers; their keys."""
    now = datetime.now(UTC)
    store = Store.open(url)
    try:
        with store.transaction() as conn:
            for c in range(CUSTOMERS):
                cid = f"CUS-{c:06d}"
                conn.execute(insert(schema.customers).values(
                    id=cid, region="EU", locale="en_GB", timezone="UTC",
                    channel_preferences="in_app|push"))
                conn.execute(insert(schema.consents).values(
                    customer_id=cid, purpose="personalization", status="granted",
                    at=now - timedelta(days=1), source="test"))
        rows = []
        for i in range(n):
            did = f"decision-{i:06d}"
            rows.append({
                "idempotency_key": idempotency_key(did), "decision_id": did,
                "customer_id": f"CUS-{i % CUSTOMERS:06d}", "action_id": "upcoming_bill",
                "channel": "push", "adapter": "webhook", "consent_purpose": "personalization",
                "cap_exempt": False, "language": "en", "locale": "en_GB",
                "title": f"Message {i}", "body": "Your rent is due.", "call_to_action": "See",
                "explanation": "Because.", "send_at": now - timedelta(minutes=1),
                "state": "pending", "attempts": 0, "next_attempt_at": now - timedelta(minutes=1),
                "created_at": now, "updated_at": now})
        assert outbox.add(store, rows) == n
        return [str(r["idempotency_key"]) for r in rows]
    finally:
        store.close()


def _counts(url: str) -> dict[str, int]:
    store = Store.open(url)
    try:
        return outbox.counts(store)
    finally:
        store.close()


def _until(store: Store, pid: int, *states: str, timeout: float = 30.0) -> None:
    """Until worker ``pid`` (its name holds its pid) has a message in one of ``states``, or
    has exited."""
    o = schema.outbox
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if store.rows(select(o.c.idempotency_key).where(
                o.c.claimed_by.like(f"%:{pid}:%"), o.c.state.in_(states)).limit(1)):
            return
        if _exited(pid):
            return
        time.sleep(0.005)
    raise AssertionError(f"worker {pid} reached none of {states} in {timeout} s")


def test_kill_9_of_the_worker_loses_nothing_and_duplicates_no_effect(
        store_url: str, zygote: Zygote, receiver: WebhookReceiver,
        request: pytest.FixtureRequest) -> None:
    # Enough messages that no worker drains the outbox before its kill lands: the outbox sends
    # ~1,800 a second on an idle machine, so a small one is gone within the first random sleep
    # and the worker exits before the signal (the soak of 200 kills sent ~2,700 before the end).
    n = max(10_200, 200 + KILLS * 50)
    keys = _fill(store_url, n)
    argv = ["deliver", "--once", "--db", store_url, "--batch", str(BATCH),
            "--lease", str(LEASE_S)]
    rng = random.Random(f"{SEED}-deliver-{store_url.split(':')[0]}")
    watch = Store.open(store_url)
    request.addfinalizer(watch.close)
    kills = runs = 0
    while kills < KILLS:
        runs += 1
        assert runs <= 3 * KILLS + 10, f"only {kills} of {runs} kills landed"
        pid = zygote.spawn(*argv)
        where = rng.random()
        if where < 0.2:  # anywhere, start-up included
            time.sleep(rng.uniform(0.0, 1.0))
        elif where < 0.5:  # in its first round: claiming, sending, recording
            _until(watch, pid, "sending", "sent")
            time.sleep(rng.uniform(0.0, 0.3))
        else:  # in its stride, rounds after the first
            _until(watch, pid, "sent")
            time.sleep(rng.uniform(0.0, 0.2))
        os.kill(pid, signal.SIGKILL)
        status = zygote.wait(pid)
        if status == -signal.SIGKILL:
            kills += 1
        else:
            assert status == 0, zygote.log.read_text()[-3000:]
    before_final = _counts(store_url)
    for _ in range(10):  # the claims of the last killed runs expire, then a clean run drains
        time.sleep(LEASE_S * 1.2)
        status, _ = zygote.run(*argv)
        assert status == 0, zygote.log.read_text()[-3000:]
        if _counts(store_url)["sent"] == n:
            break
    counts = _counts(store_url)
    raw = sum(receiver.raw.values())
    resent = raw - len(receiver.accepted)
    print(f"\n[deliver kill test, {store_url.split(':')[0]}] {kills} kills over {runs} runs, "
          f"{n} messages: {n - len(set(keys) & set(receiver.accepted))} lost, "
          f"{sum(c - 1 for c in receiver.accepted.values())} duplicated effects, "
          f"{raw} raw deliveries ({resent} re-sent after a kill), "
          f"{before_final['sent']} sent before the final run, store {counts}")
    assert set(receiver.accepted) == set(keys)  # 0 lost
    assert set(receiver.accepted.values()) == {1}  # 0 duplicated effects
    assert receiver.rejected == []
    assert counts == {"pending": 0, "sending": 0, "sent": n, "failed": 0, "cancelled": 0}
    assert before_final["sent"] > 0  # the killed runs did send
    assert resent > 0  # and some kills landed between sending and recording
