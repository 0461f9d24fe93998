"""Benchmark of the living world: a no-op policy stepped day by day through the whole window.

Usage: ``python bench/world.py [--customers 10000] [--months 12] [--format parquet]``.
Prints the seconds to build the world (each chunk's baseline plan), to step it one day at a
time to the end, the peak resident memory, and the ratio against the batch simulator writing
the same customers in the same process and format. The target on a 2-core machine is 10,000
customers x 12 months in under 2 minutes, with memory bounded by the chunk.
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
from common import load, save

from tactful.simulate import SimulationConfig, simulate
from tactful.simulate.world import World


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--chunk-size", type=int, default=1_000)
    ap.add_argument("--format", default="parquet", choices=["parquet", "csv"])
    args = ap.parse_args()
    config = SimulationConfig(
        customers=args.customers,
        months=args.months,
        seed=args.seed,
        start=date(2024, 1, 1),
        chunk_size=args.chunk_size,
    )
    with tempfile.TemporaryDirectory() as tmp:
        t0, cpu0 = time.perf_counter(), time.process_time()
        world = World(config, Path(tmp) / "world", workdir=Path(tmp) / "plan", fmt=args.format)
        build = time.perf_counter() - t0
        t1 = time.perf_counter()
        days = 0
        while world.today < config.end:
            world.step(until=world.state.clock + 1)
            days += 1
        step = time.perf_counter() - t1
        total, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        busy = load()
        joined = world.truth()["kind"].to_list().count("joined")
        rows = len(list((Path(tmp) / "world" / "days").glob("*/transactions.*")))
        del world
        t2, cpu2 = time.perf_counter(), time.process_time()
        summary = simulate(config, Path(tmp) / "batch", args.format)
        batch, batch_cpu = time.perf_counter() - t2, time.process_time() - cpu2
    figure = f"world {args.customers:,} customers x {args.months} months, stepped daily"
    print(
        f"{figure} ({args.format}): {total:.1f} s ({build:.1f} s building the plans, "
        f"{step:.1f} s stepping {days} days; {cpu:.1f} CPU s); {joined:,} joiners; "
        f"{rows} daily transaction files; peak RSS {peak_mib:,.0f} MiB; batch simulator on the "
        f"same customers {batch:.1f} s ({batch_cpu:.1f} CPU s, {summary.transactions:,} "
        f"transactions): ratio {total / batch:.2f}; load {busy}"
    )
    row = {
        "figure": figure,
        "seconds": round(total, 1),
        "build_seconds": round(build, 1),
        "step_seconds": round(step, 1),
        "cpu_seconds": round(cpu, 1),
        "batch_seconds": round(batch, 1),
        "ratio_to_batch": round(total / batch, 2),
        "peak_rss_mib": int(peak_mib),
        "load_1min": busy,
        "target": "< 120 s for 10,000 x 12 stepped daily; bounded memory",
    }
    print(f"written {save('world', [row])}")


if __name__ == "__main__":
    main()
