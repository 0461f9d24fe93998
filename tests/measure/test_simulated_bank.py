"""Outcomes from a simulated bank's own event feed: its notification events are about the
bank's alerts (pay received, low balance...), which no decision of Tactful caused -- they are
counted, and none is credited to a decision."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from tactful.decide.policy import Placement
from tactful.decide.service import decide_all
from tactful.ingest.loader import Loader
from tactful.measure.outcomes import EVENT_KINDS, outcomes_from_events
from tactful.simulate import SimulationConfig, simulate
from tactful.store import schema
from tactful.store.store import Store


def test_the_simulated_banks_alert_events_are_not_credited_to_decisions(
        tmp_path: Path) -> None:
    simulate(SimulationConfig(customers=25, months=2, seed=3, start=date(2025, 1, 1)),
             tmp_path / "exports", "parquet")
    store = Store.open(f"sqlite:///{tmp_path / 't.db'}")
    Loader(store, report_dir=tmp_path / "reports").ingest(
        [p for p in sorted((tmp_path / "exports").iterdir()) if p.is_file()])
    decide_all(store, placement=Placement.OUTBOUND)
    e = schema.events
    notifications = int(store.rows(select(func.count()).select_from(e).where(
        e.c.kind.in_(list(EVENT_KINDS))))[0][0])
    assert notifications > 0  # the simulated bank does send its alerts
    report = outcomes_from_events(store)
    assert report.events == report.bank_alerts == notifications
    assert report.recorded == 0
