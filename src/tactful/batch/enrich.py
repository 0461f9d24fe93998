"""``tactful enrich``: the understanding layer over every shard of the store.

Incremental by default: only customers with transactions not yet enriched are loaded, and only
rows whose enrichment changed are written. A change of the bank's rules, or a newly trained text
model, makes the next run a full one, so no transaction keeps a category from rules that no
longer exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial

import polars as pl
from sqlalchemy import insert, select, update

from tactful.batch.executor import Executor, LocalExecutor
from tactful.batch.shards import shards_of
from tactful.enrich import repository as repo
from tactful.enrich.classifier import TextCategorizer, training_set
from tactful.enrich.pipeline import EnrichContext, EnrichResult, categorized, enrich_shard
from tactful.store import schema
from tactful.store.store import Store

Progress = Callable[[int], None]
TRAINING_CUSTOMERS = 1_000
"""Customers sampled to train the text model: enough merchants, a bounded cost."""


@dataclass(frozen=True, slots=True)
class EnrichReport:
    run_id: int
    mode: str
    customers: int
    transactions: int
    updated: int
    series: int
    income_streams: int
    rules_version: int
    text_model_id: int | None
    seconds: float


def _last_run(store: Store) -> tuple[int, int | None] | None:
    runs = schema.enrich_runs
    rows = store.rows(
        select(runs.c.rules_version, runs.c.text_model_id)
        .where(runs.c.status == "done")
        .order_by(runs.c.id.desc())
        .limit(1)
    )
    return (int(rows[0][0]), rows[0][1]) if rows else None


def train_text_model(
    store: Store, ctx: EnrichContext, customer_ids: Sequence[str]
) -> tuple[int, TextCategorizer] | None:
    """Train the text categorizer on what rules, the MCC and customers labelled; store it and
    return it with its id (None when the labels are too few to learn from)."""
    sample = list(customer_ids)[:: max(1, -(-len(customer_ids) // TRAINING_CUSTOMERS))]
    frames = [
        categorized(repo.load_shard(store, shard), ctx)
        for shard in shards_of(sample, size=1_000)
    ]
    if not frames:
        return None
    texts, labels = training_set(pl.concat(frames, how="diagonal_relaxed"))
    if len(set(labels)) < 2:
        return None
    model = TextCategorizer().fit(texts, labels)
    return repo.save_text_model(store, model, rows=len(texts)), model


def _work(ctx: EnrichContext, shard: tuple[tuple[str, ...], pl.DataFrame]) -> tuple[
    tuple[str, ...], EnrichResult
]:
    ids, frame = shard
    return ids, enrich_shard(frame, ctx)


def run_enrich(
    store: Store,
    *,
    full: bool = False,
    retrain: bool = False,
    shard_size: int = 500,
    executor: Executor | None = None,
    progress_total: Callable[[int], None] | None = None,
    progress: Progress | None = None,
) -> EnrichReport:
    """Enrich the store; ``progress`` is called with the customers done after each shard."""
    started = datetime.now(UTC)
    executor = executor or LocalExecutor()
    version = repo.rules_version(store)
    last = _last_run(store)
    ctx = repo.load_context(store)
    everyone = repo.customers_to_enrich(store, full=True)
    model = None if retrain else repo.latest_text_model(store)
    if model is None:
        model = train_text_model(store, ctx, everyone) or repo.latest_text_model(store)
    model_id = model[0] if model else None
    if last is None or last[0] != version or last[1] != model_id:
        full = True
    mode = "full" if full else "incremental"
    ctx = replace(ctx, classifier=model[1] if model else None)
    customers = everyone if full else repo.customers_to_enrich(store, full=False)
    runs = schema.enrich_runs
    with store.transaction() as conn:
        run_id = int(
            conn.execute(
                insert(runs).values(
                    started_at=started, status="running", mode=mode, rules_version=version,
                    text_model_id=model_id,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        )
    if progress_total:
        progress_total(len(customers))
    shards = shards_of(customers, size=shard_size)

    def loaded() -> Iterator[tuple[tuple[str, ...], pl.DataFrame]]:
        for ids in shards:
            yield ids, repo.load_shard(store, ids)

    totals = {"customers": 0, "transactions": 0, "updated": 0, "series": 0, "income_streams": 0}
    try:
        for ids, result in executor.map(partial(_work, ctx), loaded()):
            written = repo.write_shard(store, ids, result)
            for key in totals:
                totals[key] += getattr(written, key)
            if progress:
                progress(len(ids))
    except BaseException:
        with store.transaction() as conn:
            conn.execute(update(runs).where(runs.c.id == run_id).values(
                status="failed", finished_at=datetime.now(UTC), **totals))
        raise
    finished = datetime.now(UTC)
    with store.transaction() as conn:
        conn.execute(update(runs).where(runs.c.id == run_id).values(
            status="done", finished_at=finished, **totals))
    return EnrichReport(
        run_id=run_id,
        mode=mode,
        rules_version=version,
        text_model_id=model_id,
        seconds=(finished - started).total_seconds(),
        **totals,
    )
