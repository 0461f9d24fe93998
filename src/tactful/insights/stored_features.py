"""The customers' rule features, written once a night and read by the outbound batch.

The catalog's rules read the insight rules' features (``insights.rules.features``), which are
computed from the same inputs the nightly insight run has already loaded (``load_inputs``, a
dozen frames per shard). Computing them again for every shard of the outbound batch was most of
its time; so the insight run writes them here, one row per customer of each shard it runs, as of
the run's day (``rule_features``: customer -> run, day, ``{feature: number}``), and the batch
reads them back.

A customer the features table has nothing for (no checking account, hence no features) gets an
empty row, so that "no row" only ever means "the run did not cover this customer". Holdings
(``holds_*``) are stored with the rest but a decision reads them live: an account opened this
morning must stop a savings offer this afternoon.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import polars as pl
from sqlalchemy import delete, insert, select

from tactful.insights.inputs import InsightInputs
from tactful.insights.rules import FEATURES, features
from tactful.store import schema
from tactful.store.store import Store

_CHUNK: Final = 2_000
STORED: Final = frozenset(FEATURES)
"""What the nightly run stores: every word of the vocabulary it can compute, except the
per-category spend (``spend_30d.<category>``), which a decision computes when its catalog asks."""


@dataclass(frozen=True, slots=True)
class Written:
    """The insight run whose features the table holds: its id and its day."""

    run_id: int
    as_of: date


def per_customer(table: pl.DataFrame, names: frozenset[str]) -> dict[str, dict[str, float]]:
    """One feature mapping per customer of ``features``' table (one row per customer and
    currency): the currency where the customer keeps the most, its numbers only."""
    out: dict[str, dict[str, float]] = {}
    if not table.height:
        return out
    table = table.sort("checking_balance", descending=True).unique(
        "customer_id", keep="first", maintain_order=True)
    for row in table.iter_rows(named=True):
        out[str(row["customer_id"])] = {
            k: float(v) for k, v in row.items()
            if k in names or k == "unit"
            if isinstance(v, int | float) and not isinstance(v, bool)}
    return out


def write(store: Store, data: InsightInputs, *, run_id: int) -> int:
    """Store the features of every customer of ``data`` as of ``data.as_of`` for ``run_id``,
    replacing what an earlier run wrote for them; the number of rows written."""
    found = per_customer(features(data, STORED), STORED)
    ids = [str(c) for c in data.customers["customer_id"].to_list()]
    rows: list[dict[str, Any]] = [
        {"customer_id": cid, "run_id": run_id, "as_of": data.as_of,
         "features": found.get(cid, {})} for cid in ids]
    if not rows:
        return 0
    t = schema.rule_features
    with store.transaction() as conn:
        for start in range(0, len(ids), _CHUNK):
            conn.execute(delete(t).where(t.c.customer_id.in_(ids[start:start + _CHUNK])))
        for start in range(0, len(rows), _CHUNK):
            conn.execute(insert(t), rows[start:start + _CHUNK])
    return len(rows)


def latest(store: Store) -> Written | None:
    """The latest insight run that finished and wrote features, or None if none has (a store
    migrated before this table existed, or whose nightly run has not run since)."""
    r, t = schema.insight_runs, schema.rule_features
    rows = store.rows(select(r.c.id, r.c.as_of).where(r.c.status == "done").order_by(
        r.c.id.desc()).limit(1))
    if not rows or rows[0][1] is None:
        return None
    run_id = int(rows[0][0])
    if not store.rows(select(t.c.customer_id).where(t.c.run_id == run_id).limit(1)):
        return None
    return Written(run_id, rows[0][1])


def read(store: Store, ids: Sequence[str], *, as_of: date) -> dict[str, dict[str, float]]:
    """The stored features of ``ids`` as of ``as_of``; a customer missing from the answer was not
    covered by a run of that day."""
    t = schema.rule_features
    out: dict[str, dict[str, float]] = {}
    for start in range(0, len(ids), _CHUNK):
        part = list(ids[start:start + _CHUNK])
        for cid, values in store.rows(select(t.c.customer_id, t.c.features).where(
                t.c.customer_id.in_(part), t.c.as_of == as_of)):
            out[str(cid)] = {str(k): float(v) for k, v in dict(values).items()}
    return out
