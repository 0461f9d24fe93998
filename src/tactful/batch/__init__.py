"""Runs the per-customer pipeline over shards of customers: in-process, in worker processes, or
on Spark (``batch/spark.py``). The work itself is a pure function of one shard's frames, so an
executor only decides where it runs."""

from tactful.batch.executor import Executor, executors, get_executor
from tactful.batch.shards import shards_of

__all__ = ["Executor", "executors", "get_executor", "shards_of"]
