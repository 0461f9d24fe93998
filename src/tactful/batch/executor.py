"""Executors: where the pure per-shard function runs.

An executor maps a picklable function over an iterable of inputs and yields the results in input
order, so the caller can write each shard's results as soon as it is done (bounded memory: only
``window`` shards are in flight). ``local`` runs in this process and is what the tests and the
demo use; ``processes`` spreads shards over worker processes on one machine; ``spark`` over a
Spark cluster (``batch/spark.py``, the ``[spark]`` extra, imported only when chosen).

>>> list(get_executor("local").map(abs, [-1, 2, -3]))
[1, 2, 3]
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Protocol, TypeVar, runtime_checkable

from tactful.errors import ConfigError
from tactful.plugins import Registry

T = TypeVar("T")
R = TypeVar("R")


@runtime_checkable
class Executor(Protocol):
    """Maps a function over shards, yielding results in order."""

    name: str

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]: ...


executors: Registry[Callable[..., Executor]] = Registry("executors")


@executors.register("local")
class LocalExecutor:
    """One shard after another in this process: no pickling, exact tracebacks."""

    name = "local"

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        for item in items:
            yield fn(item)


@executors.register("processes")
class ProcessExecutor:
    """Shards over ``workers`` processes, at most ``window`` in flight, results in order."""

    name = "processes"

    def __init__(self, workers: int = 2, window: int | None = None) -> None:
        if workers < 1:
            raise ConfigError(f"executor 'processes': workers must be >= 1, got {workers}")
        self.workers = workers
        self.window = window or 2 * workers

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        pending: deque[Future[R]] = deque()
        # Forking a process that runs Polars' thread pool can deadlock the child: spawn instead.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=context) as pool:
            for item in items:
                pending.append(pool.submit(fn, item))
                if len(pending) >= self.window:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()


@executors.register("spark")
def _spark(**options: Any) -> Executor:
    """pyspark is heavy and optional: imported only when a run asks for Spark."""
    from tactful.batch.spark import SparkExecutor

    return SparkExecutor(**options)


def get_executor(name: str = "local", **options: Any) -> Executor:
    """The executor registered as ``name`` (or a ``module:Class`` path), built with options."""
    factory = executors.get(name)
    try:
        executor = factory(**options)
    except TypeError as exc:
        raise ConfigError(f"executor {name!r} does not take options {sorted(options)}") from exc
    if not isinstance(executor, Executor):
        raise ConfigError(f"executor {name!r} does not implement map()")
    return executor
