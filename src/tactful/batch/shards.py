"""Shards: fixed-size groups of customers, in a stable order.

A customer's whole history is in one shard, so every per-customer computation (series, income,
later insights) sees all it needs without talking to other shards.

>>> shards_of(["c3", "c1", "c2"], size=2)
[('c1', 'c2'), ('c3',)]
"""

from __future__ import annotations

from collections.abc import Iterable

from tactful.errors import ConfigError


def shards_of(customer_ids: Iterable[str], *, size: int) -> list[tuple[str, ...]]:
    """``customer_ids`` sorted and cut into shards of at most ``size``."""
    if size < 1:
        raise ConfigError(f"shard size must be >= 1, got {size}")
    ids = sorted(set(customer_ids))
    return [tuple(ids[i : i + size]) for i in range(0, len(ids), size)]
