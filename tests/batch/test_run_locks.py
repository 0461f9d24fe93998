"""Two batch runs of the same command at once, on SQLite and PostgreSQL: the second is told
which run holds the lock, or queues behind it; neither meets the other on a primary key."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tactful.batch.enrich import run_enrich
from tactful.batch.insights import InsightReport, run_insights
from tactful.errors import RunInProgressError
from tactful.ingest.loader import Loader
from tactful.insights import repository as insights_repo
from tactful.simulate import SimulationConfig, simulate
from tactful.store.store import Store

CONFIG = SimulationConfig(customers=25, months=4, seed=8, start=date(2025, 1, 1))


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("locks-bank")
    simulate(CONFIG, out, "parquet")
    return out


@pytest.fixture
def enriched(store: Store, bank: Path, tmp_path: Path) -> Store:
    Loader(store, report_dir=tmp_path).ingest(p for p in sorted(bank.iterdir()) if p.is_file())
    run_enrich(store)
    return store


def _first_run_paused_before_writing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> tuple[threading.Thread, threading.Event, threading.Event, dict[str, Any]]:
    """An insight run in a thread that stops right before it writes its first insights, so a
    second run can start while the first has computed the same new insight ids."""
    reached, release = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}
    original: Callable[..., int] = insights_repo.write_insights

    def paused(*args: Any, **kwargs: Any) -> int:
        if threading.current_thread().name == "first-run" and not reached.is_set():
            reached.set()
            release.wait(120)
        return original(*args, **kwargs)

    monkeypatch.setattr(insights_repo, "write_insights", paused)

    def first() -> None:
        try:
            outcome["report"] = run_insights(store)
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=first, name="first-run")
    thread.start()
    assert reached.wait(120), "the first run never reached its first write"
    return thread, reached, release, outcome


def test_a_second_insight_run_is_refused_naming_the_first(
    enriched: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread, _, release, outcome = _first_run_paused_before_writing(enriched, monkeypatch)
    try:
        with pytest.raises(RunInProgressError, match=r"^another insights run is in progress: "
                           r"insight run 1 \(pid \d+ on .+, since .+ UTC\); wait for it"):
            run_insights(enriched)
    finally:
        release.set()
        thread.join()
    assert "error" not in outcome, outcome.get("error")
    first: InsightReport = outcome["report"]
    assert first.run_id == 1 and first.produced > 0


def test_a_second_insight_run_with_wait_queues_behind_the_first(
    enriched: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread, _, release, outcome = _first_run_paused_before_writing(enriched, monkeypatch)
    told: list[str] = []

    def waiting(why: str) -> None:
        told.append(why)
        release.set()  # the first run goes on only once the second is queued behind it

    try:
        second = run_insights(enriched, wait=120, on_wait=waiting)
    finally:
        release.set()
        thread.join()
    first: InsightReport = outcome["report"]
    assert told and told[0].startswith("waiting for insight run 1 (pid ")
    assert (second.run_id, second.produced, second.suppressed) == (2, 0, first.produced)


def test_a_second_enrich_is_refused_while_one_runs(enriched: Store) -> None:
    seen: list[BaseException] = []

    def meanwhile(_done: int) -> None:
        if not seen:
            try:
                run_enrich(enriched, full=True)
            except RunInProgressError as exc:
                seen.append(exc)

    report = run_enrich(enriched, full=True, shard_size=10, progress=meanwhile)
    assert len(seen) == 1
    assert str(seen[0]).startswith(
        f"another enrich run is in progress: enrich run {report.run_id} (pid "
    )
