"""The lifecycle on both stores: a run stores insights once, a second run adds nothing, cooldown
holds a subject back, expiry and state changes follow the allowed transitions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select

from tactful.batch.enrich import run_enrich
from tactful.batch.insights import run_clock, run_insights
from tactful.errors import NotFoundError, ValidationError
from tactful.ingest.loader import Loader
from tactful.insights import lifecycle
from tactful.insights import repository as repo
from tactful.store import schema
from tactful.store.store import Store


def _count(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.insights)).scalar_one())


def test_a_run_is_idempotent_and_states_move_forward(
    store: Store, bank_exports: Path, tmp_path: Path
) -> None:
    exports = [p for p in sorted(bank_exports.iterdir()) if p.is_file()]
    Loader(store, report_dir=tmp_path).ingest(exports)
    run_enrich(store)
    first = run_insights(store)
    assert first.produced > 0 and first.produced == _count(store)
    assert sum(first.by_detector.values()) == first.produced
    again = run_insights(store)
    assert again.produced == 0 and again.suppressed == first.produced
    assert _count(store) == first.produced

    customer = next(iter(repo.existing(store, ["x"]).rows()), None)
    assert customer is None
    one = repo.existing(store, [r[0] for r in store.rows(select(schema.customers.c.id))]).row(
        0, named=True)
    listed = repo.list_insights(store, one["customer_id"])
    assert listed and all(r["state"] in lifecycle.OPEN for r in listed)
    assert repo.mark(store, one["insight_id"], "shown") == "live"
    assert repo.mark(store, one["insight_id"], "dismissed") == "shown"
    with pytest.raises(ValidationError, match="is dismissed; it cannot become shown"):
        repo.mark(store, one["insight_id"], "shown")
    with pytest.raises(NotFoundError):
        repo.mark(store, "nope", "shown")

    # a week later the short-lived ones have expired and are not repeated within cooldown
    later = run_insights(store, as_of=first.as_of + timedelta(days=8))
    assert later.expired > 0
    with store.engine.connect() as conn:
        runs = conn.execute(select(func.count()).select_from(schema.insight_runs)).scalar_one()
    assert runs == 3


def _existing(**row: object) -> pl.DataFrame:
    base = {"insight_id": "old", "customer_id": "C", "detector": "d", "subject": "s",
            "state": "live", "expires_at": datetime(2025, 1, 10, tzinfo=UTC),
            "cooldown_until": datetime(2025, 1, 5, tzinfo=UTC)}
    return pl.DataFrame([{**base, **row}], schema=lifecycle.EXISTING)


FOUND = pl.DataFrame({"insight_id": ["new"], "customer_id": ["C"], "detector": ["d"],
                      "subject": ["s"]})


@pytest.mark.parametrize(
    ("existing", "at", "kept"),
    [
        (_existing(), datetime(2025, 1, 8, tzinfo=UTC), 0),  # still live
        (_existing(state="dismissed"), datetime(2025, 1, 4, tzinfo=UTC), 0),  # in cooldown
        (_existing(state="dismissed"), datetime(2025, 1, 6, tzinfo=UTC), 1),  # cooldown over
        (_existing(), datetime(2025, 1, 11, tzinfo=UTC), 1),  # expired and cooled down
        (_existing(subject="other"), datetime(2025, 1, 1, tzinfo=UTC), 1),  # another subject
        (_existing(insight_id="new", state="dismissed", cooldown_until=datetime(
            2025, 1, 1, tzinfo=UTC)), datetime(2025, 3, 1, tzinfo=UTC), 0),  # same insight
    ],
)
def test_fresh(existing: pl.DataFrame, at: datetime, kept: int) -> None:
    assert lifecycle.fresh(FOUND, existing, at).height == kept


def test_expiry_and_clock() -> None:
    assert lifecycle.due_to_expire(_existing(), datetime(2025, 1, 10, tzinfo=UTC)) == ["old"]
    assert lifecycle.due_to_expire(_existing(state="acted_on"),
                                   datetime(2025, 2, 1, tzinfo=UTC)) == []
    now = datetime(2026, 12, 2, 9, tzinfo=UTC)
    assert run_clock(date(2026, 12, 2), now) == now
    assert run_clock(date(2025, 3, 1), now) == datetime(2025, 3, 1, 23, 59, tzinfo=UTC)
