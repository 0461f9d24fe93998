"""A warning's risk model trained from the bank's own store, as the bank runs it.

Specifications: ``tactful train --family shortfall`` (and ``income_late``) on a store holding a
bank's history registers a candidate trained out of time on rows replayed from that store --
features as the engine had them on each as-of day, labels from what the store booked later,
never past its last day -- with its fairness audit; no detector uses it until a person promotes
it; a store whose history is too short is refused with the reason.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tactful.cli.app import app
from tactful.errors import ValidationError
from tactful.evaluation.bank import EvalBank, build_bank
from tactful.insights.inputs import InsightSettings
from tactful.insights.repository import latest_booking_day
from tactful.models.late_income import production_late_risk
from tactful.models.registry import ModelRegistry
from tactful.models.shortfall import production_risk
from tactful.service.models import train_risk_model
from tactful.store.store import Store

runner = CliRunner()


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> EvalBank:
    return build_bank(tmp_path_factory.mktemp("risk-bank"), customers=150, months=7, seed=11,
                      start=date(2025, 1, 1))


def _db(bank: EvalBank) -> str:
    return str(bank.store.engine.url)


@pytest.mark.parametrize("family", ["shortfall", "income_late"])
def test_a_risk_model_is_trained_from_the_store_and_waits_for_a_person(
    bank: EvalBank, tmp_path: Path, family: str
) -> None:
    models = tmp_path / "models"
    out = runner.invoke(app, ["train", "--family", family, "--db", _db(bank),
                              "--model-dir", str(models)], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    registry = ModelRegistry(bank.store, models)
    version = registry.latest(family)
    assert version.stage == "candidate" and version.created_by == "cli"
    assert "out of time" in version.validation
    assert version.metrics["roc_auc"] > 0.75, version.metrics
    assert 0 <= version.metrics["ece"] < 0.1
    # labels read the store's later bookings: the last as-of day leaves them room to happen
    last_booked = latest_booking_day(bank.store)
    assert last_booked is not None
    room = InsightSettings().shortfall_risk_days if family == "shortfall" else 7
    assert version.data_start is not None and version.data_end is not None
    assert version.data_end.date() <= last_booked - timedelta(days=room - 1)
    assert version.data_start.date() >= date(2025, 1, 1) + timedelta(days=90)
    assert version.fairness is not None
    used = production_risk(registry) if family == "shortfall" else production_late_risk(registry)
    assert used is None  # a candidate warns no one


def test_a_store_with_too_short_a_history_is_refused(tmp_path: Path) -> None:
    short = build_bank(tmp_path / "short", customers=20, months=3, seed=11,
                       start=date(2025, 1, 1))
    store: Store = short.store
    with pytest.raises(ValidationError, match=r"shortfall: the store's \d+ days of history give"):
        train_risk_model(store, ModelRegistry(store, tmp_path / "models"), "shortfall")
