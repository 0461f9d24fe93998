"""``tactful run``'s insight step: every customer, shard by shard, through the catalog.

Per shard: load the inputs as of the run's day, store the customers' rule features for the
outbound decision batch (``insights.stored_features``), run the catalog (a pure function), drop
what is live or cooling down, store the rest, and expire what has outlived its expiry. A shard
commits on its own, so an interrupted run keeps what it finished and a re-run adds only what is
missing (insight ids are deterministic).

One insight run at a time (the ``insights`` lock of ``store/runs.py``): two at once would
compute the same new insight ids and meet on the primary key. A second run waits or is told
which run holds the lock; a run that died is marked ``crashed`` when the next one starts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import insert, select, update

from tactful.batch.shards import shards_of
from tactful.errors import NotFoundError
from tactful.insights import lifecycle, stored_features
from tactful.insights import repository as repo
from tactful.insights.catalog import Catalog, with_ids
from tactful.insights.inputs import InsightSettings
from tactful.models.late_income import production_late_risk
from tactful.models.registry import ModelRegistry
from tactful.models.shortfall import production_risk
from tactful.store import runs, schema
from tactful.store.store import Store


@dataclass(frozen=True)
class InsightReport:
    run_id: int
    as_of: date
    customers: int
    produced: int
    suppressed: int
    expired: int
    by_detector: dict[str, int]
    seconds: float


def run_clock(as_of: date, now: datetime | None = None) -> datetime:
    """When a run "happens": now for today's data, the end of ``as_of`` for a replayed day, so
    expiry and cooldown count from the day the data describes."""
    now = now or datetime.now(UTC)
    if as_of >= now.date() - timedelta(days=1):
        return now
    return datetime.combine(as_of, time(23, 59), UTC)


def run_insights(
    store: Store,
    *,
    catalog: Catalog | None = None,
    as_of: date | None = None,
    settings: InsightSettings | None = None,
    customer_ids: list[str] | None = None,
    shard_size: int = 1_000,
    progress_total: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    wait: float = 0.0,
    on_wait: Callable[[str], None] | None = None,
) -> InsightReport:
    """Produce insights for ``customer_ids`` (default every customer) as of ``as_of``.

    When another insight run is running, wait up to ``wait`` seconds for it (``on_wait``
    hears whom we wait for), then raise ``RunInProgressError`` naming it."""
    with runs.exclusive(store, "insights", wait=wait, on_wait=on_wait) as lock, runs.Heartbeat(
        store
    ):
        runs.mark_crashed(store)
        return _run(store, lock, catalog=catalog, as_of=as_of, settings=settings,
                    customer_ids=customer_ids, shard_size=shard_size,
                    progress_total=progress_total, progress=progress)


def _run(
    store: Store,
    lock: runs.RunLock,
    *,
    catalog: Catalog | None,
    as_of: date | None,
    settings: InsightSettings | None,
    customer_ids: list[str] | None,
    shard_size: int,
    progress_total: Callable[[int], None] | None,
    progress: Callable[[int], None] | None,
) -> InsightReport:
    started = datetime.now(UTC)
    catalog = catalog or Catalog.default()
    as_of = as_of or repo.latest_booking_day(store)
    if as_of is None:
        raise NotFoundError("the store has no transactions: nothing to produce insights from")
    at = run_clock(as_of)
    c = schema.customers
    ids = customer_ids or [r[0] for r in store.rows(select(c.c.id).order_by(c.c.id))]
    runs_t = schema.insight_runs
    with store.transaction() as conn:
        run_id = int(conn.execute(insert(runs_t).values(
            started_at=started, status="running", as_of=as_of, **runs.Owner.me().values(),
        )).inserted_primary_key[0])  # type: ignore[index]
        lock.attach(conn, runs_t, run_id)
    if progress_total:
        progress_total(len(ids))
    produced = suppressed = expired = 0
    by_detector: dict[str, int] = {}
    # the promoted shortfall model, if any: the shortfall warning is then its probability's
    registry = ModelRegistry(store)
    risk = production_risk(registry)
    late = production_late_risk(registry)  # and the late-income warning likewise
    try:
        for shard in shards_of(ids, size=shard_size):
            data = repo.load_inputs(store, shard, as_of=as_of, settings=settings)
            if risk is not None or late is not None:
                data = replace(data, shortfall_risk=risk, late_income_risk=late)
            # the rule features, once, for the outbound batch (insights.stored_features)
            stored_features.write(store, data, run_id=run_id)
            existing = repo.existing(store, shard)
            expired += repo.expire(store, lifecycle.due_to_expire(existing, at), at)
            found = with_ids(catalog.findings(data))
            fresh = lifecycle.fresh(found, existing, at)
            suppressed += found.height - fresh.height
            new = catalog.render(fresh, data, at)
            produced += repo.write_insights(store, new, run_id=run_id)
            for ins in new:
                by_detector[ins.detector] = by_detector.get(ins.detector, 0) + 1
            if progress:
                progress(len(shard))
    except BaseException:
        with store.transaction() as conn:
            conn.execute(update(runs_t).where(runs_t.c.id == run_id).values(
                status="failed", finished_at=datetime.now(UTC), customers=len(ids),
                produced=produced, suppressed=suppressed, expired=expired))
        raise
    finished = datetime.now(UTC)
    with store.transaction() as conn:
        conn.execute(update(runs_t).where(runs_t.c.id == run_id).values(
            status="done", finished_at=finished, customers=len(ids), produced=produced,
            suppressed=suppressed, expired=expired))
    return InsightReport(run_id, as_of, len(ids), produced, suppressed, expired,
                         dict(sorted(by_detector.items())), (finished - started).total_seconds())
