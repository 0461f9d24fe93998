"""How long the command line takes to start: ``tactful --help`` before any work is done.

Every command pays the imports of the modules it is registered from, so the cost of starting
is the floor under every CLI call (issue 21: ``tactful --help`` under 0.3 s). Measured in fresh
subprocesses, N times each, beside two baselines run in the same session: a bare interpreter
(``python -c pass``) and one that imports Typer (the least a Typer CLI can cost):

* ``tactful --help`` and ``tactful db status --help`` (a cheap command's help): p50 / p99 wall ms,
  and p50 CPU ms (user + system of the child: what the start costs, less sensitive than the wall
  time to other work on a shared machine);
* ``python -X importtime -c "import tactful.cli.app"``: the ten top-level packages whose own
  import time (summed over their modules) is largest, and whether the heavy optional packages
  are imported at all.

    python bench/startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import load, save

SRC = Path(__file__).parent.parent / "src"
HEAVY = ("sklearn", "lightgbm", "scipy", "ofxtools", "matplotlib", "fairlearn", "pandas",
         "sqlalchemy", "polars", "alembic", "pyarrow", "numpy")
CLI = [sys.executable, "-m", "tactful.cli.app"]
CASES = [
    ("python -c pass", [sys.executable, "-c", "pass"]),
    ("python -c 'import typer'", [sys.executable, "-c", "import typer"]),
    ("tactful --help", [*CLI, "--help"]),
    ("tactful db status --help", [*CLI, "db", "status", "--help"]),
]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH", "")) if p)
    return env


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wall_ms(argv: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each run, each list sorted."""
    env = _env()
    wall, cpu = [], []
    for _ in range(runs):
        cpu_before = _children_cpu_s()
        start = time.perf_counter()
        subprocess.run(argv, env=env, check=True, capture_output=True)  # noqa: S603 -- our argv
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((_children_cpu_s() - cpu_before) * 1000)
    return sorted(wall), sorted(cpu)


def percentile(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, round(q * (len(sorted_ms) - 1)))]


def import_breakdown() -> tuple[Counter[str], set[str]]:
    """Own import time per top-level package (µs), from ``-X importtime``, and what was imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import tactful.cli.app"],
        env=_env(), check=True, capture_output=True, text=True,
    )
    per_package: Counter[str] = Counter()
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = line.removeprefix("import time:").split("|")
        per_package[name.strip().split(".")[0]] += int(self_us)
    return per_package, set(per_package)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    rows: list[dict[str, object]] = []
    for label, argv in CASES:
        ms, cpu = wall_ms(argv, args.runs)
        rows.append({
            "command": label,
            "runs": args.runs,
            "p50_ms": round(percentile(ms, 0.5)),
            "p99_ms": round(percentile(ms, 0.99)),
            "cpu_p50_ms": round(percentile(cpu, 0.5)),
            "load": load(),
        })
        print(f"{label:28s} p50 {rows[-1]['p50_ms']:>6} ms  p99 {rows[-1]['p99_ms']:>6} ms  "
              f"cpu p50 {rows[-1]['cpu_p50_ms']:>6} ms")

    per_package, imported = import_breakdown()
    top = per_package.most_common(10)
    print("import tactful.cli.app, own time per package:")
    for name, us in top:
        print(f"  {name:24s} {us / 1000:8.1f} ms")
    heavy = [h for h in HEAVY if h in imported]
    print("heavy packages imported at start:", ", ".join(heavy) or "none")
    rows += [{"package": name, "own_import_ms": round(us / 1000)} for name, us in top]
    rows.append({"package": "heavy, imported at start",
                 "own_import_ms": ", ".join(heavy) or "none"})
    print(f"results in {save('startup', rows)}")


if __name__ == "__main__":
    main()
