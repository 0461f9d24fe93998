"""Training end to end: data from the store, the out-of-time split, fit, metrics, a fairness
audit, a model card, and a new candidate version in the registry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from tactful.errors import ValidationError
from tactful.models.anomaly import (
    TXN_FEATURE_INFO,
    TXN_FEATURES,
    AnomalyModel,
    transaction_features,
)
from tactful.models.base import Classifier, families
from tactful.models.drift import DriftReport, drift_report
from tactful.models.fairness import FairnessGate, FairnessReport, fairness_report
from tactful.models.features import FEATURE_INFO, FEATURES
from tactful.models.history import History, load_history, refused_customers
from tactful.models.metrics import classifier_metrics
from tactful.models.registry import Artifact, ModelRegistry, ModelVersion
from tactful.models.scoring import scorable_features
from tactful.models.tabular import (
    PROTOCOLS,
    Protocol,
    TableRead,
    TableSpec,
    load_table,
    train_table,
)
from tactful.models.training import Split, Target, scoring_time, time_split
from tactful.store.store import Store

F64 = NDArray[np.float64]
PROTECTED = ("age_band", "gender")
_REFERENCE_ROWS = 5_000


@dataclass(frozen=True)
class TrainResult:
    version: ModelVersion
    split: Split
    test_scores: F64


def fairness_from_store(
    store: Store,
    customer_ids: Sequence[str],
    y: NDArray[Any],
    scores: F64,
    *,
    purpose: str,
    gate: FairnessGate | None = None,
) -> FairnessReport | None:
    """The fairness report over the store's protected attributes (a logged read), or None when
    the bank loaded none."""
    prot = store.protected_attributes(
        list(customer_ids), requested_by="tactful.models", purpose=purpose
    )
    if prot.height == 0:
        return None
    ids = pl.DataFrame({"customer_id": list(customer_ids)})
    joined = ids.join(prot, on="customer_id", how="left")
    groups = {
        a: np.array(joined[a].to_list(), dtype=object) for a in PROTECTED if a in joined.columns
    }
    groups = {a: g for a, g in groups.items() if any(v is not None for v in g)}
    if not groups:
        return None
    return fairness_report(np.asarray(y), scores, groups, gate=gate)


def _figures(metrics: Mapping[str, float]) -> str:
    """``roc_auc 0.871`` per metric, or ``roc_auc 0.871 ± 0.012`` when the standard deviation
    over cross-validation folds is kept beside it."""
    shown = []
    for k, v in metrics.items():
        if k in ("rows", "folds") or k.endswith("_sd"):
            continue
        sd = metrics.get(f"{k}_sd")
        shown.append(f"{k} {v:.3f}" + ("" if sd is None else f" ± {sd:.3f}"))
    return ", ".join(shown)


def model_card(
    *,
    name: str,
    family: str,
    target: str,
    validation: str,
    window: tuple[datetime, datetime] | None,
    train_rows: int,
    test_rows: int,
    metrics: Mapping[str, float],
    fairness: FairnessReport | None,
    features: Sequence[str],
    notes: Sequence[str] = (),
    table: TableCard | None = None,
    cross_validated: bool = False,
) -> str:
    """A short model card (Mitchell et al. 2019): what it predicts, on what, how well, for whom.

    A model trained from the store is bound by the store's consent records and audited on its
    protected attributes (age band, gender); a model trained from a bank's table (``table``) is
    not: the card says what applies to the table instead. ``cross_validated``: every one of the
    ``train_rows`` was tested once, out of fold.
    """
    lines = [
        f"# Model card: {name} ({family})",
        "",
        f"Predicts: {target}.",
    ]
    if window:
        lines.append(f"Data window: {window[0]:%Y-%m-%d} to {window[1]:%Y-%m-%d}.")
    lines += [
        f"Validation: {validation}; "
        + (
            f"{train_rows:,} rows, each tested once out of fold."
            if cross_validated
            else f"{train_rows:,} training rows, {test_rows:,} test rows."
        ),
        "Metrics on the test rows: " + _figures(metrics) + ".",
        f"Features ({len(features)}): " + ", ".join(features) + ".",
    ]
    if table is None:
        lines += [
            "Protected attributes (age band, gender) are not features; they are read only to "
            "audit.",
            "Customers who refused profiling or personalization are neither trained on nor "
            "scored.",
        ]
    else:
        lines += table.lines()
    if fairness is None:
        lines.append(
            "Fairness: no protected attributes were available, no audit was possible."
            if table is None
            else "Fairness: no protected column was named (--protected), no audit was done."
        )
    else:
        for a in fairness.attributes:
            banded = (
                f" in bands ({', '.join(g.group for g in a.groups)})" if a.bands else ""
            )
            lines.append(
                f"Fairness by {a.attribute}{banded}: demographic parity difference "
                f"{a.demographic_parity_difference:.3f}, equalized odds difference "
                f"{a.equalized_odds_difference:.3f} (top-decile selection)."
            )
        lines.append(
            "Fairness gate: " + ("passed" if fairness.passed else "; ".join(fairness.failures()))
        )
    lines += list(notes)
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class TableCard:
    """What a table model's card says in place of the store's consent and protected
    attributes."""

    path: str
    rows: int
    protected: tuple[str, ...]
    missing: Mapping[str, int]

    def lines(self) -> list[str]:
        out = [
            f"Trained on the table {self.path} ({self.rows:,} rows), not on the store: the "
            "store's consent records do not apply to its rows; the bank answers for the "
            "lawful basis of using them.",
            (
                f"Protected columns named on the command line ({', '.join(self.protected)}) "
                "are not features; they are read only to audit."
                if self.protected
                else "No protected column was named on the command line (--protected)."
            ),
        ]
        if self.missing:
            counts = ", ".join(f"{c} {n:,}" for c, n in sorted(self.missing.items()))
            out.append(
                f"Missing values (empty, NA, N/A, null, NaN, ?) read as missing: {counts}."
            )
        return out


def _reference(model: Classifier | AnomalyModel, x: F64, seed: int) -> Artifact:
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(x.shape[0], size=min(_REFERENCE_ROWS, x.shape[0]), replace=False))
    sample = x[idx]
    return Artifact(model, sample, model.predict(sample))


def train_customer_model(
    store: Store,
    registry: ModelRegistry,
    target: Target,
    *,
    family: str = "logistic",
    name: str | None = None,
    created_by: str = "cli",
    history: History | None = None,
    params: Mapping[str, Any] | None = None,
    gate: FairnessGate | None = None,
) -> TrainResult:
    """Train ``family`` for ``target`` on the store and register it as a candidate."""
    history = history or load_history(store)
    refused = refused_customers(store)
    split = time_split(history, target, exclude=sorted(refused))
    if split.train.y.sum() < 5 or split.test.y.sum() < 2:
        raise ValidationError(
            f"{target.name}: too few positive labels to train ({int(split.train.y.sum())} in "
            f"training, {int(split.test.y.sum())} in test; {target.description})"
        )
    cls = families.get(family)
    if not issubclass(cls, Classifier):
        raise ValidationError(f"family {family!r} is not a classifier")
    model = cls(**dict(params or {})).fit(split.train.x, split.train.y, FEATURES, FEATURE_INFO)
    scores = model.predict(split.test.x)
    metrics = classifier_metrics(split.test.y, scores).as_dict()
    model_name = name or target.name
    fairness = fairness_from_store(
        store,
        split.test.customer_ids,
        split.test.y,
        scores,
        purpose=f"fairness audit of model {model_name} ({family})",
        gate=gate,
    )
    window = (history.start, history.end)
    card = model_card(
        name=model_name,
        family=family,
        target=target.description,
        validation=split.protocol,
        window=window,
        train_rows=split.train.rows,
        test_rows=split.test.rows,
        metrics=metrics,
        fairness=fairness,
        features=FEATURES,
    )
    version = registry.register(
        model_name,
        _reference(model, split.train.x, 0),
        target=target.description,
        metrics=metrics,
        fairness=fairness,
        data_window=window,
        validation=split.protocol,
        model_card=card,
        created_by=created_by,
    )
    return TrainResult(version, split, scores)


@dataclass(frozen=True)
class AnomalyResult:
    version: ModelVersion
    features: pl.DataFrame
    """The scored transactions (those booked at or after ``score_since``) with their features."""
    scores: F64
    alerts: NDArray[np.bool_]


_FIT_ROWS = 100_000


def train_anomaly_model(
    store: Store,
    registry: ModelRegistry,
    *,
    name: str = "anomaly",
    created_by: str = "cli",
    history: History | None = None,
    reference_end: datetime | None = None,
    score_since: datetime | None = None,
    alert_rate: float = 0.002,
) -> AnomalyResult:
    """Fit the transaction anomaly model on card and online debits booked before
    ``reference_end`` (default: all), register it, and score the debits booked at or after
    ``score_since`` (default: the last 30 days)."""
    history = history or load_history(store)
    end = reference_end or history.end + timedelta(microseconds=1)
    since = score_since or history.end - timedelta(days=30)
    feats = transaction_features(history.transactions, history.customers, end)
    if feats.height == 0:
        raise ValidationError("no card or online debits to learn what is usual from")
    ref_rows = feats.filter(pl.col("booked_at") < end)
    if ref_rows.height > _FIT_ROWS:
        ref_rows = ref_rows.sample(_FIT_ROWS, seed=0)
    x_ref = ref_rows.select(TXN_FEATURES).to_numpy().astype(np.float64)
    model = AnomalyModel(alert_rate=alert_rate).fit(x_ref, TXN_FEATURES, TXN_FEATURE_INFO)
    scored = feats.filter(pl.col("booked_at") >= since)
    x = scored.select(TXN_FEATURES).to_numpy().astype(np.float64)
    scores = model.predict(x)
    metrics = {"alert_rate": alert_rate, "reference_rows": float(ref_rows.height)}
    window = (history.start, min(end, history.end))
    card = model_card(
        name=name,
        family=model.family,
        target="an unusual card or online payment",
        validation="unsupervised: scored against the reference window's own distribution",
        window=window,
        train_rows=ref_rows.height,
        test_rows=0,
        metrics=metrics,
        fairness=None,
        features=TXN_FEATURES,
        notes=[f"Operating threshold: the {alert_rate:.2%} most unusual payments raise an alert."],
    )
    version = registry.register(
        name,
        _reference(model, x_ref, 0),
        target="an unusual card or online payment",
        metrics=metrics,
        fairness=None,
        data_window=window,
        validation="unsupervised",
        model_card=card,
        created_by=created_by,
    )
    return AnomalyResult(version, scored, scores, scores >= model.threshold_)


def drift_now(
    store: Store,
    registry: ModelRegistry,
    name: str,
    *,
    version: int | None = None,
    history: History | None = None,
    table: pl.DataFrame | None = None,
) -> DriftReport:
    """PSI of each feature and of the score between the training reference and today: today's
    customers for a model trained on the store, the rows of ``table`` for one trained on a
    table. Drift is monitoring, not scoring: without ``version`` it is the production version's,
    or else the latest version's (``ModelRegistry.latest``)."""
    mv = registry.get(name, version) if version is not None else registry.latest(name)
    if mv.kind != "classifier":
        raise ValidationError(f"drift of {mv.kind} models is not computed per customer")
    on_table = not set(mv.features) <= set(FEATURES)
    if on_table and table is None:
        raise ValidationError(
            f"{name} v{mv.version} was trained on a table ({mv.target}): give today's rows of "
            "that table to compare with (--table FILE)"
        )
    if not on_table and table is not None:
        raise ValidationError(
            f"{name} v{mv.version} was trained on the store's customers, not on a table: "
            "drop --table"
        )
    artifact = registry.load(mv)
    if table is not None:
        if artifact.encoder is None:
            raise ValidationError(f"{name} v{mv.version} has no table encoder to read rows with")
        x = artifact.encoder.transform(table)
    else:
        history = history or load_history(store)
        feats, _ = scorable_features(store, history, scoring_time(history))
        x = feats.select(list(mv.features)).to_numpy().astype(np.float64)
    return drift_report(
        artifact.reference_x,
        x,
        mv.features,
        train_scores=artifact.reference_scores,
        now_scores=artifact.model.predict(x),
    )


def train_table_model(
    registry: ModelRegistry,
    path: Path,
    spec: TableSpec,
    *,
    family: str = "gbm",
    protocol: Protocol | str = "time",
    folds: int = 5,
    name: str | None = None,
    created_by: str = "cli",
    table: TableRead | None = None,
) -> ModelVersion:
    """Train from a bank's labelled table (``tabular.py``) and register it as a candidate; the
    artifact keeps the column encoder, so the same table layout can be scored later. ``table``
    is the file already read (``load_table(path)``), to read it once for several families."""
    chosen = next((p for p in PROTOCOLS if p == protocol), None)
    if chosen is None:
        raise ValidationError(
            f"protocol must be {', '.join(PROTOCOLS[:-1])} or {PROTOCOLS[-1]}, got {protocol!r}"
        )
    read = table or load_table(path)
    frame = read.frame
    result = train_table(frame, spec, family=family, protocol=chosen, folds=folds)
    label = name or f"propensity-{path.name.split('.')[0]}"
    target = f"{spec.target} in {path.name}"
    metrics = result.registry_metrics()
    cv = chosen == "cv"
    card = model_card(
        name=label,
        family=family,
        target=target,
        validation=result.protocol,
        window=None,
        train_rows=frame.height if cv else result.fitted_rows,
        test_rows=len(result.y_test),
        metrics=metrics,
        fairness=result.fairness,
        features=result.encoder.feature_names,
        table=TableCard(path.name, frame.height, spec.protected, read.missing),
        cross_validated=cv,
    )
    fitted = np.setdiff1d(np.arange(frame.height), result.test_index) if not cv else None
    ref_rows = np.arange(frame.height) if fitted is None else fitted
    if ref_rows.size > _REFERENCE_ROWS:
        ref_rows = np.sort(np.random.default_rng(0).choice(ref_rows, _REFERENCE_ROWS, False))
    ref = result.encoder.transform(frame[ref_rows])
    return registry.register(
        label,
        Artifact(result.model, ref, result.model.predict(ref), result.encoder),
        target=target,
        metrics=metrics,
        fairness=result.fairness,
        data_window=None,
        validation=result.protocol,
        model_card=card,
        created_by=created_by,
    )
