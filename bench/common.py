"""Helpers shared by the benchmark scripts: machine facts, timing, the results file."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "out"


def machine() -> dict[str, Any]:
    mem_gib = None
    try:
        with open("/proc/meminfo") as fh:
            mem_gib = round(int(fh.readline().split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def load() -> float | None:
    """The 1-minute load average: on a shared machine, how busy it was during a figure."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


@contextmanager
def timed() -> Iterator[Callable[[], float]]:
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


@contextmanager
def cpu_timed() -> Iterator[Callable[[], float]]:
    """This thread's CPU seconds over the block: on a machine shared with other work, what the
    code itself cost, without the time it waited for a core (which the wall clock adds)."""
    start = time.thread_time()
    end: list[float] = []
    yield lambda: (end[0] if end else time.thread_time()) - start
    end.append(time.thread_time())


@contextmanager
def process_cpu_timed() -> Iterator[Callable[[], float]]:
    """This process's CPU seconds over the block, every thread's (Polars' pool included); not
    a child process's or a database server's."""
    start = time.process_time()
    end: list[float] = []
    yield lambda: (end[0] if end else time.process_time()) - start
    end.append(time.process_time())


def save(name: str, rows: list[dict[str, Any]]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2) + "\n")
    return path
