"""The outbox's speed: messages per second from the store to a signed-webhook receiver.

The receiver is the reference one (``tactful.deliver.receiver``: verifies each signature,
deduplicates by idempotency key) in a process of its own, as a bank's endpoint would be. On the
same machine, in one run, with the same number of due messages in a fresh SQLite store each:

* ``outbox``: ``Worker.drain`` (one worker process, then ``--processes`` of them on one
  outbox, their claims disjoint) -- claim a batch under a lease, the send-time checks (consent,
  opt-outs, quiet hours), the batch POSTed over a pool of kept-alive connections, the results
  recorded in one transaction per batch;
* ``naive``: what an outbox is usually first written as -- for each message, read it, open a
  connection, POST it signed, record it in a transaction of its own; no checks, no batching.

The figure the target is for (issue 20: >= 1,000 messages/s) is ``outbox``'s. The receiver's
own counts are read back so a figure never counts a message that did not arrive.

    python bench/deliver.py [--messages 5000] [--batch 500] [--concurrency 8] [--processes 2]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select, update

sys.path.insert(0, str(Path(__file__).parent))
from common import load, save

from tactful.deliver import outbox
from tactful.deliver.channels.webhook import payload
from tactful.deliver.message import OutboundMessage, idempotency_key
from tactful.deliver.settings import DeliverySettings
from tactful.deliver.signature import headers
from tactful.deliver.worker import Worker
from tactful.store import schema
from tactful.store.store import Store

SECRET = "bench-secret-" + "b" * 40
CUSTOMERS = 500


def fill(url: str, n: int, tag: str) -> Store:
    store = Store.open(url)
    now = datetime.now(UTC)
    with store.transaction() as conn:
        conn.execute(insert(schema.customers), [
            {"id": f"CUS-{c:06d}", "region": "EU", "locale": "en_GB", "timezone": "UTC",
             "channel_preferences": "in_app|push"} for c in range(CUSTOMERS)])
        conn.execute(insert(schema.consents), [
            {"customer_id": f"CUS-{c:06d}", "purpose": "personalization", "status": "granted",
             "at": now - timedelta(days=1), "source": "bench"} for c in range(CUSTOMERS)])
    outbox.add(store, [{
        "idempotency_key": idempotency_key(f"{tag}-{i}"), "decision_id": f"{tag}-{i}",
        "customer_id": f"CUS-{i % CUSTOMERS:06d}", "action_id": "upcoming_bill",
        "channel": "push", "adapter": "webhook", "consent_purpose": "personalization",
        "cap_exempt": False, "language": "en", "locale": "en_GB",
        "title": "Rent due in 3 days",
        "body": "Your rent of about £900 to Acme Lettings is due on 5 March.",
        "call_to_action": "See upcoming bills",
        "explanation": "Because you pay Acme Lettings every month.",
        "send_at": now - timedelta(minutes=1), "state": "pending", "attempts": 0,
        "next_attempt_at": now - timedelta(minutes=1), "created_at": now, "updated_at": now,
    } for i in range(n)])
    return store


def naive(store: Store, url: str) -> int:
    """One message at a time: read it, a new connection, POST, record."""
    client = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0))  # no reuse
    o = schema.outbox
    keys = [str(r[0]) for r in store.rows(select(o.c.idempotency_key).where(
        o.c.state == "pending"))]
    sent = 0
    for key in keys:
        r = store.rows(select(o).where(o.c.idempotency_key == key))[0]
        m = OutboundMessage(r.idempotency_key, r.decision_id, r.customer_id, r.action_id,
                            r.channel, r.language, r.locale, r.title, r.body,
                            r.call_to_action, r.explanation, r.send_at, r.attempts + 1)
        body = payload(m)
        response = client.post(url, content=body, headers=headers(SECRET.encode(), key, body))
        if response.is_success:
            with store.transaction() as conn:
                conn.execute(update(o).where(o.c.idempotency_key == key).values(
                    state="sent", sent_at=datetime.now(UTC), attempts=o.c.attempts + 1))
            sent += 1
    client.close()
    return sent


def _drain_one(url: str, db: str, args: argparse.Namespace, start: Any) -> tuple[int, float]:
    worker = Worker(Store.open(db), DeliverySettings(
        webhook_url=url, webhook_secret=SECRET, batch=args.batch,
        concurrency=args.concurrency))
    worker.adapter("webhook")  # its connection pool is start-up, not throughput
    start.wait()
    cpu = time.process_time()
    total = worker.drain()
    cpu = time.process_time() - cpu
    worker.close()
    return total.states["sent"], cpu


def _child(url: str, db: str, args: argparse.Namespace, start: Any, out: Any) -> None:
    out.put(_drain_one(url, db, args, start))


def drain(store: Store, url: str, args: argparse.Namespace, processes: int) -> (
    tuple[float, int, float]
):
    """Seconds, messages sent and worker CPU seconds of ``processes`` workers draining the
    outbox of ``store`` at once (their claims are disjoint)."""
    ctx = multiprocessing.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    children = [ctx.Process(target=_child, args=(url, store.url, args, start, out))
                for _ in range(processes)]
    for child in children:
        child.start()
    time.sleep(2.0)  # every worker built and connected before the clock starts
    started = time.perf_counter()
    start.set()
    results = [out.get() for _ in children]
    seconds = time.perf_counter() - started
    for child in children:
        child.join()
    return seconds, sum(r[0] for r in results), sum(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--naive-messages", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--receiver", choices=["asyncio", "threads"], default="asyncio")
    parser.add_argument("--processes", type=int, default=2,
                        help="also run this many worker processes on one outbox")
    args = parser.parse_args()
    receiver = subprocess.Popen(  # noqa: S603 -- our own module, a choice of two engines
        [sys.executable, "-m", "tactful.deliver.receiver", "--engine", args.receiver],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True,
        env={**os.environ, "TACTFUL_DELIVER_WEBHOOK_SECRET": SECRET})
    assert receiver.stdout is not None and receiver.stdin is not None  # noqa: S101
    url = json.loads(receiver.stdout.readline())["url"]
    rows: list[dict[str, object]] = []
    expected = args.naive_messages
    with tempfile.TemporaryDirectory() as tmp:
        for processes in sorted({1, args.processes}):
            tag = f"o{processes}"
            store = fill(f"sqlite:///{tmp}/outbox-{processes}.db", args.messages, tag)
            seconds, sent, cpu = drain(store, url, args, processes)
            assert outbox.counts(store)["sent"] == args.messages == sent  # noqa: S101
            store.close()
            expected += args.messages
            rows.append({"method": f"outbox (Worker.drain, {processes} process"
                                   f"{'es' if processes > 1 else ''})",
                         "messages": args.messages, "batch": args.batch,
                         "concurrency": args.concurrency, "seconds": round(seconds, 2),
                         "messages_per_s": round(sent / seconds),
                         "worker_cpu_ms_per_message": round(1000 * cpu / args.messages, 3),
                         "load": load()})
            print(rows[-1], flush=True)
        store = fill(f"sqlite:///{tmp}/naive.db", args.naive_messages, "n")
        started, cpu = time.perf_counter(), time.process_time()
        sent = naive(store, url)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        store.close()
        rows.append({"method": "naive (a connection and a transaction per message)",
                     "messages": args.naive_messages, "batch": 1, "concurrency": 1,
                     "seconds": round(seconds, 2), "messages_per_s": round(sent / seconds),
                     "worker_cpu_ms_per_message": round(1000 * cpu / args.naive_messages, 3),
                     "load": load()})
        print(rows[-1], flush=True)
    receiver.stdin.close()
    counts = json.loads(receiver.stdout.readline())
    receiver.wait(timeout=30)
    assert counts["keys"] == expected and counts["rejected"] == 0, counts  # noqa: S101
    ratio = float(rows[0]["messages_per_s"]) / float(rows[-1]["messages_per_s"])  # type: ignore[arg-type]
    rows[0]["x_naive"] = round(ratio, 1)
    rows[0]["receiver_cpu_ms_per_request"] = round(1000 * counts["cpu_s"] / counts["raw"], 3)
    print(f"outbox {rows[0]['messages_per_s']:,} messages/s, naive "
          f"{rows[-1]['messages_per_s']:,} messages/s: x{ratio:.1f}; the receiver verified "
          f"{counts['raw']:,} requests, {counts['keys']:,} distinct keys, "
          f"{rows[0]['receiver_cpu_ms_per_request']} ms of its CPU each")
    print(f"written {save('deliver', rows)}")


if __name__ == "__main__":
    main()
