"""The ``spark`` executor: the same results as ``local``, shard for shard and row for row, and
shard values that cross to its workers as data, not pickles."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select

from tactful.batch import codec
from tactful.batch.enrich import run_enrich
from tactful.batch.executor import get_executor
from tactful.errors import ConfigError
from tactful.ingest.loader import Loader
from tactful.simulate import SimulationConfig, simulate
from tactful.store import schema
from tactful.store.store import Store

CONFIG = SimulationConfig(customers=24, months=4, seed=11, start=date(2025, 1, 1))
ENRICHED = ("transactions", "recurring_series", "series_changes", "income_streams",
            "income_changes")
RUN_TIME = {"updated_at"}
"""Columns that say when a run wrote, not what it computed."""


def test_shard_values_round_trip_without_pickles() -> None:
    frame = pl.DataFrame({"id": ["t1", "t2"], "amount": [-1250, 300],
                          "at": [datetime(2025, 1, 2, tzinfo=UTC)] * 2})
    value = (("c1", "c2"), frame, frozenset({"c2"}), [date(2025, 1, 1), None, 1.5, True])
    back = codec.decode(codec.encode(value))
    assert back[0] == ("c1", "c2") and back[2] == frozenset({"c2"}) and back[3] == value[3]
    assert back[1].equals(frame) and back[1].schema == frame.schema


def test_unregistered_types_are_refused_by_name() -> None:
    @dataclass(frozen=True)
    class Secret:
        x: int

    with pytest.raises(ConfigError, match="Secret is not registered"):
        codec.encode(Secret(1))
    with pytest.raises(ConfigError, match="cannot hold set"):
        codec.encode({"a"})
    with pytest.raises(ConfigError, match="window must be >= 1, got 0"):
        get_executor("spark", window=0)


@pytest.mark.spark
def test_results_come_back_in_input_order(spark: Any, tmp_path: Path) -> None:
    for options in ({"window": 4}, {"window": 4, "staging": tmp_path}):
        executor = get_executor("spark", spark=spark, **options)
        assert list(executor.map(math.factorial, range(7))) == [
            math.factorial(x) for x in range(7)
        ]
    assert list(tmp_path.iterdir()) == []  # the staged Parquet is removed after each window


def _loaded(bank: Path, tmp_path: Path, name: str) -> Store:
    store = Store.open(f"sqlite:///{tmp_path / name}.db")
    exports = [p for p in sorted(bank.iterdir()) if p.is_file()]
    Loader(store, report_dir=tmp_path / f"reports-{name}").ingest(exports)
    return store


def _stored(store: Store) -> dict[str, pl.DataFrame]:
    out = {}
    for name in ENRICHED:
        table = schema.metadata.tables[name]
        keys = [c for c in table.primary_key.columns] or list(table.columns)
        cols = [c for c in table.columns if c.name not in RUN_TIME]
        out[name] = store.frame(select(*cols).order_by(*keys))
    return out


@pytest.mark.spark
def test_enrich_on_spark_stores_what_local_stores(spark: Any, tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    simulate(CONFIG, bank, "parquet")
    here, there = _loaded(bank, tmp_path, "local"), _loaded(bank, tmp_path, "spark")
    try:
        mine = run_enrich(here, shard_size=5)
        theirs = run_enrich(there, shard_size=5,
                            executor=get_executor("spark", spark=spark, window=3))
        assert (theirs.customers, theirs.updated, theirs.series, theirs.income_streams) == (
            mine.customers, mine.updated, mine.series, mine.income_streams)
        local, remote = _stored(here), _stored(there)
        assert local["transactions"]["category_source"].null_count() == 0
        assert local["recurring_series"].height > 0 and local["income_streams"].height > 0
        for name in ENRICHED:
            assert remote[name].equals(local[name]), name
    finally:
        here.close()
        there.close()


@pytest.mark.spark
def test_the_cli_enriches_on_spark(spark: Any, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tactful.cli.app import app

    data = Path(__file__).parents[1] / "data"
    files = [str(data / n) for n in ("customers.csv", "accounts.csv",
                                     "transactions_sparkasse_de.csv")]
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    ingested = runner.invoke(app, ["ingest", *files, "--db", db,
                                   "--report-dir", str(tmp_path / "r")], catch_exceptions=False)
    assert "rejects" in ingested.output  # exit 3: the sample files hold rows to reject
    # The session the fixture started is the one Spark's getOrCreate hands the command.
    result = runner.invoke(app, ["enrich", "--db", db, "--executor", "spark",
                                 "--spark-master", "local[2]"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "full enrichment of" in result.output and "rows updated" in result.output


def test_the_session_collects_a_window_of_big_shards(spark: Any) -> None:
    """Every window's shard results come back to the driver: Spark's 1 GB default
    ``maxResultSize`` failed a 3M-transaction run, so the session raises it unless the caller
    set it; the caller's own settings win (the test session asked for a 1 GB driver heap)."""
    from tactful.batch.spark import DRIVER_MAX_RESULT

    assert spark.conf.get("spark.driver.maxResultSize") == DRIVER_MAX_RESULT
    assert spark.sparkContext.getConf().get("spark.driver.memory") == "1g"
