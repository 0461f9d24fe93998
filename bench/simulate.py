"""Benchmark of ``tactful simulate``: seconds and transactions per second.

Usage: ``python bench/simulate.py [--customers 10000] [--months 12] [--format parquet]``.
Writes to a temporary directory (or ``--out``) and prints one summary line per run plus the
share of time in generation versus formatting and writing, measured on a separate pass over the
first chunk. The target on a 2-core machine is 10,000 customers x 12 months in under 60 s.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import save

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
        t0 = time.perf_counter()
        summary = simulate(config, out, args.format)
        total = time.perf_counter() - t0
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
        f"generation ~{gen_share:.0%} of the time, formatting and writing the rest"
    )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row = {
        "figure": f"simulate {args.customers:,} customers x {args.months} months ({args.format})",
        "seconds": round(total, 1),
        "transactions": summary.transactions,
        "transactions_per_s": int(summary.transactions / total),
        "events": summary.events,
        "peak_rss_mib": int(peak_mib),
        "generation_share": f"{gen_share:.0%}",
        "target": "< 60 s for 10,000 x 12",
    }
    print(f"written {save('simulate', [row])}")


if __name__ == "__main__":
    main()
