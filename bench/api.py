"""The REST API's speed, from another process over loopback with a real HTTP client.

A small simulated bank is built (simulate, ingest, enrich, insights), ``tactful serve`` is
started on it in a subprocess (uvicorn, the data's clock, no rate limit that would bind), and
this process drives it with httpx:

* the feed (``GET /v1/customers/{id}/feed``) at fixed rates (200 and 500 requests a second,
  open loop: each request leaves at its scheduled time whether or not the previous ones came
  back), p50 / p99 latency in ms measured from the scheduled time (so queueing counts), and
  the rate achieved;
* batch ingest (``POST /v1/events/batch``, 5,000 events a request, new events each time):
  events stored a second -- measured first, before the feed: a saturated server keeps working
  through the feed requests the client gave up on, and would slow whatever came next;
* the feed's capacity: a closed loop of two callers per worker, the rate the server sustains
  and the latency at it;
* the server's CPU time per feed request (all its processes, from ``/proc``): on a machine
  shared with other work the latencies say how busy it was, this says what a request costs;
* the baseline, in this process on the same store: ``service.feed.feed`` and
  ``service.ingest.ingest_events`` called directly -- what HTTP, the key check and the JSON cost
  on top is the ratio -- with its CPU time and the SQL statements it sends per feed request.

    python bench/api.py [--customers 60] [--seconds 8] [--workers 1] [--db postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, select

sys.path.insert(0, str(Path(__file__).parent))
from common import load, save

RATES = (200, 500)
BATCH = 5_000
TIMEOUT = 10.0


def build(url: str, customers: int, work: Path) -> None:
    from tactful.batch.enrich import run_enrich
    from tactful.batch.insights import run_insights
    from tactful.ingest.loader import Loader
    from tactful.simulate import SimulationConfig, simulate
    from tactful.store.store import Store

    exports = work / "exports"
    simulate(SimulationConfig(customers=customers, months=3, seed=11, start=date(2025, 1, 1)),
             exports, "parquet")
    store = Store.open(url)
    Loader(store, report_dir=work / "reports").ingest(
        [p for p in sorted(exports.iterdir()) if p.is_file()])
    run_enrich(store)
    run_insights(store)
    store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def drive(base: str, token: str, ids: list[str], rate: int, seconds: float) -> (
    dict[str, Any]
):
    """Open loop: request k leaves at start + k / rate; one not answered within ``TIMEOUT``
    seconds of leaving counts as failed (a saturated server is not waited for forever)."""
    n = int(rate * seconds)
    latencies: list[float] = []
    failed = 0
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=TIMEOUT,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        start = time.perf_counter() + 0.2

        async def one(k: int) -> None:
            nonlocal failed
            due = start + k / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                r = await client.get(f"/v1/customers/{ids[k % len(ids)]}/feed")
            except httpx.HTTPError:
                failed += 1
                return
            if r.status_code != 200:
                failed += 1
                return
            latencies.append((time.perf_counter() - due) * 1000)

        await asyncio.gather(*(one(k) for k in range(n)))
        elapsed = time.perf_counter() - start
    done = len(latencies)
    return {"target_rps": rate, "requests": n, "answered": done, "failed": failed,
            "achieved_rps": round(done / elapsed, 1),
            "p50_ms": round(percentile(latencies, 0.5), 1) if done else None,
            "p99_ms": round(percentile(latencies, 0.99), 1) if done else None}


async def capacity(base: str, token: str, ids: list[str], clients: int, seconds: float) -> (
    dict[str, Any]
):
    """Closed loop: ``clients`` callers each sending the next request when the last came back;
    the rate the server sustains, and the latency at that rate."""
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=60,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        end = time.perf_counter() + seconds

        async def caller(k: int) -> None:
            n = k
            while time.perf_counter() < end:
                t = time.perf_counter()
                r = await client.get(f"/v1/customers/{ids[n % len(ids)]}/feed")
                if r.status_code == 200:
                    latencies.append((time.perf_counter() - t) * 1000)
                n += clients

        start = time.perf_counter()
        await asyncio.gather(*(caller(k) for k in range(clients)))
        elapsed = time.perf_counter() - start
    return {"target_rps": f"closed loop, {clients} clients", "requests": len(latencies),
            "answered": len(latencies), "failed": 0,
            "achieved_rps": round(len(latencies) / elapsed, 1),
            "p50_ms": round(percentile(latencies, 0.5), 1),
            "p99_ms": round(percentile(latencies, 0.99), 1)}


def server_cpu_s(pid: int) -> float | None:
    """CPU seconds used so far by the server's processes (its session: uvicorn and workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return None
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == pid:  # the session id: the server leads its own session
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def drain(base: str, token: str, customer: str, *, limit_s: float = 90.0) -> None:
    """Wait until the server has worked through the requests the client gave up on: a cheap
    call (preferences, on the same thread pool as the feed) answers quickly again."""
    deadline = time.perf_counter() + limit_s
    with httpx.Client(base_url=base, timeout=limit_s,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            client.get(f"/v1/customers/{customer}/preferences")
            if time.perf_counter() - t < 0.2:
                return
            time.sleep(0.5)


def events(customers: list[str], n: int, offset: int) -> list[dict[str, Any]]:
    at = datetime(2025, 3, 1, tzinfo=UTC)
    return [{"event_id": f"bench-{offset + k}", "customer_id": customers[k % len(customers)],
             "kind": "page_view", "occurred_at": (at + timedelta(seconds=offset + k)).isoformat(),
             "feature": "home"} for k in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--db", default=None, help="a PostgreSQL URL (default: a SQLite file)")
    args = parser.parse_args()

    from tactful.service.clock import Clock
    from tactful.service.context import open_store
    from tactful.service.feed import feed
    from tactful.service.ingest import ingest_events
    from tactful.service.keys import create_key
    from tactful.service.records import EventIn, Scope
    from tactful.store import schema

    work = Path(tempfile.mkdtemp(prefix="tactful-bench-api-"))
    url = args.db or f"sqlite:///{work / 'bank.db'}"
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    build(url, args.customers, work)
    store = open_store(url)
    ids = sorted(str(r[0]) for r in store.rows(select(schema.customers.c.id)))
    admin = create_key(store, scope=Scope.ADMIN).token
    ingest = create_key(store, scope=Scope.INGEST).token

    # the baseline: the same use cases in this process, no HTTP
    for cid in ids:  # warmed as the server is: every customer once
        feed(store, customer_id=cid, clock=Clock.DATA)
    direct = []
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    event.listen(store.engine, "before_cursor_execute", count)
    cpu = time.process_time()
    for k in range(60):
        t = time.perf_counter()
        feed(store, customer_id=ids[k % len(ids)], clock=Clock.DATA)
        direct.append((time.perf_counter() - t) * 1000)
    direct_cpu_ms = (time.process_time() - cpu) * 1000 / 60
    event.remove(store.engine, "before_cursor_execute", count)
    direct_statements = statements[0] / 60
    batch = [EventIn.model_validate(e) for e in events(ids, BATCH, 10_000_000)]
    t = time.perf_counter()
    stored = ingest_events(store, events=batch).inserted
    direct_eps = stored / (time.perf_counter() - t)

    port = free_port()
    env = {**os.environ, "TACTFUL_API_RATE_PER_SECOND": "1000000", "TACTFUL_API_BURST": "1000000",
           "TACTFUL_API_MAX_BODY_BYTES": str(8 * 1024 * 1024)}
    with (work / "serve.log").open("wb") as log:
        server = subprocess.Popen(  # noqa: S603 -- our own command line
            [sys.executable, "-c", "from tactful.cli.app import main; main()", "serve",
             "--port", str(port), "--workers", str(args.workers), "--clock", "data",
             "--db", url], env=env, stdout=subprocess.DEVNULL, stderr=log,
            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    rows: list[dict[str, Any]] = []
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin}"}) as c:
            for cid in ids:  # warm every worker's caches
                c.get(f"/v1/customers/{cid}/feed")
        inserted = 0
        with httpx.Client(base_url=base, timeout=120,
                          headers={"Authorization": f"Bearer {ingest}"}) as c:
            t = time.perf_counter()
            for b in range(args.batches):
                r = c.post("/v1/events/batch", json={"events": events(ids, BATCH, b * BATCH)})
                r.raise_for_status()
                inserted += int(r.json()["inserted"])
            seconds = time.perf_counter() - t
        eps = inserted / seconds
        rows.append({"what": "batch ingest (events/s)", "backend": backend,
                     "workers": args.workers, "events": inserted,
                     "events_per_s": round(eps), "in_process_events_per_s": round(direct_eps),
                     "ratio": round(eps / direct_eps, 2), "load": load()})
        print(f"batch ingest over HTTP: {eps:,.0f} events/s ({inserted:,} events in "
              f"{args.batches} batches of {BATCH:,}); in process {direct_eps:,.0f} events/s "
              f"(ratio {eps / direct_eps:.2f})", flush=True)
        for rate in (None, *RATES):
            drain(base, admin, ids[0])
            cpu_before = server_cpu_s(server.pid)
            result = asyncio.run(
                capacity(base, admin, ids, 2 * args.workers, args.seconds) if rate is None
                else drive(base, admin, ids, rate, args.seconds))
            cpu_after = server_cpu_s(server.pid)
            cpu_ms = (round((cpu_after - cpu_before) * 1000 / result["answered"], 2)
                      if cpu_before is not None and cpu_after is not None and result["answered"]
                      else None)
            row = {"what": "feed", "backend": backend, "workers": args.workers, **result,
                   "server_cpu_ms_per_request": cpu_ms,
                   "in_process_p50_ms": round(statistics.median(direct), 1),
                   "in_process_p99_ms": round(percentile(direct, 0.99), 1),
                   "in_process_cpu_ms_per_request": round(direct_cpu_ms, 2),
                   "in_process_statements_per_request": round(direct_statements, 1),
                   "load": load()}
            rows.append(row)
            print(f"feed at {result['target_rps']} req/s ({backend}, {args.workers} worker(s)): "
                  f"{result['achieved_rps']} req/s achieved, p50 {result['p50_ms']} ms, "
                  f"p99 {result['p99_ms']} ms, {result['failed']} failed, server CPU "
                  f"{cpu_ms} ms/request; in process "
                  f"p50 {row['in_process_p50_ms']} ms, p99 {row['in_process_p99_ms']} ms, "
                  f"CPU {row['in_process_cpu_ms_per_request']} ms/request, "
                  f"{row['in_process_statements_per_request']} SQL statements/request",
                  flush=True)
    finally:
        # a saturated server drains its backlog before a graceful stop: do not wait for it
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        store.close()
    save(f"api_{backend}", rows)


if __name__ == "__main__":
    main()
