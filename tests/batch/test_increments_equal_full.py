"""Incremental enrichment is exact: after any sequence of daily increments, each followed by an
incremental ``tactful enrich``, the store holds what one full run over the same data writes --
every enrichment column of every transaction, every series, price change, income stream and pay
change -- on SQLite and PostgreSQL, over random ways to cut the same months into days."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

from tactful.batch.enrich import run_enrich
from tactful.enrich.repository import STORED
from tactful.ingest.loader import Loader
from tactful.simulate import SimulationConfig, simulate
from tactful.store import schema
from tactful.store.store import Store

CONFIG = SimulationConfig(customers=24, months=3, seed=11, start=date(2025, 2, 1))
DERIVED = ("recurring_series", "series_changes", "income_streams", "income_changes")


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("increments-bank")
    simulate(CONFIG, out, "parquet")
    return out


def _cuts(bank: Path, seed: int, tmp: Path) -> list[list[Path]]:
    """The bank as a sequence of imports: the customers, their accounts and consents with the
    first days, then the rest cut at random days, and the last six days one at a time: a day on
which only some customers pay anything, so the others' series age without new data."""
    tx = pl.read_parquet(bank / "transactions.parquet").with_columns(
        pl.col("booked_at").str.slice(0, 10).alias("_day")
    )
    days = sorted(tx.get_column("_day").unique().to_list())
    rng = random.Random(seed)
    cuts = sorted({*rng.sample(days[20:-8], k=4), *days[-6:]})  # the last six days one by one
    return _imports(bank, tx, [days[0], *cuts, "9999-12-31"], tmp / "part")


def _imports(bank: Path, tx: pl.DataFrame, bounds: list[str], to: Path) -> list[list[Path]]:
    """``tx`` (with its booking ``_day``) cut at ``bounds`` into one import each, the first
    with the bank's customers, accounts and consents."""
    parts: list[list[Path]] = []
    for k, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        folder = to.with_name(f"{to.name}-{k}")
        folder.mkdir()
        chunk = tx.filter((pl.col("_day") >= lo) & (pl.col("_day") < hi)).drop("_day")
        chunk.write_parquet(folder / "transactions.parquet")
        files = [folder / "transactions.parquet"]
        if k == 0:
            files = [bank / f for f in ("customers.parquet", "accounts.parquet",
                                        "consents.parquet")] + files
        parts.append(files)
    return parts


def _snapshot(store: Store) -> dict[str, pl.DataFrame]:
    t = schema.transactions
    out = {"transactions": store.frame(select(t.c.id, *[t.c[n] for n in STORED]).order_by(t.c.id))}
    for name in DERIVED:
        table = schema.metadata.tables[name]
        columns = [c for c in table.columns if c.name != "updated_at"]
        keys = [c for c in table.primary_key.columns]
        out[name] = store.frame(select(*columns).order_by(*keys))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_daily_increments_leave_the_store_a_full_run_would(
    store: Store, bank: Path, tmp_path: Path, seed: int
) -> None:
    loader = Loader(store, report_dir=tmp_path / "reports")
    modes, read = [], []
    for files in _cuts(bank, seed, tmp_path):
        loader.ingest(files)
        # parts of 2 x INCREMENT_SHARDS customers: a night's increment in several parts
        report = run_enrich(store, shard_size=2)
        modes.append(report.mode)
        read.append(report.transactions / store.counts()["transactions"])
    assert modes[0] == "full" and set(modes[1:]) == {"incremental"}
    # a day's increment reads the groups its rows join, not the touched customers' histories
    assert max(read[-6:]) < 0.5, read
    increments = _snapshot(store)
    assert increments["recurring_series"].height > 0 and increments["income_streams"].height > 0

    run_enrich(store, full=True, shard_size=7)
    full = _snapshot(store)
    for name, frame in full.items():
        got = increments[name]
        only_full = frame.join(got, on=frame.columns, how="anti", nulls_equal=True)
        only_got = got.join(frame, on=frame.columns, how="anti", nulls_equal=True)
        assert frame.equals(got), (
            f"{name}: increments differ from a full run\nfull run only:\n{only_full.head(5)}"
            f"\nincrements only:\n{only_got.head(5)}"
        )


def _bounced_bill(bank: Path, tmp: Path) -> list[list[Path]]:
    """The bank with one more bill in its first account: a weekly direct debit of an odd sum
    up to mid-April, three of them returned unpaid two days later on a Wednesday, each return
    imported on a night of its own; the nights after the last debit read the bill's debits
    only through the returned sums (``Increment.undone``)."""
    tx = pl.read_parquet(bank / "transactions.parquet")
    account = tx.get_column("account_id")[0]
    template = tx.filter(pl.col("account_id") == account).head(1)
    mondays = [date(2025, 2, 3) + timedelta(days=7 * k) for k in range(11)]
    returned = [date(2025, 2, 12), date(2025, 3, 5), date(2025, 4, 16)]
    rows = [(f"TBILL{k:03d}", day, -91259) for k, day in enumerate(mondays)]
    rows += [(f"TBACK{k:03d}", day, 91259) for k, day in enumerate(returned)]
    bill = pl.concat([
        template.with_columns(
            pl.lit(i).alias("transaction_id"),
            pl.lit(f"{d.isoformat()}T10:00:00-08:00").alias("booked_at"),
            pl.lit(d.isoformat()).alias("value_at"),
            pl.lit(a, dtype=pl.Int64).alias("amount_minor"),
            pl.lit("LAKESIDE LENDING DIRECT DEBIT").alias("description"),
            pl.lit("LAKESIDE LENDING").alias("counterparty"),
            pl.lit(None, dtype=pl.String).alias("mcc"),
            pl.lit("direct_debit").alias("channel"),
            pl.lit("posted").alias("status"),
        )
        for i, d, a in rows
    ])
    tx = pl.concat([tx, bill]).with_columns(pl.col("booked_at").str.slice(0, 10).alias("_day"))
    nights = [day.isoformat() for r in returned for day in (r, r + timedelta(days=1))]
    bounds = [str(tx.get_column("_day").min()), *nights, "9999-12-31"]
    return _imports(bank, tx, bounds, tmp / "bill")


def test_a_returned_debit_is_seen_on_a_night_its_bill_is_not_read(
    store: Store, bank: Path, tmp_path: Path
) -> None:
    loader = Loader(store, report_dir=tmp_path / "reports")
    for files in _bounced_bill(bank, tmp_path):
        loader.ingest(files)
        run_enrich(store, shard_size=2)
    increments = _snapshot(store)
    run_enrich(store, full=True, shard_size=7)
    full = _snapshot(store)
    for name, frame in full.items():
        assert frame.equals(increments[name]), name
    # the three returns are no income: had the last nights missed the debits, they would be
    streams = full["income_streams"]
    assert streams.filter(pl.col("typical_amount_minor") == 91259).is_empty(), streams
