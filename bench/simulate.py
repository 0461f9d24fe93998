"""Benchmark of ``tactful simulate``: seconds and transactions per second.

Usage: ``python bench/simulate.py [--customers 10000] [--months 12] [--format parquet]``.
Writes to a temporary directory (or ``--out``) and prints one summary line per run plus the
share of time in generation versus formatting and writing, measured on a separate pass over the
first chunk, and the peak resident memory. The target on a 2-core machine is 10,000 customers x
12 months in under 60 s; ``--customers 100000`` shows memory staying bounded by the chunk (the
results file keeps one row per figure, so both runs appear in docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, load, save

from tactful.simulate import SimulationConfig, simulate
from tactful.simulate.generate import generate_chunk


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--chunk-size", type=int, default=1_000)
    ap.add_argument("--format", default="parquet", choices=["parquet", "csv", "ofx", "camt053"])
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    config = SimulationConfig(
        customers=args.customers,
        months=args.months,
        seed=args.seed,
        start=date(2024, 1, 1),
        chunk_size=args.chunk_size,
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "bank"
        t0, cpu0 = time.perf_counter(), time.process_time()
        summary = simulate(config, out, args.format)
        total, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        # Peak RSS of the run itself, before the generation-share pass below.
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        busy = load()
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    first = min(args.chunk_size, args.customers)
    t1 = time.perf_counter()
    generate_chunk(config, 0, first)
    gen_share = (time.perf_counter() - t1) * (args.customers / first) / total
    print(
        f"simulate {args.customers:,} customers x {args.months} months ({args.format}): "
        f"{total:.1f} s, {summary.transactions:,} transactions "
        f"({summary.transactions / total:,.0f}/s), {summary.events:,} events, "
        f"{summary.accounts:,} accounts, {size / 1e6:,.0f} MB written; "
        f"generation ~{gen_share:.0%} of the time, formatting and writing the rest; "
        f"{cpu:.1f} CPU s; peak RSS {peak_mib:,.0f} MiB (chunks of {args.chunk_size:,}); "
        f"load {busy}"
    )
    figure = f"simulate {args.customers:,} customers x {args.months} months ({args.format})"
    row = {
        "figure": figure,
        "seconds": round(total, 1),
        "cpu_seconds": round(cpu, 1),
        "transactions": summary.transactions,
        "transactions_per_s": int(summary.transactions / total),
        "events": summary.events,
        "peak_rss_mib": int(peak_mib),
        "generation_share": f"{gen_share:.0%}",
        "load_1min": busy,
        "target": "< 60 s for 10,000 x 12; bounded memory",
    }
    print(f"written {save('simulate', [*other_figures(figure), row])}")


def other_figures(figure: str) -> list[dict[str, Any]]:
    """Rows of earlier runs of other sizes, so a 100,000-customer run does not erase the 10,000
    one (and vice versa); rows in an older layout are dropped."""
    path = RESULTS / "simulate.json"
    if not path.exists():
        return []
    rows: list[dict[str, Any]] = json.loads(path.read_text())["rows"]
    return [r for r in rows if r.get("figure") != figure and "cpu_seconds" in r]


if __name__ == "__main__":
    main()
