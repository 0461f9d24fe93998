"""Executors: same results in the same order wherever the work runs; bad options named."""

from __future__ import annotations

import math

import pytest

from tactful.batch.executor import get_executor
from tactful.batch.shards import shards_of
from tactful.errors import ConfigError


@pytest.mark.parametrize("name", ["local", "processes"])
def test_results_come_back_in_input_order(name: str) -> None:
    # A stdlib function: spawned workers import it by name (test modules are not importable).
    assert list(get_executor(name).map(math.factorial, range(9))) == [
        math.factorial(x) for x in range(9)
    ]


def test_unknown_executor_and_bad_options_are_named() -> None:
    with pytest.raises(ConfigError, match="unknown executors plug-in 'dask'"):
        get_executor("dask")
    with pytest.raises(ConfigError, match="workers must be >= 1, got 0"):
        get_executor("processes", workers=0)
    with pytest.raises(ConfigError, match="executor 'local' does not take options"):
        get_executor("local", workers=2)


def test_shards_are_stable_and_whole() -> None:
    ids = [f"c{i:03d}" for i in range(10)][::-1]
    shards = shards_of(ids, size=4)
    assert [len(s) for s in shards] == [4, 4, 2]
    assert sorted(x for s in shards for x in s) == sorted(ids)
    assert shards == shards_of(reversed(ids), size=4)
    with pytest.raises(ConfigError, match="shard size must be >= 1"):
        shards_of(ids, size=0)
