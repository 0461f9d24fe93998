"""Only a promoted model scores (issue 13, item 7).

The fairness gate used to be bypassed: with no version in production the registry fell back to
the latest candidate, so ``tactful score`` (and the demo) wrote the scores of a model the gate had
refused into the profiles. These tests train a model the fairness gate refuses and check that it
scores no one unless asked for with ``--candidate``, and that its scores then say
"candidate, not promoted" wherever they are shown. Run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tactful.cli import app as cli
from tactful.cli import models as models_cli
from tactful.cli.app import app
from tactful.errors import NotFoundError, ValidationError
from tactful.models.fairness import FairnessGate, fairness_report
from tactful.models.features import FEATURES
from tactful.models.logistic import LogisticModel
from tactful.models.metrics import classifier_metrics
from tactful.models.registry import (
    Artifact,
    MetricFloors,
    ModelRegistry,
    ModelVersion,
    NoProductionVersion,
    PromotionRefused,
)
from tactful.models.scoring import score_customers, scoring_version, stored_scores
from tactful.store import schema
from tactful.store.store import Store
from tactful.trust.export import export_customer

runner = CliRunner()
T0 = datetime(2025, 1, 1, tzinfo=UTC)
IDS = ["C1", "C2", "C3"]
NO_PRODUCTION = (
    "churn has no version in production (candidates: v1); only a promoted version passed the "
    "gate. Promote one with: tactful models promote churn VERSION --by WHO (or score with a "
    "candidate explicitly: --candidate, and its scores say 'candidate, not promoted')"
)


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models_cli.console, "width", 200)
    monkeypatch.setattr(cli.console, "width", 200)


def _fill(store: Store) -> None:
    """Three customers who all consent to profiling and personalization."""
    n = 40
    frames = {
        "customers": pl.DataFrame(
            {"id": IDS, "region": ["EU"] * 3, "locale": ["de-DE"] * 3,
             "timezone": ["Europe/Berlin"] * 3}
        ),
        "accounts": pl.DataFrame(
            {"id": [f"A{c}" for c in IDS], "customer_id": IDS, "type": ["checking"] * 3,
             "currency": ["EUR"] * 3, "opened_on": [date(2020, 1, 1)] * 3}
        ),
        "transactions": pl.DataFrame(
            {
                "id": [f"T{c}{i}" for c in IDS for i in range(n)],
                "account_id": [f"A{c}" for c in IDS for _ in range(n)],
                "booked_at": [T0 + timedelta(days=3 * i) for _ in IDS for i in range(n)],
                "amount_minor": [-1_000 * (k + 1) for k, _ in enumerate(IDS) for _ in range(n)],
                "balance_after_minor": [500_000 - 1_000 * i for _ in IDS for i in range(n)],
                "currency": ["EUR"] * (3 * n),
                "channel": ["card"] * (3 * n),
                "category": ["FOOD_AND_DRINK"] * (3 * n),
            },
            schema_overrides={"booked_at": pl.Datetime("us", "UTC")},
        ),
        "consents": pl.DataFrame(
            {
                "customer_id": [c for c in IDS for _ in range(2)],
                "purpose": ["profiling", "personalization"] * 3,
                "at": [T0] * 6,
                "status": ["granted"] * 6,
            },
            schema_overrides={"at": pl.Datetime("us", "UTC")},
        ),
    }
    with store.transaction() as conn:
        for table, frame in frames.items():
            store.write(conn, table, frame)


def train_unfair(registry: ModelRegistry, name: str = "churn") -> ModelVersion:
    """A churn model that ranks well but selects one gender: its label follows a feature that
    nearly decides the gender, so the top decile is almost all one group. Its metrics and
    fairness report are computed on a held-out fifth, as training does."""
    rng = np.random.default_rng(7)
    n = 2_000
    x = rng.normal(size=(n, len(FEATURES)))
    j = FEATURES.index("outflow_30d")
    y = (x[:, j] + 0.5 * rng.normal(size=n) > 1.0).astype(np.int8)
    gender = np.where(x[:, j] + 0.3 * rng.normal(size=n) > 0, "F", "M").astype(object)
    fit, test = slice(0, 1_600), slice(1_600, None)
    model = LogisticModel().fit(x[fit], y[fit], FEATURES)
    p = model.predict(x[test])
    m = classifier_metrics(y[test], p)
    return registry.register(
        name,
        Artifact(model, x[:100], model.predict(x[:100])),
        target="closes within 90 days",
        metrics={"roc_auc": m.roc_auc, "pr_auc": m.pr_auc, "brier": m.brier,
                 "top_decile_lift": m.top_decile_lift},
        fairness=fairness_report(y[test], p, {"gender": gender[test]}),
        data_window=None,
        validation="held-out fifth",
        model_card="# Model card: churn (logistic)",
        created_by="test",
    )


def _scores(store: Store) -> list[tuple[str, int, str]]:
    s = schema.customer_scores
    rows = store.rows(
        select(s.c.customer_id, s.c.model_version, s.c.model_stage).order_by(s.c.customer_id)
    )
    return [(str(r[0]), int(r[1]), str(r[2])) for r in rows]


@pytest.fixture
def refused(
    store: Store, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Store, list[str]]:
    """A store with consenting customers and a churn model the fairness gate refused (through
    the command line, as a person would try), and the CLI's --db / --model-dir. The commands
    share the test's store rather than each opening an engine on it that no one closes."""

    @contextmanager
    def shared(url: str | None = None, *, migrate: bool = True) -> Iterator[Store]:
        yield store

    monkeypatch.setattr("tactful.service.context.session", shared)
    _fill(store)
    train_unfair(ModelRegistry(store, tmp_path / "models"))
    common = ["--db", store_url, "--model-dir", str(tmp_path / "models")]
    out = runner.invoke(app, ["models", "promote", "churn", "1", "--by", "alice", *common],
                        catch_exceptions=False)
    assert out.exit_code == 4, out.output
    assert "refused" in out.output and "fairness gate: demographic parity" in out.output
    assert "ROC-AUC" not in out.output and "lift" not in out.output  # only fairness fails
    return store, common


def test_a_model_the_gate_refused_scores_no_one(refused: tuple[Store, list[str]]) -> None:
    store, common = refused
    for args in (["score"], ["score", "churn"], ["score", "--customer", "C1"]):
        result = runner.invoke(app, [*args, *common])
        assert result.exit_code != 0, result.output
        assert isinstance(result.exception, NoProductionVersion)
        assert isinstance(result.exception, NotFoundError)
        assert str(result.exception) == NO_PRODUCTION
    assert _scores(store) == []
    shown = runner.invoke(app, ["profile", "C1", "--db", common[1]], catch_exceptions=False)
    assert shown.exit_code == 0 and "Model scores" not in shown.output


def test_with_candidate_the_scores_say_candidate_not_promoted(
    refused: tuple[Store, list[str]],
) -> None:
    store, common = refused
    out = runner.invoke(app, ["score", "--candidate", *common], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert "churn v1 (candidate, not promoted): 3 customers scored" in out.output
    assert _scores(store) == [("C1", 1, "candidate"), ("C2", 1, "candidate"),
                              ("C3", 1, "candidate")]
    assert [(s.model, s.stage, s.note) for s in stored_scores(store, "C1")] == [
        ("churn", "candidate", "candidate, not promoted")
    ]
    profile = runner.invoke(app, ["profile", "C1", "--db", common[1]], catch_exceptions=False)
    assert profile.exit_code == 0, profile.output
    assert "churn (candidate, not promoted)" in profile.output
    one = runner.invoke(app, ["score", "--customer", "C1", "--candidate", *common],
                        catch_exceptions=False)
    assert re.search(r"churn v1 \(candidate, not promoted\): \d\.\d{3}", one.output), one.output
    export = export_customer(store, "C1", requested_by="dpo")
    assert [(r["model_name"], r["model_stage"]) for r in export.tables["customer_scores"]] == [
        ("churn", "candidate")
    ]


def test_once_promoted_it_scores_as_production(refused: tuple[Store, list[str]]) -> None:
    store, common = refused
    out = runner.invoke(
        app, ["models", "promote", "churn", "1", "--by", "cto", "--max-dpd", "1", "--max-eod",
              "1", *common], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    out = runner.invoke(app, ["score", *common], catch_exceptions=False)
    assert "churn v1: 3 customers scored" in out.output, out.output
    assert {stage for _, _, stage in _scores(store)} == {"production"}
    profile = runner.invoke(app, ["profile", "C1", "--db", common[1]], catch_exceptions=False)
    assert "not promoted" not in profile.output and "churn" in profile.output


def test_a_model_taken_by_default_without_production_is_left_out_and_said(
    refused: tuple[Store, list[str]], tmp_path: Path
) -> None:
    store, common = refused
    registry = ModelRegistry(store, tmp_path / "models")
    train_unfair(registry, "attrition")
    registry.promote("attrition", 1, by="cto", floors=MetricFloors(fairness=FairnessGate(1, 1)))
    out = runner.invoke(app, ["score", *common], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert "attrition v1: 3 customers scored" in out.output
    assert "not scored: churn has no version in production (candidates: v1)" in out.output
    s = schema.customer_scores
    names = store.rows(select(s.c.model_name, s.c.model_stage).distinct())
    assert [tuple(r) for r in names] == [("attrition", "production")]


def test_monitoring_may_look_at_a_candidate_and_says_so(
    refused: tuple[Store, list[str]],
) -> None:
    _, common = refused
    shown = runner.invoke(app, ["models", "show", "churn", *common], catch_exceptions=False)
    assert "churn: no version in production; showing v1 (candidate)" in shown.output
    assert "# Model card: churn (logistic)" in shown.output
    drift = runner.invoke(app, ["models", "drift", "churn", *common], catch_exceptions=False)
    assert drift.exit_code == 0, drift.output
    assert "churn: no version in production; showing v1 (candidate)" in drift.output
    assert "Drift of churn" in drift.output


def test_the_registry_never_falls_back_to_a_candidate(store: Store, tmp_path: Path) -> None:
    registry = ModelRegistry(store, tmp_path / "models")
    train_unfair(registry)
    train_unfair(registry)
    with pytest.raises(PromotionRefused, match="fairness gate"):
        registry.promote("churn", 2, by="alice")
    message = NO_PRODUCTION.replace("candidates: v1", "candidates: v1, v2")
    with pytest.raises(NoProductionVersion, match=f"^{re.escape(message)}$"):
        registry.get("churn")
    assert registry.get("churn", 1).stage == "candidate"
    assert registry.latest("churn").version == 2
    with pytest.raises(NoProductionVersion):
        score_customers(store, registry, "churn")
    with pytest.raises(ValidationError, match=r"^churn v1 is a candidate, not the production "
                       r"version: score with it only with --candidate \(its scores then say "
                       r"'candidate, not promoted'\)$"):
        score_customers(store, registry, "churn", version=1)
    assert scoring_version(registry, "churn", candidate=True).version == 2
    assert store.rows(select(func.count()).select_from(schema.customer_scores))[0][0] == 0


def test_the_demo_does_not_score_with_a_model_the_gate_refused(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's model step after its churn model is refused: it says so plainly and writes
    no score (it used to score every customer with the refused model)."""
    from rich.console import Console

    store = sqlite_store
    _fill(store)

    def trained(
        store: Store, registry: ModelRegistry, *, family: str, **_: object
    ) -> list[ModelVersion]:
        if family != "churn":
            raise ValidationError(f"{family}: too few positive labels to train")
        return [train_unfair(registry)]

    class NoAlerts:  # the anomaly step is not what this test is about
        version = ModelVersion.__new__(ModelVersion)
        alerts = np.zeros(0, dtype=bool)
        scores = np.zeros(0)

    object.__setattr__(NoAlerts.version, "version", 0)
    monkeypatch.setattr("tactful.service.models.train", trained)
    # the command imports it when it runs (tactful --help must not): patch it at its home
    monkeypatch.setattr(
        "tactful.models.train.train_anomaly_model", lambda *a, **k: NoAlerts()
    )
    console = Console(width=200, record=True)
    models_cli.demo_models(console, store)
    said = console.export_text()
    assert "promotion of churn v1 refused:" in said
    assert "churn v1 scores no one: only a promoted model writes scores into the profiles" in said
    assert "customers scored" not in said
    assert _scores(store) == []
    assert ModelRegistry(store).get("churn", 1).stage == "candidate"


def test_migration_labels_the_scores_written_before_it(store_url: str) -> None:
    """0008 adds ``model_stage`` and gives each earlier score its version's stage now: the
    scores a refused candidate wrote before the fix say "candidate" from then on, and a score
    whose version is gone cannot show it passed the gate."""
    old = Store.open(store_url, migrate=False)
    try:
        old.upgrade("0007_erasures")
        with old.transaction() as conn:
            for version, stage in ((1, "production"), (2, "candidate")):
                conn.execute(schema.models.insert().values(
                    name=f"m{version}", version=version, family="logistic", kind="classifier",
                    target="t", stage=stage, metrics={}, features=[], model_card="c",
                    artifact_path="p", artifact_sha256="x", created_at=T0, created_by="test"))
            for customer, model, version in (("C1", "m1", 1), ("C2", "m2", 2), ("C3", "gone", 1)):
                conn.execute(schema.customer_scores.insert().values(
                    customer_id=customer, model_name=model, model_version=version, score=0.5,
                    reasons=[], scored_at=T0))
        old.upgrade()
        assert old.is_current()
        assert _scores(old) == [("C1", 1, "production"), ("C2", 2, "candidate"),
                                ("C3", 1, "candidate")]
    finally:
        old.close()
