"""``tactful enrich``: the understanding layer over every shard of the store.

Incremental by default, and a night's cost follows the night's data: only the new transactions
are categorized, and of the older ones only the groups they can change are read -- every credit
of an account with new transactions (its income and credit series), the payments of each
group a new row joins in that account (its merchant, or its description's key without one:
the ``group_key`` each row keeps) (``repository.load_increment``,
``pipeline.enrich_increment``); only those groups' series and
income are swapped, and only rows whose enrichment changed are written. A change of the bank's
rules, or a newly trained text model, makes the next run a full one, so no transaction keeps a
category from rules that no longer exist. ``tests/batch/test_increments_equal_full.py`` holds
the increments to a full run's answer.

A merchant alias added since the last run (``tactful rules alias``) does the same: the
directory it extends names merchants and categories on old rows too.

One enrich runs at a time (the ``enrich`` lock of ``store/runs.py``): a second one waits or is
told which run holds it. A full run that died (``crashed``, or ``failed`` on an error) is
resumed by the next full run with the same rules and text model: customers up to the last one
of its last committed shard are skipped, unless they have transactions not yet enriched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import partial

import polars as pl
from sqlalchemy import Connection, insert, select, update

from tactful.batch import codec
from tactful.batch.executor import Executor, LocalExecutor
from tactful.batch.shards import shards_of
from tactful.domain.enums import ConsentPurpose
from tactful.enrich import repository as repo
from tactful.enrich.behaviour import fit_behaviour, no_answers
from tactful.enrich.classifier import (
    TextCategorizer,
    calibration_set,
    training_problem,
    training_set,
)
from tactful.enrich.income import IncomeResult
from tactful.enrich.pipeline import (
    EnrichContext,
    EnrichResult,
    categorized,
    credit_sums,
    enrich_increment,
    enrich_shard,
    group_keys,
)
from tactful.enrich.recurring import SeriesResult
from tactful.store import runs, schema
from tactful.store.store import Store
from tactful.trust import consent

# A shard's result crosses to and from Spark workers as data (batch/codec.py), never pickled.
for _result in (EnrichResult, SeriesResult, IncomeResult):
    codec.register(_result)

Progress = Callable[[int], None]
TRAINING_CUSTOMERS = 1_000
"""Customers sampled to train the text model: enough merchants, a bounded cost."""
INCREMENT_SHARDS = 4
"""Shards' worth of customers in one part of a night's increment. A part reads the groups its
new rows can change, about a sixth of its customers' histories (measured at 1M transactions:
127k of 1M rows for 2,710 customers), so four shards' customers hold fewer rows than one shard
of a full run; and each part costs a fixed ~0.2 s of queries, small frames and a commit
(one day at 1M: 5.7 s in parts of 500 customers, 4.6 s in one part)."""


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
    resumed_from: int | None = None
    """The crashed full run this one completed, skipping the customers it had committed."""


LAYOUT = 2
"""What an enrich run keeps in the store for the next one to build on: 1, each transaction's
merchant key; 2, its group key too (``repository.load_increment`` reads groups by it, a
payment without a merchant by its description's key: migration 0020). A last run of another
layout (or none: before migration 0018) makes the next run full."""


@dataclass(frozen=True, slots=True)
class LastRun:
    rules_version: int
    text_model_id: int | None
    started_at: datetime
    layout: int | None
    as_of: date | None


def _last_run(store: Store) -> LastRun | None:
    """The last finished run: its rules version, text model, start, layout and day."""
    r = schema.enrich_runs.c
    rows = store.rows(
        select(r.rules_version, r.text_model_id, r.started_at, r.layout, r.as_of)
        .where(r.status == "done")
        .order_by(r.id.desc())
        .limit(1)
    )
    return LastRun(int(rows[0][0]), *rows[0][1:]) if rows else None


@dataclass(frozen=True, slots=True)
class ResumePoint:
    run_id: int
    after: str
    """The last customer of the crashed run's last committed shard."""


def resume_point(
    store: Store, *, rules_version: int, text_model_id: int | None
) -> ResumePoint | None:
    """Where a full run may pick up: the latest run, if it is a full run that did not finish
    (``crashed`` or ``failed``), committed at least one shard, and used the same rules and
    text model (with others, its shards would not be what this run writes)."""
    r = schema.enrich_runs.c
    rows = store.rows(
        select(r.id, r.status, r.mode, r.rules_version, r.text_model_id, r.resume_after)
        .order_by(r.id.desc())
        .limit(1)
    )
    if not rows:
        return None
    run_id, status, mode, version, model_id, after = rows[0]
    if (
        status in ("crashed", "failed")
        and mode == "full"
        and after is not None
        and (version, model_id) == (rules_version, text_model_id)
    ):
        return ResumePoint(int(run_id), str(after))
    return None


def train_text_model(
    store: Store, ctx: EnrichContext, customer_ids: Sequence[str]
) -> tuple[int, TextCategorizer] | None:
    """Train the text categorizer on what rules, the MCC and customers labelled; store it and
    return it with its id (None when the labels are too few to learn from).

    The behaviour step is fitted on the same sample categorized with the new model (the
    merchants no word read, by how the customers pay them: ``enrich.behaviour``) and stored
    under the model's id, so every shard of every later run applies the same answers."""
    sample = list(customer_ids)[:: max(1, -(-len(customer_ids) // TRAINING_CUSTOMERS))]
    raw = [repo.load_shard(store, shard) for shard in shards_of(sample, size=1_000)]
    if not raw:
        return None
    plain = replace(ctx, classifier=None, behaviour=no_answers())
    labelled = pl.concat([categorized(f, plain) for f in raw], how="diagonal_relaxed")
    texts, labels = training_set(labelled)
    if training_problem(texts, labels) is not None:
        return None
    model = TextCategorizer().fit(texts, labels, calibration=calibration_set(labelled))
    model_id = repo.save_text_model(store, model, rows=len(texts))
    with_model = replace(plain, classifier=model)
    answers, _ = fit_behaviour(
        pl.concat([categorized(f, with_model) for f in raw], how="diagonal_relaxed")
    )
    repo.save_behaviour(store, model_id, answers)
    return model_id, model


Shard = tuple[tuple[str, ...], pl.DataFrame, frozenset[str]]
"""A shard's customers, their transactions, and those of them holding profiling consent."""


def _work(ctx: EnrichContext, shard: Shard) -> tuple[tuple[str, ...], EnrichResult]:
    ids, frame, profiling = shard
    return ids, enrich_shard(frame, ctx, profiling=profiling)


Part = tuple[tuple[str, ...], pl.DataFrame, frozenset[str], pl.DataFrame, pl.DataFrame]
"""A shard of a night's increment: its customers, what ``repository.load_increment`` read
for them, those holding profiling consent, their accounts' spans, and the debits their
credits could send back."""


def _work_increment(ctx: EnrichContext, part: Part) -> tuple[tuple[str, ...], EnrichResult]:
    ids, frame, profiling, spans, undone = part
    return ids, enrich_increment(frame, ctx, profiling=profiling, spans=spans, undone=undone)


def run_enrich(
    store: Store,
    *,
    full: bool = False,
    retrain: bool = False,
    shard_size: int = 500,
    executor: Executor | None = None,
    progress_total: Callable[[int], None] | None = None,
    progress: Progress | None = None,
    wait: float = 0.0,
    on_wait: Callable[[str], None] | None = None,
) -> EnrichReport:
    """Enrich the store; ``progress`` is called with the customers done after each shard.

    When another enrich is running, wait up to ``wait`` seconds for it (``on_wait`` hears
    whom we wait for), then raise ``RunInProgressError`` naming it."""
    with runs.exclusive(store, "enrich", wait=wait, on_wait=on_wait) as lock, runs.Heartbeat(
        store
    ):
        runs.mark_crashed(store)
        return _enrich(
            store, lock, full=full, retrain=retrain, shard_size=shard_size, executor=executor,
            progress_total=progress_total, progress=progress,
        )


def _pending(store: Store, withdrawn: Sequence[str]) -> list[str]:
    """Customers an incremental run enriches: those with transactions not yet enriched, and
    those who withdrew profiling consent since, whose series and income streams the run
    removes even without new data."""
    return sorted(set(repo.customers_to_enrich(store, full=False)) | set(withdrawn))


def _enrich(
    store: Store,
    lock: runs.RunLock,
    *,
    full: bool,
    retrain: bool,
    shard_size: int,
    executor: Executor | None,
    progress_total: Callable[[int], None] | None,
    progress: Progress | None,
) -> EnrichReport:
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
    aliases = repo.aliases_changed_at(store)
    if (
        last is None
        or last.rules_version != version
        or last.text_model_id != model_id
        or (aliases is not None and aliases >= last.started_at)  # a merchant alias added since
        or last.layout != LAYOUT
        or last.as_of is None
    ):
        full = True
    mode = "full" if full else "incremental"
    if full or last is None:
        as_of = repo.bank_as_of(store)
    else:  # the store's last day is the later of the last run's and the new transactions'
        as_of = max(d for d in (last.as_of, repo.bank_as_of(store, pending_only=True)) if d)
    ctx = replace(ctx, classifier=model[1] if model else None, as_of=as_of,
                  behaviour=repo.load_behaviour(store, model_id))
    resume = resume_point(store, rules_version=version, text_model_id=model_id) if full else None
    # read once: an increment re-reads these customers whole (their series and income go), a
    # resumed full run adds them to the customers the crashed run had not committed
    withdrawn = [] if full and resume is None else repo.profiled_without_consent(store)
    customers = everyone if full else _pending(store, withdrawn)
    if resume is not None:
        # Customers committed by the crashed run are done, unless new data came since.
        customers = sorted(
            {c for c in customers if c > resume.after} | set(_pending(store, withdrawn)))
    runs_t = schema.enrich_runs
    with store.transaction() as conn:
        run_id = int(
            conn.execute(
                insert(runs_t).values(
                    started_at=started, status="running", mode=mode, rules_version=version,
                    text_model_id=model_id, layout=LAYOUT, as_of=as_of,
                    **runs.Owner.me().values(),
                    resume_after=resume.after if resume else None,
                    resumed_from=resume.run_id if resume else None,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        )
        lock.attach(conn, runs_t, run_id)
    if progress_total:
        progress_total(len(customers))
    if as_of is not None and not full:
        # the series this run does not derive again age with the day (those it does are
        # replaced when their shard is written)
        repo.age_series(store, as_of, skip=withdrawn)
    # a full run (and the customers who withdrew profiling consent, whose series and income
    # go) re-reads whole histories; a night's increment only the groups its rows can change
    whole = customers if full else withdrawn
    gone = set(whole)
    parts = [] if full else [c for c in customers if c not in gone]

    def loaded() -> Iterator[Shard]:
        for ids in shards_of(whole, size=shard_size):
            profiling = consent.consenting(store, [ConsentPurpose.PROFILING], ids)
            yield ids, repo.load_shard(store, ids), frozenset(profiling)

    increments: dict[tuple[str, ...], repo.Increment] = {}

    def loaded_increments() -> Iterator[Part]:
        for ids in shards_of(parts, size=shard_size * INCREMENT_SHARDS):
            profiling = consent.consenting(store, [ConsentPurpose.PROFILING], ids)
            part = repo.load_increment(store, ids, partial(group_keys, ctx=ctx),
                                       partial(credit_sums, ctx=ctx))
            increments[ids] = part
            yield ids, part.frame, frozenset(profiling), part.spans, part.undone

    totals = {"customers": 0, "transactions": 0, "updated": 0, "series": 0, "income_streams": 0}
    mark = resume.after if resume else ""

    def committed(last: str, conn: Connection, written: repo.ShardWrite) -> None:
        """The run's resume point and counts move in the shard's own transaction."""
        conn.execute(update(runs_t).where(runs_t.c.id == run_id).values(
            resume_after=max(mark, last),
            **{key: totals[key] + getattr(written, key) for key in totals}))

    def count(ids: tuple[str, ...], written: repo.ShardWrite) -> None:
        for key in totals:
            totals[key] += getattr(written, key)
        if progress:
            progress(len(ids))

    try:
        for ids, result in executor.map(partial(_work, ctx), loaded()):
            written = repo.write_shard(store, ids, result, also=partial(committed, ids[-1]))
            mark = max(mark, ids[-1])
            count(ids, written)
        for ids, result in executor.map(partial(_work_increment, ctx), loaded_increments()):
            written = repo.write_increment(store, ids, increments.pop(ids), result,
                                           also=partial(committed, ""))
            count(ids, written)
    except BaseException:
        with store.transaction() as conn:
            conn.execute(update(runs_t).where(runs_t.c.id == run_id).values(
                status="failed", finished_at=datetime.now(UTC), **totals))
        raise
    if full and totals["updated"]:
        store.tidy("transactions")  # before the next run reads what this one rewrote
    finished = datetime.now(UTC)
    with store.transaction() as conn:
        conn.execute(update(runs_t).where(runs_t.c.id == run_id).values(
            status="done", finished_at=finished, **totals))
    return EnrichReport(
        run_id=run_id,
        mode=mode,
        rules_version=version,
        text_model_id=model_id,
        seconds=(finished - started).total_seconds(),
        resumed_from=resume.run_id if resume else None,
        **totals,
    )
