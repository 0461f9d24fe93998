"""The service on PostgreSQL: the use cases as on SQLite, then the server itself -- several
uvicorn workers -- under parallel feed, feedback and ingest requests for the same customers:
nothing stored twice, every idempotent retry answered with the first answer, no 5xx."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tactful.decide.contact import ContactPolicy
from tactful.service.clock import Clock, moment
from tactful.service.customers import change_consent
from tactful.service.feed import feed, why
from tactful.service.ingest import ingest_events
from tactful.service.keys import create_key
from tactful.service.records import ConsentIn, EventIn, Scope
from tactful.store import schema
from tactful.store.store import Store

from .conftest import customers

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg(pg_bank_url: str) -> Iterator[Store]:
    store = Store.open(pg_bank_url)
    try:
        yield store
    finally:
        store.close()


def test_the_use_cases_on_postgresql(pg: Store) -> None:
    ids = customers(pg)
    answers = {c: feed(pg, customer_id=c, clock=Clock.DATA) for c in ids[:12]}
    offer = next(a for a in answers.values()
                 if a.message is not None and a.message.family == "product_offer")
    assert why(pg, decision_id=offer.decision_id).replays_identically
    change_consent(pg, customer_id=offer.customer_id,
                   change=ConsentIn(purpose="marketing", action="withdraw"))
    after = feed(pg, customer_id=offer.customer_id, clock=Clock.DATA)
    assert after.message is None or after.message.family != "product_offer"
    at = moment(pg, Clock.DATA)
    event = EventIn(customer_id=ids[-1], kind="login", occurred_at=at)
    assert ingest_events(pg, events=[event]).inserted == 1
    assert ingest_events(pg, events=[event]).duplicates == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(pg_bank_url: str, pg: Store, tmp_path_factory: pytest.TempPathFactory) -> (
    Iterator[str]
):
    """``tactful serve`` with two workers on the PostgreSQL bank."""
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "stderr.log"
    env = {**os.environ, "TACTFUL_API_RATE_PER_SECOND": "10000", "TACTFUL_API_BURST": "10000"}
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from tactful.cli.app import main; main()", "serve",
             "--port", str(port), "--workers", "2", "--clock", "data", "--db", pg_bank_url],
            env=env, stdout=subprocess.DEVNULL, stderr=err)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                raise AssertionError(log.read_text())
            time.sleep(0.1)
        else:
            raise AssertionError("the server did not become ready")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _count(store: Store, table: Any, *where: Any) -> int:
    return int(store.rows(select(func.count()).select_from(table).where(*where))[0][0])


def test_parallel_feed_feedback_and_ingest_store_nothing_twice(server: str, pg: Store) -> None:
    admin = create_key(pg, scope=Scope.ADMIN).token
    ingest = create_key(pg, scope=Scope.INGEST).token
    who = customers(pg)[12:15]
    at = moment(pg, Clock.DATA) - timedelta(days=1)
    a = schema.accounts
    account = {c: str(pg.rows(select(a.c.id).where(a.c.customer_id == c).limit(1))[0][0])
               for c in who}
    events_before = _count(pg, schema.events)
    tx_before = _count(pg, schema.transactions)

    def hit(n: int) -> list[tuple[str, int, Any]]:
        out: list[tuple[str, int, Any]] = []
        with httpx.Client(base_url=server, timeout=30) as client:
            for c in who:
                auth = {"Authorization": f"Bearer {admin}"}
                got = client.get(f"/v1/customers/{c}/feed", headers=auth)
                out.append(("feed", got.status_code, got.json()))
                if got.status_code == 200 and not got.json()["silent"]:
                    fb = client.post(f"/v1/customers/{c}/feedback", headers=auth, json={
                        "decision_id": got.json()["decision_id"], "kind": "impression"})
                    out.append(("feedback", fb.status_code, fb.json()))
                ing = {"Authorization": f"Bearer {ingest}"}
                ev = client.post("/v1/events/batch", headers=ing, json={"events": [
                    {"customer_id": c, "kind": "login",
                     "occurred_at": (at + timedelta(minutes=k)).isoformat()}
                    for k in range(5)]})
                out.append(("events", ev.status_code, ev.json()))
                tx = client.post("/v1/transactions", headers={**ing, "Idempotency-Key": c},
                                 json={"account_id": account[c], "booked_at": at.isoformat(),
                                       "amount_minor": -1234, "currency": "USD",
                                       "description": f"PARALLEL {c}"})
                out.append((f"tx:{c}", tx.status_code, tx.json()))
        return out

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = [r for part in pool.map(hit, range(6)) for r in part]
    statuses = {(kind.split(":")[0], status) for kind, status, _ in results}
    assert all(status == 200 for _, status in statuses), statuses
    assert _count(pg, schema.events) - events_before == (
        5 * len(who) + len({(r[2]["decision_id"]) for r in results if r[0] == "feedback"}))
    assert _count(pg, schema.transactions) - tx_before == len(who)
    for c in who:
        answers = [body for kind, _, body in results if kind == f"tx:{c}"]
        assert len(answers) == 6 and all(b == answers[0] for b in answers)
        assert answers[0]["inserted"] == 1
    inserted = sum(body["inserted"] for kind, _, body in results if kind == "events")
    assert inserted == 5 * len(who)  # every event stored by exactly one of the requests
    d = schema.decisions
    feeds = [body for kind, _, body in results if kind == "feed"]
    per_day = ContactPolicy().overall_per_day
    for c in who:  # every request is a decision of its own, and together they keep the caps
        assert _count(pg, d, d.c.customer_id == c, d.c.placement == "feed") == 6
        shown = [b for b in feeds if b["customer_id"] == c and not b["silent"]]
        assert len(shown) <= per_day
    assert sum(not b["silent"] for b in feeds) > 0  # the race was there to lose
