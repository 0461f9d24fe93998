"""The rule features the nightly insight run stores for the outbound batch
(``insights.stored_features``), written and read on each store backend."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from tactful.batch.insights import run_insights
from tactful.ingest.loader import Loader
from tactful.insights import stored_features
from tactful.insights.repository import load_inputs
from tactful.insights.rules import features
from tactful.simulate import SimulationConfig, simulate
from tactful.store import schema
from tactful.store.store import Store

CONFIG = SimulationConfig(customers=12, months=2, seed=3, start=date(2025, 1, 1))


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("stored-features-exports")
    simulate(CONFIG, out, "parquet")
    return out


def test_the_nightly_run_writes_every_customers_features_and_they_read_back(
        store: Store, exports: Path, tmp_path: Path) -> None:
    assert stored_features.latest(store) is None  # a new store: the night has not run
    Loader(store, report_dir=tmp_path / "reports").ingest(
        [p for p in sorted(exports.iterdir()) if p.is_file()])
    first = run_insights(store)
    written = stored_features.latest(store)
    assert written == stored_features.Written(first.run_id, first.as_of)
    ids = sorted(str(r[0]) for r in store.rows(select(schema.customers.c.id)))
    got = stored_features.read(store, ids, as_of=first.as_of)
    assert sorted(got) == ids  # every customer, an empty row for one without features
    expected = stored_features.per_customer(
        features(load_inputs(store, ids, as_of=first.as_of), stored_features.STORED),
        stored_features.STORED)
    assert {c: v for c, v in got.items() if v} == expected
    assert any("checking_balance_min_30d" in v for v in got.values())
    assert stored_features.read(store, ids, as_of=date(2000, 1, 1)) == {}

    second = run_insights(store)  # the next night replaces the rows, one per customer
    t = schema.rule_features
    assert store.rows(select(func.count()).select_from(t))[0][0] == len(ids)
    assert {r[0] for r in store.rows(select(t.c.run_id))} == {second.run_id}
    assert stored_features.latest(store) == stored_features.Written(second.run_id, second.as_of)

    with store.transaction() as conn:  # a finished run that wrote none: nothing to read
        conn.execute(delete(t))
    assert stored_features.latest(store) is None
