"""The ``spark`` executor: the same pure per-shard function, run by Spark's Python workers.

Shards go to Spark in windows of ``window``: each shard becomes one row ``(shard, payload)``
whose payload is the shard encoded by ``batch.codec`` (JSON structure plus Arrow IPC frames, no
pickles of data); ``DataFrame.mapInArrow`` decodes it on a worker, calls the function and
encodes the result the same way; the driver collects the window as Arrow and yields the
results in input order. So the caller loads shards from the store and writes results back
exactly as with ``local`` or ``processes`` -- only where the function runs changes.

With ``staging`` (a directory every worker can read: NFS, S3, HDFS), each window is written
there as Parquet and read back by Spark, which is how inputs reach a real cluster's workers
without passing through the driver's JVM; without it the window is handed to Spark from driver
memory (``local[N]`` and small clusters).

The function itself is shipped to the workers by Spark (cloudpickle), as ``processes`` ships it
by pickle: it must be a module-level function or a ``functools.partial`` of one.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pyarrow as pa  # type: ignore[import-untyped]

from tactful.batch import codec
from tactful.config import get_settings
from tactful.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_MASTER = "local[2]"
_SCHEMA = "shard int, payload binary"


def _apply(fn: Callable[[Any], Any], batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """What a Spark worker runs: decode each shard, compute, encode the result."""
    for batch in batches:
        shards = batch.column("shard")
        results = [codec.encode(fn(codec.decode(p))) for p in batch.column("payload").to_pylist()]
        yield pa.RecordBatch.from_arrays(
            [shards, pa.array(results, pa.binary())], names=["shard", "payload"]
        )


LOCAL_DRIVER_MEMORY = "6g"
"""The driver's heap in ``local[N]`` mode unless the caller sets ``spark.driver.memory``."""
DRIVER_MAX_RESULT = "4g"
"""``spark.driver.maxResultSize`` unless the caller sets it: one window's shard results."""


def session(master: str = DEFAULT_MASTER, **conf: str) -> SparkSession:
    """A Spark session for the executor (Spark's ``getOrCreate``: an existing one is reused).

    The workers run this interpreter, so they import the same Tactful and libraries; one row is
    one shard, so Arrow batches are kept small enough for shards to spread over the workers."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ConfigError(
            "executor 'spark' needs pyspark: pip install 'tactful[spark]' (and Java 17+)"
        ) from exc
    # pyspark picks the workers' interpreter from the environment, not from the session's
    # configuration: without this, local workers run a bare ``python3`` outside the virtualenv.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName("tactful")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "1")
        .config("spark.sql.shuffle.partitions", "8")
    )
    # every window's results are collected on the driver: at 3M transactions they passed
    # Spark's 1 GB default of spark.driver.maxResultSize; in local mode the executors also
    # live in the driver's JVM, whose 1 GB default heap ran out first (a cluster sizes its own)
    defaults = {"spark.driver.maxResultSize": DRIVER_MAX_RESULT}
    if master.startswith("local"):
        defaults["spark.driver.memory"] = LOCAL_DRIVER_MEMORY
    conf = {**defaults, **conf}
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


class SparkExecutor:
    """Shards over a Spark cluster (or ``local[N]``), ``window`` shards per Spark job, results
    in input order."""

    name = "spark"

    def __init__(
        self,
        master: str | None = None,
        window: int = 16,
        staging: str | Path | None = None,
        spark: SparkSession | None = None,
    ) -> None:
        if window < 1:
            raise ConfigError(f"executor 'spark': window must be >= 1, got {window}")
        self.master = master or get_settings().spark_master
        self.window = window
        self.staging = Path(staging) if staging is not None else None
        self._spark = spark

    @property
    def spark(self) -> SparkSession:
        if self._spark is None:
            self._spark = session(self.master)
        return self._spark

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        window: list[T] = []
        for item in items:
            window.append(item)
            if len(window) >= self.window:
                yield from self._run(fn, window)
                window = []
        if window:
            yield from self._run(fn, window)

    def _run(self, fn: Callable[[T], R], window: list[T]) -> Iterator[R]:
        table = pa.table({
            "shard": pa.array(range(len(window)), pa.int32()),
            "payload": pa.array([codec.encode(item) for item in window], pa.binary()),
        })
        staged = self._stage(table) if self.staging is not None else None
        try:
            if staged is not None:
                frame = self.spark.read.parquet(str(staged))
            else:
                frame = self.spark.createDataFrame(table)
            # One shard per row: spread the rows over the workers, shuffling only if Spark's
            # own split leaves workers idle.
            wanted = min(len(window), max(1, self.spark.sparkContext.defaultParallelism))
            if frame.rdd.getNumPartitions() < wanted:
                frame = frame.repartition(wanted)
            out = frame.mapInArrow(partial(_apply, fn), _SCHEMA).toArrow()
        finally:
            if staged is not None:
                shutil.rmtree(staged, ignore_errors=True)
        if out.num_rows != len(window):
            raise RuntimeError(f"spark returned {out.num_rows} results for {len(window)} shards")
        order = out.column("shard").to_pylist()
        payloads = out.column("payload").to_pylist()
        by_shard = dict(zip(order, payloads, strict=True))
        for i in range(len(window)):
            yield codec.decode(by_shard[i])

    def _stage(self, table: pa.Table) -> Path:
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        path = Path(str(self.staging)) / f"tactful-{uuid.uuid4().hex}"
        path.mkdir(parents=True)
        pq.write_table(table, path / "shards.parquet")
        return path
