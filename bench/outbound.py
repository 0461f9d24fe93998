"""The outbound batch's speed: ``decide --all --placement outbound`` over a whole bank.

Measured in one process, on copies of the same SQLite store (a run logs its decisions, which
the next run would read as contact history, so each run starts from the same file):
* the batch (``decide_all``): shards of customers, each shard's inputs read at once (consent,
  rhythm, live insights, rule features, contact history, money events), every customer decided,
  the shard's decisions logged in one transaction -- customers/s and the seconds for the bank,
  with where the time goes (the bandit's evidence, the shards' reads, the policy, the log);
* the same batch with the rule features computed shard by shard (the ``rule_features`` table
  the nightly insight run writes emptied, as if that run had not happened: the batch's own
  fallback, and what every batch did before the table existed) -- the same decisions;
* the naive way beside it: ``decide_customer`` one customer at a time (its own reads, its own
  evidence, its own transaction), on a sample, extrapolated to the bank.
Target (issue 18): 100,000 customers in under 60 s on the 2-core machine.

The store is built once with the product's own commands (``tactful simulate``, ``ingest``,
``run``: enrichment, the insight catalog and the stored rule features) and cached in
``bench/out/``; a store cached before the table existed is rebuilt.

    python bench/outbound.py [--customers 100000] [--months 3] [--naive 200]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import delete

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, load, save

from tactful.decide import service
from tactful.decide.placement import Placement
from tactful.store import schema
from tactful.store.store import Store


def tactful(*args: str, db: Path) -> None:
    exe = Path(sys.executable).parent / "tactful"
    env = {**os.environ, "TACTFUL_DATABASE_URL": f"sqlite:///{db}"}
    subprocess.run([str(exe), *args], check=True, env=env,  # noqa: S603 -- our own CLI
                   stdout=subprocess.DEVNULL)


def build(customers: int, months: int) -> Path:
    """A bank's store after enrichment and insights (cached)."""
    root = RESULTS / f"outbound-{customers}x{months}"
    db = root / "store.db"
    if (root / "DONE").exists() and (root / "FEATURES").exists():
        return db
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    started = time.perf_counter()
    tactful("simulate", "--customers", str(customers), "--months", str(months), "--seed", "42",
            "--start", "2025-01-01", "--out", str(root / "bank"), db=db)
    tactful("ingest", str(root / "bank"), db=db)
    tactful("run", db=db)
    shutil.rmtree(root / "bank")
    (root / "DONE").touch()
    (root / "FEATURES").touch()  # built by a nightly run that stores the rule features
    print(f"built the store in {time.perf_counter() - started:.0f} s", flush=True)
    return db


class Clock:
    """Seconds spent in each wrapped function of ``tactful.decide.service``."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self._saved: dict[str, Any] = {}

    def wrap(self, name: str) -> None:
        original: Callable[..., Any] = getattr(service, name)
        self._saved[name] = original

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.spent[name] = self.spent.get(name, 0.0) + time.perf_counter() - t0

        setattr(service, name, timed)

    def restore(self) -> None:
        for name, original in self._saved.items():
            setattr(service, name, original)


def fresh(db: Path, name: str, *, stored_features: bool = True) -> Store:
    copy = db.with_name(name)
    shutil.copyfile(db, copy)
    store = Store.open(f"sqlite:///{copy}")
    if not stored_features:
        with store.transaction() as conn:
            conn.execute(delete(schema.rule_features))
    return store


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--months", type=int, default=3)
    p.add_argument("--naive", type=int, default=200, help="customers decided the naive way")
    a = p.parse_args()
    db = build(a.customers, a.months)
    policy = service.default_policy()

    store = fresh(db, "batch.db")
    clock = Clock()
    for name in ("learned", "gather", "write_decisions", "customer_ids"):
        clock.wrap(name)
    cpu0, t0 = time.process_time(), time.perf_counter()
    report = service.decide_all(store, placement=Placement.OUTBOUND, policy=policy)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    clock.restore()
    store.close()
    reads = clock.spent.get("gather", 0.0)
    evidence = clock.spent.get("learned", 0.0)
    log = clock.spent.get("write_decisions", 0.0)
    ids = clock.spent.get("customer_ids", 0.0)
    rest = seconds - reads - evidence - log - ids
    batch = {
        "method": "decide_all (outbound batch)",
        "customers": report.customers, "messages": report.messages, "silent": report.silent,
        "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
        "customers_per_s": round(report.customers / seconds),
        "reads_share": f"{reads / seconds:.0%}", "evidence_share": f"{evidence / seconds:.0%}",
        "policy_share": f"{rest / seconds:.0%}", "log_share": f"{log / seconds:.0%}",
        "load": load(), "target": "100,000 customers in < 60 s",
    }
    batch["features"] = report.features
    print(batch, flush=True)

    store = fresh(db, "computed.db", stored_features=False)
    cpu0, t0 = time.process_time(), time.perf_counter()
    computed = service.decide_all(store, placement=Placement.OUTBOUND, policy=policy)
    c_seconds, c_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    store.close()
    per_shard = {
        "method": "decide_all, rule features computed shard by shard (no nightly table)",
        "customers": computed.customers, "messages": computed.messages,
        "silent": computed.silent, "seconds": round(c_seconds, 1),
        "cpu_seconds": round(c_cpu, 1), "customers_per_s": round(computed.customers / c_seconds),
        "features": computed.features, "load": load(),
    }
    batch["x_per_shard_cpu"] = round(c_cpu / cpu, 1) if cpu else None
    print(per_shard, flush=True)

    store = fresh(db, "naive.db")
    sample = service.customer_ids(store)[: a.naive]
    t0 = time.perf_counter()
    for cid in sample:
        service.decide_customer(store, customer_id=cid, placement=Placement.OUTBOUND,
                                policy=policy)
    naive_s = time.perf_counter() - t0
    store.close()
    per = naive_s / max(len(sample), 1)
    naive = {
        "method": f"decide_customer one at a time ({len(sample)} sampled, extrapolated)",
        "customers": report.customers,
        "seconds": round(per * report.customers, 1),
        "customers_per_s": round(1 / per) if per else None,
        "load": load(),
    }
    batch["x_naive"] = round(naive["seconds"] / seconds, 1) if seconds else None
    print(naive, flush=True)
    for name in ("batch.db", "computed.db", "naive.db"):
        db.with_name(name).unlink(missing_ok=True)
    print(f"written {save('outbound', [batch, per_shard, naive])}")


if __name__ == "__main__":
    main()
