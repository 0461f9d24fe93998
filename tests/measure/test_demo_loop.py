"""The demo's closed loop on a small simulated bank: decisions under the wording experiment,
delivered by the outbox in the arm's words, answered by the simulated customers, measured on
one HTML page with the experiment's per-arm intervals and its sample-ratio check."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select

from tactful.batch.enrich import run_enrich
from tactful.batch.insights import run_insights
from tactful.cli.demo_loop import stars
from tactful.ingest.loader import Loader
from tactful.insights.catalog import Catalog
from tactful.service.loop import WORDING, run_closed_loop
from tactful.simulate import SimulationConfig, simulate
from tactful.simulate.simulator import Simulator
from tactful.store import schema
from tactful.store.store import Store


def test_the_loop_ends_in_a_page_with_the_experiments_result(tmp_path: Path) -> None:
    exported = SimulationConfig(customers=60, months=2, seed=5, start=date(2025, 1, 1))
    simulate(exported, tmp_path / "bank", "parquet")
    store = Store.open(f"sqlite:///{tmp_path / 't.db'}")
    Loader(store, report_dir=tmp_path / "reports").ingest(
        [p for p in sorted((tmp_path / "bank").iterdir()) if p.is_file()])
    run_enrich(store)
    run_insights(store, catalog=Catalog.default())
    world = Simulator(SimulationConfig(customers=60, months=3, seed=5, start=date(2025, 1, 1)))
    end = datetime.combine(world.config.end, time(), tzinfo=UTC) - timedelta(days=1)
    report = run_closed_loop(store, respond=lambda ds: stars(world.respond(ds)),
                             out=tmp_path / "measure.html", window_end=end)

    assert report.messages > 0
    assert report.delivery.get("sent", 0) == report.outcomes["delivered"] > 0
    assert report.outcomes.get("impression", 0) > 0  # the customers answered
    arms = {a.arm: a.rate.n for a in report.experiment.arms}
    assert set(arms) == {"plain", "friendly", "short"} and sum(arms.values()) == 60
    assert 0.0 <= report.experiment.srm.p_value <= 1.0
    html = report.page.read_text(encoding="utf-8")
    assert f"<h3>{WORDING} (click, 60 customers)" in html
    assert "Sample ratio" in html or "Sample-ratio mismatch" in html
    assert html.count("<img") == 3  # CTR, weekly trend, the experiment's arms
    d, o = schema.decisions, schema.outbox
    titles: dict[str, set[bool]] = {}
    for logged, title in store.rows(select(d.c.experiments, o.c.title).join(
            o, o.c.decision_id == d.c.decision_id)):
        arm = logged[WORDING] if isinstance(logged, dict) else None
        titles.setdefault(str(arm), set()).add(str(title).startswith(
            ("Good to know: ", "Gut zu wissen: ")))
    assert titles["friendly"] == {True} and True not in titles.get("plain", set())
