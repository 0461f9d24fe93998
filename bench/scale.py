"""Issue 21 side by side, in one run: how the night's cost scales with the bank.

For each size in ``--transactions`` (a simulated bank, ~300 transactions a customer over six
months):

* **a day's increment**: the store holds every transaction but the last day's, enriched by a
  full run (timed); the last day is ingested and ``tactful enrich`` (incremental: the customers
  with new transactions) runs; its time as a share of the full run's (target <= 5%), on each
  store of ``--stores``;
* **end to end vs in memory**: ``enrich --full`` over each store against the same shards run
  through the pure pipeline in memory (``bench/enrich.py``'s ``end_to_end``; target >= 0.5x);
* **Spark ``local[2]`` vs the process executor** on the same shards (``bench/spark.py``'s
  ``compare``), when pyspark imports; otherwise the reason is printed.

Once per run: CLI start-up (``tactful --help``, wall and CPU of the child, beside a bare
interpreter; ``bench/startup.py``'s ``wall_ms``) and categorize-one p50 / p99 (the real-time
path, ``pipeline.categorize_one`` on a dict, beside ``categorized`` on a one-row frame, on the
same sampled rows, with a trained text model).

Wall and CPU seconds are both given (CPU: this process's, every thread's, so a PostgreSQL
server's and Spark's or worker processes' own CPU are not in it), with the 1-minute load
average: the machine is shared.

    python bench/scale.py [--transactions 1000000[,3000000]] [--stores sqlite,postgresql]
                          [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, load, process_cpu_timed, save, timed
from startup import CLI, percentile, wall_ms

from enrich import bank_files, bank_frame, end_to_end, store_url

QUICK = 20_000


def _sizes(text: str) -> list[int]:
    sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    if not sizes or any(n < 1_000 for n in sizes):
        raise argparse.ArgumentTypeError(f"sizes of at least 1,000 transactions, got {text!r}")
    return sizes


def _split(bank: Path) -> tuple[list[Path], Path, str]:
    """The bank's files with every transaction but the last day's, that day's transactions
    alone, and the day (cached beside the bank)."""
    tx = pl.read_parquet(bank / "transactions.parquet")
    day = str(tx.get_column("booked_at").str.slice(0, 10).max())
    history, today = bank.parent / f"{bank.name}-history", bank.parent / f"{bank.name}-day"
    if not (history / "DONE").exists():
        for folder in (history, today):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
        for path in bank.iterdir():
            if path.is_file() and path.suffix == ".parquet" and path.name != "transactions.parquet":
                shutil.copy(path, history / path.name)
        last = pl.col("booked_at").str.slice(0, 10) == day
        tx.filter(~last).write_parquet(history / "transactions.parquet")
        tx.filter(last).write_parquet(today / "transactions.parquet")
        (history / "DONE").write_text(day)
    files = sorted(p for p in history.iterdir() if p.suffix == ".parquet")
    return files, today / "transactions.parquet", day


def increment(dialect: str, rows: int) -> dict[str, Any]:
    """A full enrich, then one day's data and an incremental enrich: the day's share."""
    from tactful.batch.enrich import run_enrich
    from tactful.ingest.loader import Loader
    from tactful.store.store import Store

    history, today, day = _split(bank_files(rows))
    url, drop = store_url(dialect, RESULTS)
    reports = RESULTS / "scale-reports"
    try:
        store = Store.open(url)
        Loader(store, report_dir=reports).ingest(history)
        run_enrich(store)  # trains and stores the text model: not part of either figure
        with timed() as wall, process_cpu_timed() as cpu:
            full = run_enrich(store, full=True)
        full_s, full_cpu = wall(), cpu()
        Loader(store, report_dir=reports).ingest([today])
        with timed() as wall, process_cpu_timed() as cpu:
            inc = run_enrich(store)
        inc_s, inc_cpu = wall(), cpu()
        total = store.counts()["transactions"]
        store.close()
    finally:
        drop()
    new = pl.read_parquet(today).height
    row = {
        "figure": f"a day's increment / a full run, {dialect}",
        "transactions": total,
        "seconds": round(inc_s, 2),
        "cpu_s": round(inc_cpu, 2),
        "baseline_s": round(full_s, 2),
        "baseline_cpu_s": round(full_cpu, 2),
        "ratio": f"{inc_s / full_s:.1%} wall, {inc_cpu / full_cpu:.1%} CPU",
        "detail": f"day {day}: {new:,} new transactions; the {inc.mode} run read "
        f"{inc.transactions:,} transactions of {inc.customers:,} customers and updated "
        f"{inc.updated:,} rows; the {full.mode} run read {full.transactions:,} of "
        f"{full.customers:,}",
        "target": "<= 5%",
        "load": load(),
    }
    print(row, flush=True)
    return row


def store_vs_memory(dialect: str, rows: int, shard_size: int) -> list[dict[str, Any]]:
    out = []
    for r in end_to_end(dialect, rows, shard_size, repeat=1):
        out.append({
            "figure": r["figure"],
            "transactions": r["rows"],
            "seconds": r["seconds"],
            "rows_per_s": r["rows_per_s"],
            "baseline_rows_per_s": r["in_memory_rows_per_s"],
            "ratio": r["ratio"],
            "detail": f"load {r['load_share']}, write-back {r['write_share']} of the run; "
            f"{r['updated']:,} rows updated",
            "target": r["target"],
            "load": r["load_avg"],
        })
    return out


def spark_vs_processes(rows: int, shard_customers: int) -> list[dict[str, Any]]:
    try:
        import pyspark  # noqa: F401 -- only whether it imports
    except ImportError as exc:
        print(f"Spark skipped: pyspark does not import ({exc})")
        return [{"figure": "Spark local[2] vs processes", "transactions": rows,
                 "detail": f"skipped: pyspark does not import ({exc})"}]
    if shutil.which("java") is None:
        print("Spark skipped: no java on the PATH")
        return [{"figure": "Spark local[2] vs processes", "transactions": rows,
                 "detail": "skipped: no java on the PATH"}]
    from spark import compare

    out = []
    for r in compare(bank_frame(rows), shard_customers, 2):
        out.append({
            "figure": f"executor {r['executor']} ({r['shards']} shards)",
            "transactions": r["rows"],
            "seconds": r["seconds"],
            "cpu_s": r["driver_cpu_s"],
            "rows_per_s": r["rows_per_s"],
            "ratio": r.get("ratio", ""),
            "detail": f"JVM start {r['session_start_s']} s apart" if "session_start_s" in r
            else "",
            "load": r["load_after"],
        })
    return out


def startup(runs: int) -> list[dict[str, Any]]:
    base_wall, base_cpu = wall_ms([sys.executable, "-c", "pass"], runs)
    ms, cpu = wall_ms([*CLI, "--help"], runs)
    row = {
        "figure": "tactful --help (CLI start-up)",
        "runs": runs,
        "p50_ms": round(percentile(ms, 0.5)),
        "cpu_p50_ms": round(percentile(cpu, 0.5)),
        "baseline": f"python -c pass: p50 {percentile(base_wall, 0.5):.0f} ms, "
        f"CPU {percentile(base_cpu, 0.5):.0f} ms",
        "target": "< 300 ms",
        "load": load(),
    }
    print(row, flush=True)
    return [row]


def categorize_one_latency(sample_rows: int, train_rows: int) -> list[dict[str, Any]]:
    """categorize_one on a dict beside categorized on a one-row frame, row by row interleaved."""
    from tactful.enrich.classifier import TextCategorizer, training_set
    from tactful.enrich.pipeline import EnrichContext, categorize_one, categorized

    frame = bank_frame(train_rows)
    texts, labels = training_set(categorized(frame, EnrichContext()))
    ctx = EnrichContext(classifier=TextCategorizer().fit(texts, labels))
    sample = frame.sample(sample_rows, seed=2)
    dicts = sample.to_dicts()
    for row in dicts[:50]:  # warm both paths' caches
        categorize_one(row, ctx)
    categorized(sample.slice(0, 1), ctx)
    one_ms, one_cpu, frame_ms, frame_cpu = [], [], [], []
    for i, row in enumerate(dicts):
        one = sample.slice(i, 1)
        with timed() as t, process_cpu_timed() as c:
            got = categorize_one(row, ctx)
        one_ms.append(t() * 1000)
        one_cpu.append(c() * 1000)
        with timed() as t, process_cpu_timed() as c:
            expected = categorized(one, ctx)
        frame_ms.append(t() * 1000)
        frame_cpu.append(c() * 1000)
        if got["category_detailed"] != expected["category_detailed"][0]:
            raise AssertionError(f"categorize_one and the frame path disagree on {row}")
    w50, w99 = np.percentile(one_ms, [50, 99])
    c50, c99 = np.percentile(one_cpu, [50, 99])
    f50, f99 = np.percentile(frame_cpu, [50, 99])
    fw50, fw99 = np.percentile(frame_ms, [50, 99])
    row = {
        "figure": "categorize-one (real time)",
        "rows": len(dicts),
        "p50_ms": round(float(w50), 3),
        "p99_ms": round(float(w99), 3),
        "cpu_p50_ms": round(float(c50), 3),
        "cpu_p99_ms": round(float(c99), 3),
        "baseline": f"one-row frame: wall p50 {fw50:.3f} / p99 {fw99:.3f} ms, CPU p50 "
        f"{f50:.3f} / p99 {f99:.3f} ms",
        "ratio": f"CPU p99 {f99 / c99:.1f}x",
        "target": "p99 < 1 ms",
        "load": load(),
    }
    print(row, flush=True)
    return [row]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=_sizes, default=[1_000_000],
                        help="sizes, comma-separated (default 1000000)")
    parser.add_argument("--stores", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql")
    parser.add_argument("--quick", action="store_true",
                        help=f"a smoke run at {QUICK:,} transactions")
    parser.add_argument("--shard-size", type=int, default=500)
    parser.add_argument("--spark-shard-customers", type=int, default=None,
                        help="customers a shard on the executors (default 100; 20 with --quick)")
    args = parser.parse_args()
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    unknown = set(stores) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"--stores: unknown store(s) {', '.join(sorted(unknown))}")
    sizes = [QUICK] if args.quick else args.transactions
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    rows += startup(5 if args.quick else 20)
    rows += categorize_one_latency(300 if args.quick else 2_000,
                                   QUICK if args.quick else 100_000)
    for n in sizes:
        print(f"== {n:,} transactions", flush=True)
        for dialect in stores:
            rows.append(increment(dialect, n))
        for dialect in stores:
            rows += store_vs_memory(dialect, n, args.shard_size)
        rows += spark_vs_processes(
            n, args.spark_shard_customers or (20 if args.quick else 100)
        )
    print(f"all in {time.perf_counter() - started:.0f} s; written {save('scale', rows)}")


if __name__ == "__main__":
    main()
