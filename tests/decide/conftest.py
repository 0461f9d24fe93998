"""What the decide tests share: a simulated bank loaded, consented, enriched and through the
nightly insight run, as a SQLite file a test copies or opens."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from sqlalchemy import text

from tactful.batch.enrich import run_enrich
from tactful.batch.insights import run_insights
from tactful.ingest.loader import Loader
from tactful.simulate import SimulationConfig, simulate
from tactful.store.store import Store


def nightly_bank(out: Path, config: SimulationConfig) -> Path:
    """The SQLite file of ``config``'s bank after ingest and a night's run (enrich, insights),
    every customer consenting to profiling, so every detector has data."""
    simulate(config, out / "exports", "parquet")
    db = out / "tactful.db"
    store = Store.open(f"sqlite:///{db}")
    Loader(store, report_dir=out / "reports").ingest(
        [p for p in sorted((out / "exports").iterdir()) if p.is_file()])
    ids = store.frame(text("select id from customers"))["id"]
    with store.transaction() as conn:
        store.write(conn, "consents", pl.DataFrame({
            "customer_id": ids, "purpose": "profiling", "status": "granted",
            "at": datetime(2024, 1, 1, tzinfo=UTC), "source": "test"}))
    run_enrich(store)
    run_insights(store)
    store.close()
    return db
