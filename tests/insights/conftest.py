"""A small simulated bank, ingested and enriched through the product's own path, shared by the
insight tests: the detectors are exercised on realistic data, not on hand-made rows only."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import text

from tactful.batch.enrich import run_enrich
from tactful.ingest.loader import Loader
from tactful.insights import repository as repo
from tactful.insights.inputs import InsightInputs
from tactful.simulate import SimulationConfig, simulate
from tactful.store.store import Store

CONFIG = SimulationConfig(customers=160, months=7, seed=11, start=date(2025, 1, 1))


@pytest.fixture(scope="session")
def bank_exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("insight-bank")
    simulate(CONFIG, out, "parquet")
    return out


@pytest.fixture(scope="session")
def bank_store(bank_exports: Path, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The bank in SQLite, enriched, with a budget and a savings goal set by two customers."""
    db = tmp_path_factory.mktemp("insight-db") / "tactful.db"
    store = Store.open(f"sqlite:///{db}")
    exports = [p for p in sorted(bank_exports.iterdir()) if p.is_file()]
    Loader(store, report_dir=db.parent / "reports").ingest(exports)
    # Series and income streams are built only with profiling consent, which most simulated
    # customers deny; here every customer grants it, so the detectors that read series see the
    # whole bank (the consent gate has its own tests in tests/trust/test_consent.py).
    ids = store.frame(text("select id from customers"))["id"]
    with store.transaction() as conn:
        store.write(conn, "consents", pl.DataFrame({
            "customer_id": ids, "purpose": "profiling", "status": "granted",
            "at": datetime.now(UTC), "source": "test"}))
    run_enrich(store)
    accounts = store.frame(text(
        "select id, customer_id, currency, balance_minor from accounts "
        "where type = 'checking' order by id limit 2"))
    (_, c1, cur1, _), (a2, c2, cur2, bal2) = accounts.rows()
    repo.set_budget(store, c1, "FOOD_AND_DRINK", 100, cur1)
    repo.add_goal(store, goal_id="G-1", customer_id=c2, name="Holiday", account_id=a2,
                  target_minor=max(int(bal2 or 0), 1) * 2, currency=cur2)
    return store


@pytest.fixture(scope="session")
def as_of(bank_store: Store) -> date:
    day = repo.latest_booking_day(bank_store)
    assert day is not None
    return day - timedelta(days=1)


@pytest.fixture(scope="session")
def inputs(bank_store: Store, as_of: date) -> InsightInputs:
    """Every customer as of the bank's last full day, everyone at level advanced, plus what the
    simulator does not book or that a small bank rarely shows: a duplicate card charge, a new
    account, a salary that is six days late."""
    ids = bank_store.frame(text("select id from customers"))["id"]
    data = repo.load_inputs(bank_store, ids.to_list(), as_of=as_of)
    card = data.transactions.filter(
        (pl.col("channel") == "card") & (pl.col("amount_minor") < 0)
        & (pl.col("status") == "posted")
        & (pl.col("booked_on") >= as_of - timedelta(days=4)) & pl.col("series_id").is_null()
    ).head(1)
    twin = card.with_columns(pl.col("id") + "-twin",
                             pl.col("booked_at") + pl.duration(minutes=3))
    accounts = data.accounts.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit(as_of - timedelta(days=3)))
        .otherwise(pl.col("opened_on")).alias("opened_on"))
    regular = (pl.col("schedule") == "monthly") & (pl.col("status") == "active")
    first = regular & (pl.int_range(pl.len()) == pl.int_range(pl.len()).filter(regular).first())
    income = data.income.with_columns(
        pl.when(first).then(pl.lit(as_of - timedelta(days=6))).otherwise(pl.col("next_date"))
        .alias("next_date"),
        pl.when(first).then(pl.lit(as_of - timedelta(days=37))).otherwise(pl.col("last_date"))
        .alias("last_date"),
    )
    return replace(
        data,
        income=income,
        transactions=pl.concat([data.transactions, twin]),
        accounts=accounts,
        customers=data.customers.with_columns(pl.lit("advanced").alias("personalization_level")),
    )
