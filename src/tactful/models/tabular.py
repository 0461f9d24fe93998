"""Train a propensity model from any labelled customer table a bank brings (CSV or Parquet with
a target column): its own campaign history, its own churn list.

Numeric columns are used as they are; text columns become one indicator per frequent level (at
most 30 levels with at least 1% of the rows, the rest pooled as "other"); integer columns with a
distinct value on every row are identifiers and are dropped, as are the columns named in
``drop``. Protected columns are never features: they are set aside for the fairness report.
The rows are taken to be in time order (campaign logs are), so the default validation trains on
the first 80% and tests on the rest; ``stratified`` validation is there for tables that are not.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
from numpy.typing import NDArray
from sklearn.model_selection import StratifiedKFold

from tactful.errors import ValidationError
from tactful.models.base import Classifier, FeatureInfo, families
from tactful.models.fairness import FairnessGate, FairnessReport, fairness_report
from tactful.models.metrics import ClassifierMetrics, classifier_metrics

F64 = NDArray[np.float64]
Protocol = Literal["time", "stratified"]
_MAX_LEVELS = 30
_MIN_SHARE = 0.01
_TRUE = {"1", "yes", "y", "true", "t"}


def read_table(path: Path) -> pl.DataFrame:
    """A CSV (comma or semicolon, optionally gzipped) or Parquet file as a frame."""
    if not path.exists():
        raise ValidationError(f"table {path} does not exist")
    name = path.name.lower()
    if name.endswith(".parquet"):
        return pl.read_parquet(path)
    if not (name.endswith(".csv") or name.endswith(".csv.gz") or name.endswith(".txt")):
        raise ValidationError(f"table {path}: expected .csv, .csv.gz or .parquet")
    raw = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
    head = raw[:4096].decode("utf-8", errors="replace").splitlines()[0] if raw else ""
    sep = ";" if head.count(";") > head.count(",") else ","
    return pl.read_csv(raw, separator=sep, infer_schema_length=10_000)


@dataclass(frozen=True)
class TableSpec:
    target: str
    positive: str | None = None
    """The target value that means "yes"; default: 1 / yes / true."""
    drop: tuple[str, ...] = ()
    protected: tuple[str, ...] = ()


def labels(frame: pl.DataFrame, spec: TableSpec) -> NDArray[np.int8]:
    if spec.target not in frame.columns:
        raise ValidationError(f"target column {spec.target!r} not in the table: {frame.columns}")
    col = frame[spec.target]
    if col.null_count():
        raise ValidationError(f"target column {spec.target!r} has {col.null_count()} empty values")
    text = col.cast(pl.String).str.strip_chars().str.to_lowercase()
    if spec.positive is not None:
        y = (text == spec.positive.strip().lower()).to_numpy()
    else:
        y = text.is_in(sorted(_TRUE)).to_numpy()
    out = y.astype(np.int8)
    if len(np.unique(out)) != 2:
        raise ValidationError(
            f"target column {spec.target!r} must hold both classes; positive value "
            f"{spec.positive or '1/yes/true'!r} gives {int(out.sum())} of {len(out)}"
        )
    return out


@dataclass
class TableEncoder:
    """Learns the columns and levels from the training rows; ``transform`` any later table."""

    numeric_: list[str] = field(default_factory=list)
    levels_: dict[str, list[str]] = field(default_factory=dict)
    dropped_: list[str] = field(default_factory=list)

    def fit(self, frame: pl.DataFrame, spec: TableSpec) -> TableEncoder:
        skip = {spec.target, *spec.drop, *spec.protected}
        missing = [c for c in (*spec.drop, *spec.protected) if c not in frame.columns]
        if missing:
            raise ValidationError(f"columns {missing} are not in the table")
        for name, dtype in frame.schema.items():
            if name in skip:
                continue
            col = frame[name]
            if dtype.is_integer() and col.n_unique() == frame.height and frame.height > 50:
                self.dropped_.append(name)
            elif dtype.is_numeric() or dtype == pl.Boolean:
                self.numeric_.append(name)
            else:
                counts = col.cast(pl.String).fill_null("(empty)").value_counts(sort=True)
                keep = counts.filter(pl.col("count") >= _MIN_SHARE * frame.height).head(_MAX_LEVELS)
                self.levels_[name] = [str(v) for v in keep[name].to_list()]
        if not self.numeric_ and not self.levels_:
            raise ValidationError("the table has no feature columns besides the target")
        return self

    @property
    def feature_names(self) -> list[str]:
        return self.numeric_ + [f"{c}={v}" for c, vs in self.levels_.items() for v in vs]

    @property
    def feature_info(self) -> dict[str, FeatureInfo]:
        info = {c: FeatureInfo(c) for c in self.numeric_}
        for c, vs in self.levels_.items():
            for v in vs:
                info[f"{c}={v}"] = FeatureInfo(f"{c} is {v}", indicator=True)
        return info

    def transform(self, frame: pl.DataFrame) -> F64:
        missing = [c for c in [*self.numeric_, *self.levels_] if c not in frame.columns]
        if missing:
            raise ValidationError(f"the table lacks the model's columns {missing}")
        exprs: list[pl.Expr] = [pl.col(c).cast(pl.Float64) for c in self.numeric_]
        for c, vs in self.levels_.items():
            text = pl.col(c).cast(pl.String).fill_null("(empty)")
            exprs += [(text == v).cast(pl.Float64).alias(f"{c}={v}") for v in vs]
        return frame.select(exprs).to_numpy().astype(np.float64)


@dataclass(frozen=True)
class TableResult:
    model: Classifier
    encoder: TableEncoder
    metrics: ClassifierMetrics
    y_test: NDArray[np.int8]
    p_test: F64
    test_index: NDArray[np.int64]
    fairness: FairnessReport | None
    protocol: str


def _fit(
    frame: pl.DataFrame,
    spec: TableSpec,
    family: str,
    train: NDArray[np.int64],
    params: dict[str, Any] | None,
    shuffle_seed: int | None = None,
) -> tuple[Classifier, TableEncoder]:
    """Fit on rows ``train``; without time order (``shuffle_seed``) they are shuffled first, so
    the calibration fold is a random fifth rather than the latest rows."""
    if shuffle_seed is not None:
        train = np.random.default_rng(shuffle_seed).permutation(train)
    part = frame[train]
    encoder = TableEncoder().fit(part, spec)
    cls = families.get(family)
    if not issubclass(cls, Classifier):
        raise ValidationError(f"family {family!r} is not a classifier")
    model = cls(**(params or {})).fit(
        encoder.transform(part), labels(part, spec), encoder.feature_names, encoder.feature_info
    )
    return model, encoder


def train_table(
    frame: pl.DataFrame,
    spec: TableSpec,
    *,
    family: str = "gbm",
    protocol: Protocol = "time",
    test_share: float = 0.2,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    gate: FairnessGate | None = None,
) -> TableResult:
    """Fit on the training rows, measure on the test rows, audit fairness on the protected
    columns."""
    y = labels(frame, spec)
    n = frame.height
    if protocol == "time":
        cut = int(n * (1 - test_share))
        train_idx, test_idx = np.arange(cut), np.arange(cut, n)
        described = (
            f"time-ordered: first {1 - test_share:.0%} of rows train, last {test_share:.0%} test"
        )
    elif protocol == "stratified":
        folds = StratifiedKFold(n_splits=round(1 / test_share), shuffle=True, random_state=seed)
        train_idx, test_idx = next(folds.split(np.zeros(n), y))
        described = f"stratified hold-out of {test_share:.0%}"
    else:
        raise ValidationError(f"protocol must be time or stratified, got {protocol!r}")
    model, encoder = _fit(
        frame, spec, family, train_idx, params, None if protocol == "time" else seed
    )
    test = frame[test_idx]
    p = model.predict(encoder.transform(test))
    fairness = None
    if spec.protected:
        fairness = fairness_report(
            y[test_idx],
            p,
            {c: np.array(test[c].to_list(), dtype=object) for c in spec.protected},
            gate=gate,
        )
    return TableResult(
        model,
        encoder,
        classifier_metrics(y[test_idx], p),
        y[test_idx],
        p,
        test_idx.astype(np.int64),
        fairness,
        described,
    )


def cross_validate(
    frame: pl.DataFrame,
    spec: TableSpec,
    *,
    family: str = "gbm",
    folds: int = 5,
    seed: int = 0,
    params: dict[str, Any] | None = None,
) -> tuple[list[ClassifierMetrics], F64]:
    """Stratified k-fold: the metrics of each fold and the out-of-fold scores of every row."""
    y = labels(frame, spec)
    oof = np.zeros(frame.height)
    out = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(np.zeros(frame.height), y):
        model, encoder = _fit(frame, spec, family, train_idx, params, seed)
        p = model.predict(encoder.transform(frame[test_idx]))
        oof[test_idx] = p
        out.append(classifier_metrics(y[test_idx], p))
    return out, oof


def folds_of(
    frame: pl.DataFrame, spec: TableSpec, folds: int = 5, seed: int = 0
) -> Sequence[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """The same stratified folds ``cross_validate`` uses, for a baseline run on equal terms."""
    y = labels(frame, spec)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(frame.height), y))
