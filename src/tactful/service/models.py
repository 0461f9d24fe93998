"""The model use cases as the command line and the demo run them: training customer models
from the store (or a table model from a labelled file), promotion through the metric floors and
the fairness gate, drift, and scoring, where the choice of *what* scores is made once: only a
promoted version, unless the caller says ``candidate``; a model taken by default without a
production version is left out (and said so), one named explicitly stops the command.

The work is ``tactful.models``; a face comes here. Progress is reported through ``track``: given
a task's label and its number of steps, it returns the function to call after each step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tactful.models.drift import DriftReport
from tactful.models.fairness import Bands
from tactful.models.registry import (
    ModelRegistry,
    ModelVersion,
    NoProductionVersion,
    PromotionRefused,
)
from tactful.models.scoring import BatchResult, Score, StoredScore, TableScores
from tactful.models.tabular import TableRead
from tactful.store.store import Store

if TYPE_CHECKING:
    import polars as pl

    from tactful.models.history import History

__all__ = [
    "ALGORITHMS",
    "Bands",
    "BatchResult",
    "Chosen",
    "DemoModels",
    "DriftReport",
    "ModelRegistry",
    "ModelVersion",
    "NoProductionVersion",
    "PromotionRefused",
    "Score",
    "StoredScore",
    "TableRead",
    "TableScores",
    "Tracker",
    "choose_versions",
    "demo_models",
    "drift",
    "monitored",
    "promote",
    "read_table",
    "registry",
    "score_customers",
    "score_one",
    "score_table",
    "stage_note",
    "stored_scores",
    "train",
    "train_table",
]

ALGORITHMS = ("logistic", "gbm")
FAMILIES = ("churn", "propensity", "anomaly", "shortfall", "income_late")
RISKS = ("shortfall", "income_late")
"""The money-critical warnings' models: one calibrated classifier each, trained on the bank's
own history replayed day by day (``models.replay``), not on customers' snapshots."""

Tracker = Callable[[str, int], Callable[[], Any]]
"""``track(label, steps)`` starts a task and returns what to call after each of its steps."""


def _no_track(_label: str, _steps: int) -> Callable[[], Any]:
    return lambda: None


def registry(store: Store, *, model_dir: Path | None = None) -> ModelRegistry:
    """The model registry over ``store``, its artifacts in ``model_dir`` (default
    ``TACTFUL_MODEL_DIR``)."""
    return ModelRegistry(store, model_dir)


def train(
    store: Store,
    registry: ModelRegistry,
    *,
    family: str,
    algorithms: tuple[str, ...] = ALGORITHMS,
    product: str = "savings",
    by: str = "cli",
    history: History | None = None,
    track: Tracker | None = None,
) -> list[ModelVersion]:
    """Train and register ``family`` (``FAMILIES``) from the store: one candidate per algorithm
    (the anomaly and the risk models have one)."""
    from tactful.errors import ConfigError
    from tactful.models.history import load_history
    from tactful.models.train import train_anomaly_model, train_customer_model
    from tactful.models.training import Target

    if family not in FAMILIES:
        raise ConfigError(f"--family must be one of {', '.join(FAMILIES)}, got {family!r}")
    if family in RISKS:
        return [train_risk_model(store, registry, family, by=by, track=track)]
    steps = 1 if family == "anomaly" else len(algorithms)
    advance = (track or _no_track)(f"train {family}", steps + (history is None))
    if history is None:
        history = load_history(store)
        advance()
    out: list[ModelVersion] = []
    if family == "anomaly":
        out.append(train_anomaly_model(store, registry, created_by=by, history=history).version)
        advance()
        return out
    target = Target.churn() if family == "churn" else Target.propensity(product)
    for algorithm in algorithms:
        result = train_customer_model(
            store, registry, target, family=algorithm, created_by=by, history=history
        )
        out.append(result.version)
        advance()
    return out


def train_risk_model(
    store: Store,
    registry: ModelRegistry,
    family: str,
    *,
    by: str = "cli",
    track: Tracker | None = None,
) -> ModelVersion:
    """Train and register the ``shortfall`` or ``income_late`` model on the store's whole
    history: features as the engine had them at the end of each as-of day, labels from what the
    store booked after (never past its last day), customers who refused profiling left out,
    the last as-of days held out for the registry's gate and the fairness audit. The detector
    uses it once a person promotes it."""
    from datetime import timedelta

    from tactful.errors import ConfigError, ValidationError
    from tactful.models import late_income, shortfall
    from tactful.models.history import refused_customers
    from tactful.models.replay import Replay
    from tactful.models.risk import train_risk
    from tactful.models.train import fairness_from_store

    if family not in RISKS:
        raise ConfigError(f"not a risk model: {family!r} (one of {', '.join(RISKS)})")
    replay = Replay.of(store)
    until = replay.last + timedelta(days=1)
    refused = sorted(refused_customers(store))
    if family == "shortfall":
        days = shortfall.training_days(replay, until=until)
        task, test_days, build = shortfall.SHORTFALL, shortfall.TEST_DAYS, shortfall.replay_rows
    else:
        days = late_income.late_training_days(replay, until=until)
        task, test_days = late_income.LATE_INCOME, late_income.TEST_DAYS
        build = late_income.replay_late_rows
    if len(days) <= test_days:
        raise ValidationError(
            f"{family}: the store's {(replay.last - replay.first).days + 1} days of history give "
            f"{len(days)} as-of days; training needs more than {test_days} (the test slice)")
    advance = (track or _no_track)(f"train {family}", len(days) + 1)
    rows, _ = build(replay, until=until, exclude=refused, say=lambda _m: advance())
    trained = train_risk(task, registry, rows, test_days=test_days, created_by=by,
                         fairness=lambda ids, y, p: fairness_from_store(
                             store, ids, y, p, purpose=f"fairness audit of the {family} model"))
    advance()
    return trained.version


def read_table(path: Path) -> TableRead:
    """A labelled or scoring table (CSV / Parquet), with what was read as missing."""
    from tactful.models.tabular import load_table

    return load_table(path)


def train_table(
    registry: ModelRegistry,
    *,
    path: Path,
    table: TableRead,
    target: str | None,
    positive: str | None = None,
    drop: Sequence[str] = (),
    protected: Sequence[str] = (),
    bands: dict[str, Bands] | None = None,
    algorithms: tuple[str, ...] = ALGORITHMS,
    protocol: str = "time",
    folds: int = 5,
    name: str | None = None,
    by: str = "cli",
) -> list[ModelVersion]:
    """Train and register a model per algorithm from a labelled table read by ``read_table``."""
    from tactful.errors import ConfigError
    from tactful.models.tabular import TableSpec
    from tactful.models.train import train_table_model

    if not target:
        raise ConfigError("--table needs --target, the label column")
    spec = TableSpec(target, positive, tuple(drop), tuple(protected), bands or {})
    return [
        train_table_model(registry, path, spec, family=alg, protocol=protocol, folds=folds,
                          name=name, created_by=by, table=table)
        for alg in algorithms
    ]


def promote(
    registry: ModelRegistry,
    *,
    name: str,
    version: int,
    by: str,
    min_auc: float = 0.65,
    min_lift: float = 1.5,
    max_dpd: float = 0.10,
    max_eod: float = 0.10,
) -> ModelVersion:
    """Make a version the production one if it passes the floors and the fairness gate;
    ``PromotionRefused`` (with every reason) if not."""
    from tactful.models.fairness import FairnessGate
    from tactful.models.registry import MetricFloors

    floors = MetricFloors(min_auc, min_lift, fairness=FairnessGate(max_dpd, max_eod))
    return registry.promote(name, version, by=by, floors=floors)


def monitored(registry: ModelRegistry, name: str) -> ModelVersion:
    """The version to look at when none is named: the production one, or else the latest (the
    caller says when it is not in production: monitoring may look at a candidate, scoring may
    not)."""
    return registry.latest(name)


def drift(store: Store, registry: ModelRegistry, *, name: str, version: int,
          rows: pl.DataFrame | None = None) -> DriftReport:
    """PSI of each feature and of the score between the training window and now (``rows``: a
    table model's rows of today)."""
    from tactful.models.train import drift_now

    return drift_now(store, registry, name, version=version, table=rows)


def stage_note(stage: str) -> str:
    """What a score from a version at ``stage`` must say about it (empty for production)."""
    from tactful.models.scoring import stage_note as note

    return note(stage)


@dataclass(frozen=True)
class Chosen:
    versions: list[ModelVersion]
    left_out: list[str] = field(default_factory=list)
    """Why each model taken by default was left out (it has no production version)."""


def choose_versions(registry: ModelRegistry, *, names: list[str] | None,
                    candidate: bool = False) -> Chosen:
    """The version each model scores with, all chosen before anything is written. Without
    ``names``, every customer model in the registry. A named model with no production version
    stops the command (``NoProductionVersion``); one taken by default is left out, and the
    command stops only if none is left."""
    from tactful.errors import ConfigError
    from tactful.models.features import FEATURES
    from tactful.models.scoring import scoring_version

    wanted = names or sorted(
        {
            v.name
            for v in registry.versions()
            if v.kind == "classifier" and set(v.features) <= set(FEATURES)
        }
    )
    if not wanted:
        raise ConfigError("no customer model in the registry: run tactful train first")
    chosen: list[ModelVersion] = []
    refused: list[NoProductionVersion] = []
    for name in wanted:
        try:
            chosen.append(scoring_version(registry, name, candidate=candidate))
        except NoProductionVersion as exc:
            if names:
                raise
            refused.append(exc)
    if refused and not chosen:
        raise refused[0]
    return Chosen(chosen, [str(exc) for exc in refused])


def score_one(store: Store, registry: ModelRegistry, *, versions: list[ModelVersion],
              customer_id: str) -> list[tuple[ModelVersion, Score]]:
    """One customer's score by each version, in-process (nothing written)."""
    from tactful.models.history import load_history
    from tactful.models.scoring import RealtimeScorer, scorable_features
    from tactful.models.training import scoring_time

    history = load_history(store)
    feats, _ = scorable_features(store, history, scoring_time(history))
    out = []
    for mv in versions:
        scorer = RealtimeScorer.from_features(registry.load(mv).model, mv, feats)
        out.append((mv, scorer.score(customer_id)))
    return out


def score_customers(
    store: Store,
    registry: ModelRegistry,
    *,
    versions: list[ModelVersion],
    candidate: bool = False,
    on_scored: Callable[[BatchResult], Any] | None = None,
) -> list[BatchResult]:
    """Score every consenting customer into the profile with each version; ``on_scored``
    hears each model's result as it is written."""
    from tactful.models.history import load_history
    from tactful.models.scoring import score_customers as run

    history = load_history(store)
    out = []
    for mv in versions:
        result = run(store, registry, mv.name, version=mv.version, candidate=candidate,
                     history=history)
        out.append(result)
        if on_scored is not None:
            on_scored(result)
    return out


def score_table(
    registry: ModelRegistry,
    *,
    table: TableRead,
    model: str | None,
    out: Path | None,
    version: int | None = None,
    candidate: bool = False,
    keep: Sequence[str] = (),
) -> TableScores:
    """Score a table's rows with a table model and write them to ``out`` (.csv, .parquet)."""
    from tactful.errors import ConfigError
    from tactful.models.scoring import score_table as run
    from tactful.models.scoring import write_table

    if not model:
        raise ConfigError("--table needs --model, the table model to score with")
    if out is None:
        raise ConfigError("--table needs --out, the .csv or .parquet file to write the scores to")
    scored = run(registry, table.frame, model, version=version, candidate=candidate,
                 keep=list(keep))
    write_table(scored.frame, out)
    return scored


def stored_scores(store: Store, *, customer_id: str) -> list[StoredScore]:
    """The customer's stored scores with their reasons."""
    from tactful.models.scoring import stored_scores as read

    return read(store, customer_id)


@dataclass(frozen=True)
class DemoModels:
    """What the demo's model step did, for a face to tell."""

    versions: list[ModelVersion]
    anomaly: ModelVersion
    anomaly_alerts: int
    anomaly_payments: int
    best: ModelVersion
    """The better churn model: the production version if promoted, else the refused one."""
    validation: str
    drifted: list[str]
    propensity_error: str | None = None
    refused: tuple[str, ...] = ()
    """Why the gate refused ``best``; empty when it was promoted."""
    scored: BatchResult | None = None
    top: str | None = None
    """The customer the model finds most likely to leave, scored again in-process."""
    top_score: float | None = None
    top_ms: float | None = None

    @property
    def promoted(self) -> bool:
        return not self.refused


def demo_models(store: Store, *, track: Tracker | None = None) -> DemoModels:
    """The demo's model step: train churn (both families) and the anomaly model, try the
    propensity model, try to promote the better churn model through the gate and, only if it
    passes, score everyone and score the likeliest leaver again in real time. A refused model
    scores no one."""
    from tactful.errors import ValidationError
    from tactful.models.history import load_history
    from tactful.models.scoring import RealtimeScorer, scorable_features
    from tactful.models.scoring import score_customers as run_scoring
    from tactful.models.train import drift_now, train_anomaly_model
    from tactful.models.training import scoring_time

    reg = ModelRegistry(store)
    history = load_history(store)
    churn = train(store, reg, family="churn", by="demo", history=history, track=track)
    anomaly = train_anomaly_model(store, reg, created_by="demo", history=history)
    propensity_error = None
    try:
        train(store, reg, family="propensity", product="savings", by="demo", history=history,
              track=track)
    except ValidationError as exc:
        propensity_error = str(exc)
    versions = reg.versions()
    best = max(churn, key=lambda v: v.metrics.get("roc_auc", 0.0))
    common: dict[str, Any] = {
        "versions": versions, "anomaly": anomaly.version,
        "anomaly_alerts": int(anomaly.alerts.sum()), "anomaly_payments": len(anomaly.scores),
        "validation": str(best.validation), "propensity_error": propensity_error,
    }
    try:
        best = reg.promote(best.name, best.version, by="demo")
    except PromotionRefused as exc:
        report = drift_now(store, reg, best.name, version=best.version, history=history)
        return DemoModels(best=best, drifted=list(report.drifted), refused=tuple(exc.reasons),
                          **common)
    scored = run_scoring(store, reg, best.name, history=history)
    report = drift_now(store, reg, best.name, history=history)
    feats, _ = scorable_features(store, history, scoring_time(history))
    model = reg.load(best).model
    scorer = RealtimeScorer.from_features(model, best, feats)
    x = feats.select(model.feature_names_).to_numpy()
    top = str(feats["customer_id"][int(model.predict(x).argmax())])
    started = time.perf_counter()
    live = scorer.score(top)
    took = (time.perf_counter() - started) * 1e3
    return DemoModels(best=best, drifted=list(report.drifted), scored=scored, top=top,
                      top_score=live.score, top_ms=took, **common)
