"""Consent binds at every stage that uses personal data, on a small simulated bank (issue 13,
item 6): enrichment profiles only customers with profiling consent and un-profiles those who
withdraw it; a withdrawal of personalization -- by ``tactful consent`` or in an ingested
consents file -- retracts the customer's open insights at once, and reads filter too."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tactful.batch.enrich import run_enrich
from tactful.batch.insights import run_insights
from tactful.cli.app import app
from tactful.domain.enums import ConsentPurpose, ConsentStatus
from tactful.domain.records import Consent
from tactful.ingest.loader import Loader
from tactful.profile import load_profile
from tactful.simulate import SimulationConfig, simulate
from tactful.store import schema
from tactful.store.store import Store
from tactful.trust import consent

CONFIG = SimulationConfig(customers=40, months=5, seed=13, start=date(2025, 1, 1))
PROFILING = [ConsentPurpose.PROFILING]
runner = CliRunner()


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("consent-bank")
    simulate(CONFIG, out, "parquet")
    return out


def _load(store: Store, bank: Path, reports: Path) -> Store:
    exports = [p for p in sorted(bank.iterdir()) if p.is_file()]
    Loader(store, report_dir=reports).ingest(exports)
    return store


@pytest.fixture
def loaded(store: Store, bank: Path, tmp_path: Path) -> Store:
    """On SQLite and PostgreSQL."""
    return _load(store, bank, tmp_path / "reports")


@pytest.fixture
def loaded_file(sqlite_store: Store, bank: Path, tmp_path: Path) -> Store:
    """On SQLite only: the CLI opens its own store per command (the library paths these
    commands call run on both backends in test_consent.py)."""
    return _load(sqlite_store, bank, tmp_path / "reports")


def _profiled(store: Store) -> set[str]:
    """Customers holding a series or an income stream."""
    held: set[str] = set()
    for table in (schema.recurring_series, schema.income_streams):
        held |= {str(r[0]) for r in store.rows(select(table.c.customer_id).distinct())}
    return held


def test_enrichment_profiles_only_customers_with_profiling_consent(loaded: Store) -> None:
    run_enrich(loaded, shard_size=7)
    everyone = {str(r[0]) for r in loaded.rows(select(schema.customers.c.id))}
    consenting = consent.consenting(loaded, PROFILING)
    profiled = _profiled(loaded)
    assert 0 < len(consenting) < len(everyone)  # the gate has someone on each side
    assert profiled, "nobody was profiled: the test would pass for the wrong reason"
    assert len(profiled - consenting) == 0

    # One profiled customer withdraws; the next (incremental) run removes what it built.
    who = sorted(profiled)[0]
    consent.record(loaded, Consent(who, ConsentPurpose.PROFILING, ConsentStatus.WITHDRAWN,
                                   datetime.now(UTC)))
    again = run_enrich(loaded)
    assert again.mode == "incremental" and again.customers == 1
    assert who not in _profiled(loaded)
    assert _profiled(loaded) == profiled - {who}
    sc, t, a = schema.series_changes, schema.transactions, schema.accounts
    assert not loaded.rows(select(sc.c.series_id).where(sc.c.customer_id == who))
    tagged = loaded.rows(
        select(t.c.id).select_from(t.join(a, a.c.id == t.c.account_id))
        .where(a.c.customer_id == who, t.c.series_id.is_not(None))
    )
    assert tagged == []


def _live_personalized(store: Store) -> dict[str, list[str]]:
    i = schema.insights
    out: dict[str, list[str]] = {}
    for cid, iid in store.rows(select(i.c.customer_id, i.c.insight_id).where(
            i.c.state == "live", i.c.consent_purpose == "personalization")):
        out.setdefault(str(cid), []).append(str(iid))
    return out


def _states(store: Store, ids: list[str]) -> set[str]:
    i = schema.insights
    return {str(r[0]) for r in store.rows(select(i.c.state).where(i.c.insight_id.in_(ids)))}


def _shown(store: Store, customer_id: str) -> int:
    """How many insights needing personalization ``tactful insights`` shows the customer."""
    listed = runner.invoke(app, ["insights", customer_id, "--db", store.url])
    assert listed.exit_code == 0, listed.output
    i = schema.insights
    needing = {str(r[0]) for r in store.rows(select(i.c.insight_id).where(
        i.c.customer_id == customer_id, i.c.consent_purpose == "personalization"))}
    return sum(iid in listed.output.replace("\n", "") for iid in needing)


def test_a_withdrawal_retracts_live_insights_at_once(loaded_file: Store, tmp_path: Path) -> None:
    loaded = loaded_file
    run_enrich(loaded)
    run_insights(loaded)
    live = _live_personalized(loaded)
    first, second = sorted(live, key=lambda c: (-len(live[c]), c))[:2]
    db = loaded.url

    shown = runner.invoke(app, ["insights", first, "--db", db])
    assert shown.exit_code == 0 and live[first][0] in shown.output.replace("\n", "")

    # by the command
    result = runner.invoke(app, ["consent", first, "--purpose", "personalization", "--withdraw",
                                 "--db", db])
    assert result.exit_code == 0, result.output
    assert f"{len(live[first])} open insight(s) retracted" in result.output
    assert _states(loaded, live[first]) == {"retracted"}
    assert _shown(loaded, first) == 0
    assert not set(live[first]) & {i.insight_id for i in load_profile(loaded, first).insights}

    # by an ingested consents file
    path = tmp_path / "consents.csv"
    at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    path.write_text(f"customer_id,purpose,status,at,source\n"
                    f"{second},personalization,withdrawn,{at},app\n", encoding="utf-8")
    ingested = runner.invoke(app, ["ingest", str(path), "--db", db,
                                   "--report-dir", str(tmp_path / "reports")])
    assert ingested.exit_code == 0, ingested.output
    assert f"retracted {len(live[second])} open insight(s)" in ingested.output
    assert _states(loaded, live[second]) == {"retracted"}
    assert _shown(loaded, second) == 0

    # a re-grant brings nothing retracted back, and the others were not touched
    regrant = runner.invoke(app, ["consent", first, "--purpose", "personalization", "--grant",
                                  "--db", db])
    assert regrant.exit_code == 0 and "0 open insight(s) retracted" in regrant.output
    assert _states(loaded, live[first]) == {"retracted"}
    others = [iid for cid, ids in live.items() if cid not in (first, second) for iid in ids]
    assert _states(loaded, others) <= {"live"}


def test_reads_filter_a_withdrawal_stored_behind_the_door(loaded_file: Store) -> None:
    """A consent row written straight into the table (a restore, a replica catching up) did
    not retract anything; the insight list and the profile view still hide the insights."""
    loaded = loaded_file
    run_enrich(loaded)
    run_insights(loaded)
    live = _live_personalized(loaded)
    who = max(sorted(live), key=lambda c: len(live[c]))
    with loaded.transaction() as conn:
        loaded.write(conn, "consents", pl.DataFrame({
            "customer_id": [who], "purpose": ["personalization"], "status": ["withdrawn"],
            "at": [datetime.now(UTC)], "source": ["restore"]}))
    assert _states(loaded, live[who]) == {"live"}
    assert _shown(loaded, who) == 0
    assert not set(live[who]) & {i.insight_id for i in load_profile(loaded, who).insights}
