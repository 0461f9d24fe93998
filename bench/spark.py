"""Shards on Spark ``local[N]`` against the process executor, on the same transactions.

The same pure per-shard function (``batch.enrich``'s: categorize, series, income) over the same
shards, through three executors: ``local`` (one process, the baseline), ``processes`` (worker
processes) and ``spark`` (``mapInArrow`` on ``local[N]``). Loading from and writing to the store
are the caller's and identical for all three, so they are left out: what differs is where the
function runs and what it costs to get a shard there and back. The Spark session's start-up
(the JVM) is timed apart: a nightly run pays it once.

    python bench/spark.py [--rows 200000] [--shard-customers 100] [--workers 2]
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from common import load, process_cpu_timed, save, timed

from enrich import bank_frame
from tactful.batch.enrich import _work
from tactful.batch.executor import get_executor
from tactful.batch.shards import shards_of
from tactful.enrich.pipeline import EnrichContext


def shards(frame: pl.DataFrame, size: int) -> list[tuple[tuple[str, ...], pl.DataFrame,
                                                         frozenset[str]]]:
    out = []
    for ids in shards_of(frame["customer_id"].unique().to_list(), size=size):
        part = frame.filter(pl.col("customer_id").is_in(list(ids)))
        out.append((ids, part, frozenset(ids)))
    return out


def compare(frame: pl.DataFrame, shard_customers: int, workers: int) -> list[dict[str, Any]]:
    """The same shards through the local, process and Spark ``local[workers]`` executors."""
    work = shards(frame, shard_customers)
    fn = partial(_work, EnrichContext())
    rows: list[dict[str, Any]] = []

    def measure(name: str, executor: Any, **extra: Any) -> float:
        before = load()
        with timed() as seconds, process_cpu_timed() as cpu:
            results = list(executor.map(fn, work))
        if sum(r[1].transactions.height for r in results) != frame.height:
            raise SystemExit(f"{name}: results do not cover the {frame.height:,} rows")
        rate = frame.height / seconds()
        rows.append({"executor": name, "rows": frame.height, "shards": len(work),
                     "seconds": round(seconds(), 2), "rows_per_s": round(rate),
                     "driver_cpu_s": round(cpu(), 2),
                     "load_before": before, "load_after": load(), **extra})
        print(f"{name:<22} {frame.height:>9,} rows in {len(work)} shards: "
              f"{seconds():7.2f} s, {rate:>9,.0f} rows/s, driver CPU {cpu():.2f} s "
              f"(load {before} -> {load()})", flush=True)
        return rate

    print(f"{frame.height:,} transactions, {frame['customer_id'].n_unique():,} customers, "
          f"{shard_customers} customers a shard")
    base = measure("local", get_executor("local"))
    procs = measure(f"processes x{workers}", get_executor("processes", workers=workers))

    from tactful.batch.spark import session

    with timed() as start:
        spark = session(f"local[{workers}]")
    print(f"spark session start-up (JVM): {start():.1f} s")
    try:
        executor = get_executor("spark", spark=spark, window=len(work))
        measure(f"spark local[{workers}]", executor, session_start_s=round(start(), 2))
        sparked = measure(f"spark local[{workers}] again", executor)
    finally:
        spark.stop()
    rows[-1]["ratio"] = f"spark / processes {sparked / procs:.2f}x"
    print(f"spark / processes: {sparked / procs:.2f}x; processes / local: {procs / base:.2f}x; "
          f"spark / local: {sparked / base:.2f}x")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--shard-customers", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    rows = compare(bank_frame(args.rows), args.shard_customers, args.workers)
    print(f"saved {save('spark', rows)}")


if __name__ == "__main__":
    main()
