"""Train a propensity model from any labelled customer table a bank brings (CSV or Parquet with
a target column): its own campaign history, its own churn list.

The usual missing-value tokens (empty, NA, N/A, null, NaN, ?, in any case and with spaces
around) are read as missing, so a numeric column with gaps stays numeric instead of becoming one
level per distinct number; ``load_table`` says how many values each column lost that way.
Numeric columns are used as they are (a missing value takes the training median in the logistic
family, LightGBM's own missing branch in gbm); text columns become one indicator per frequent
level (at most 30 levels with at least 1% of the rows, the rest pooled as "other"); integer
columns with a distinct value on every row are identifiers and are dropped, as are the columns
named in ``drop``. Protected columns are never features: they are set aside for the fairness
report, numeric ones in bands (``fairness.band_edges``).
The rows are taken to be in time order (campaign logs are), so the default validation trains on
the first 80% and tests on the rest; ``stratified`` validation is there for tables that are not,
and ``cv`` (stratified k-fold) records each metric's mean and standard deviation over the folds.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import polars as pl
from numpy.typing import NDArray

from tactful.errors import ValidationError
from tactful.models.base import Classifier, FeatureInfo, families
from tactful.models.fairness import (
    Bands,
    FairnessGate,
    FairnessReport,
    band_edges,
    fairness_report,
)
from tactful.models.metrics import ClassifierMetrics, classifier_metrics

F64 = NDArray[np.float64]
Protocol = Literal["time", "stratified", "cv"]
PROTOCOLS: Final[tuple[Protocol, ...]] = ("time", "stratified", "cv")
MISSING_TOKENS: Final = ("", "NA", "N/A", "null", "NaN", "?")
"""Read as missing in any case and with spaces around (``na``, `` ? ``, ``NULL``)."""
_MISSING = frozenset(t.lower() for t in MISSING_TOKENS)
_MAX_LEVELS = 30
_MIN_SHARE = 0.01
_TRUE = {"1", "yes", "y", "true", "t"}
_MEANED = ("roc_auc", "pr_auc", "brier", "top_decile_lift", "base_rate")


@dataclass(frozen=True)
class TableRead:
    """A table as read, and how many values of each column were missing (a token or empty)."""

    frame: pl.DataFrame
    missing: dict[str, int]

    def warning(self) -> str | None:
        """One sentence for the user, or None when nothing was missing."""
        if not self.missing:
            return None
        total = sum(self.missing.values())
        cols = ", ".join(f"{c} {n:,}" for c, n in sorted(self.missing.items(), key=lambda i: -i[1]))
        return (
            f"{total:,} values of {self.frame.height:,} rows read as missing "
            f"({', '.join(repr(t) for t in MISSING_TOKENS)}): {cols}"
        )


def clean_missing(frame: pl.DataFrame) -> TableRead:
    """``frame`` with the missing tokens of its text columns read as missing, each text column
    typed as Int64, Float64 or Boolean when every value left is one, and the count of missing
    values (null or NaN) per column."""
    text = [c for c, dtype in frame.schema.items() if dtype == pl.String]
    stripped = frame.with_columns(
        pl.when(pl.col(c).str.strip_chars().str.to_lowercase().is_in(sorted(_MISSING)))
        .then(None)
        .otherwise(pl.col(c).str.strip_chars())
        .alias(c)
        for c in text
    )
    typed = []
    for c in text:
        col = stripped[c]
        known = col.len() - col.null_count()
        out: pl.Series = col
        if known:
            for dtype in (pl.Int64(), pl.Float64()):
                cast: pl.Series = col.cast(dtype, strict=False)
                if cast.len() - cast.null_count() == known:
                    out = cast
                    break
            else:
                lowered = col.str.to_lowercase()
                if lowered.drop_nulls().is_in(["true", "false"]).all():
                    out = lowered == "true"
        typed.append(out.alias(c))
    result = stripped.with_columns(typed)
    missing = {}
    for c, kind in result.schema.items():
        n = result[c].null_count() + (int(result[c].is_nan().sum()) if kind.is_float() else 0)
        if n:
            missing[c] = n
    return TableRead(result, missing)


def load_table(path: Path) -> TableRead:
    """A CSV (comma or semicolon, optionally gzipped) or Parquet file, missing tokens read as
    missing."""
    if not path.exists():
        raise ValidationError(f"table {path} does not exist")
    name = path.name.lower()
    if name.endswith(".parquet"):
        return clean_missing(pl.read_parquet(path))
    if not (name.endswith(".csv") or name.endswith(".csv.gz") or name.endswith(".txt")):
        raise ValidationError(f"table {path}: expected .csv, .csv.gz or .parquet")
    raw = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
    head = raw[:4096].decode("utf-8", errors="replace").splitlines()[0] if raw else ""
    sep = ";" if head.count(";") > head.count(",") else ","
    return clean_missing(pl.read_csv(raw, separator=sep, infer_schema=False))


def read_table(path: Path) -> pl.DataFrame:
    """``load_table``'s frame."""
    return load_table(path).frame


@dataclass(frozen=True)
class TableSpec:
    target: str
    positive: str | None = None
    """The target value that means "yes"; default: 1 / yes / true."""
    drop: tuple[str, ...] = ()
    protected: tuple[str, ...] = ()
    bands: Mapping[str, Bands] = field(default_factory=dict)
    """Band edges (or ``"auto"``) per numeric protected column, ``"*"`` for every numeric
    protected column not named; one not covered is banded at its quintiles when it has more
    than ten distinct values."""

    def band_edges(self, frame: pl.DataFrame) -> dict[str, tuple[float, ...]]:
        """The edges each numeric protected column is audited in, from the whole table."""
        stray = sorted(set(self.bands) - set(self.protected) - {"*"})
        if stray:
            raise ValidationError(f"bands given for {stray}, which are not protected columns")
        out: dict[str, tuple[float, ...]] = {}
        for c in self.protected:
            if c not in frame.columns:
                continue
            if not (frame.schema[c].is_numeric()):
                if c in self.bands:
                    raise ValidationError(
                        f"bands given for {c!r}, whose values are not numbers "
                        f"({frame.schema[c]}): its groups are its values"
                    )
                continue
            edges = band_edges(frame[c].to_list(), self.bands.get(c, self.bands.get("*")))
            if edges:
                out[c] = edges
        return out

    def groups(self, frame: pl.DataFrame) -> dict[str, NDArray[Any]]:
        """Each protected column's values, row by row, for the fairness report."""
        return {c: np.array(frame[c].to_list(), dtype=object) for c in self.protected}


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
        for c in self.numeric_:
            col = frame[c]
            if col.dtype.is_numeric() or col.dtype == pl.Boolean:
                continue
            bad = (col.is_not_null() & col.cast(pl.Float64, strict=False).is_null()).arg_true()
            if bad.len():
                raise ValidationError(
                    f"column {c!r} was numeric in training, but {bad.len():,} of its values "
                    f"here are not numbers (the first on data row {int(bad[0]) + 1:,})"
                )
        exprs: list[pl.Expr] = [pl.col(c).cast(pl.Float64, strict=False) for c in self.numeric_]
        for c, vs in self.levels_.items():
            text = pl.col(c).cast(pl.String).fill_null("(empty)")
            exprs += [(text == v).cast(pl.Float64).alias(f"{c}={v}") for v in vs]
        return frame.select(exprs).to_numpy().astype(np.float64)


@dataclass(frozen=True)
class TableResult:
    model: Classifier
    """Fitted on the training rows; under ``cv``, refitted on every row."""
    encoder: TableEncoder
    metrics: ClassifierMetrics
    """On the test rows; under ``cv``, each figure's mean over the folds."""
    y_test: NDArray[np.int8]
    p_test: F64
    """The test rows' scores; under ``cv``, every row's out-of-fold score."""
    test_index: NDArray[np.int64]
    fairness: FairnessReport | None
    protocol: str
    folds: tuple[ClassifierMetrics, ...] = ()
    """Under ``cv``: the metrics of each fold."""

    fitted_rows: int = 0
    """How many rows the registered model was fitted on."""

    def registry_metrics(self) -> dict[str, float]:
        """The figures the registry keeps: the test metrics, or under ``cv`` each metric's mean
        over the folds with its standard deviation (``roc_auc_sd``) and ``folds``."""
        if not self.folds:
            return self.metrics.as_dict()
        out = self.metrics.as_dict()
        for key in ("roc_auc", "pr_auc", "brier", "top_decile_lift"):
            values = [getattr(m, key) for m in self.folds]
            out[f"{key}_sd"] = float(np.std(values, ddof=1))
        out["folds"] = float(len(self.folds))
        return out


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


def _fairness(
    frame: pl.DataFrame,
    spec: TableSpec,
    rows: NDArray[np.int64],
    y: NDArray[np.int8],
    p: F64,
    gate: FairnessGate | None,
) -> FairnessReport | None:
    """The audit of ``rows`` (scored ``p``) by each protected column, numeric ones in the bands
    cut over the whole table."""
    if not spec.protected:
        return None
    return fairness_report(
        y, p, spec.groups(frame[rows]), gate=gate, bands=spec.band_edges(frame)
    )


def train_table(
    frame: pl.DataFrame,
    spec: TableSpec,
    *,
    family: str = "gbm",
    protocol: Protocol = "time",
    test_share: float = 0.2,
    folds: int = 5,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    gate: FairnessGate | None = None,
) -> TableResult:
    """Fit on the training rows, measure on the test rows, audit fairness on the protected
    columns. Under ``cv`` every row is tested once (stratified ``folds``-fold), the fairness
    audit runs on the out-of-fold scores of every row, and the model kept is refitted on all
    rows."""
    # heavy libraries on first use: importing tactful.models must stay cheap (issue 21)
    from sklearn.model_selection import StratifiedKFold

    y = labels(frame, spec)
    n = frame.height
    spec.band_edges(frame)  # refuse bad bands before any fitting
    if protocol == "cv":
        if not 2 <= folds <= n:
            raise ValidationError(f"folds must be between 2 and the row count, got {folds}")
        per_fold, oof = cross_validate(
            frame, spec, family=family, folds=folds, seed=seed, params=params
        )
        every = np.arange(n, dtype=np.int64)
        model, encoder = _fit(frame, spec, family, every, params, seed)
        means = {k: float(np.mean([getattr(m, k) for m in per_fold])) for k in _MEANED}
        mean = ClassifierMetrics(**means, rows=n)
        return TableResult(
            model,
            encoder,
            mean,
            y,
            oof,
            every,
            _fairness(frame, spec, every, y, oof, gate),
            f"stratified {folds}-fold cross-validation (shuffled, seed {seed}): each metric "
            f"is the mean over the folds, with its standard deviation; the model kept is "
            f"refitted on all {n:,} rows",
            tuple(per_fold),
            n,
        )
    if protocol == "time":
        cut = int(n * (1 - test_share))
        train_idx, test_idx = np.arange(cut), np.arange(cut, n)
        described = (
            f"time-ordered: first {1 - test_share:.0%} of rows train, last {test_share:.0%} test"
        )
    elif protocol == "stratified":
        splitter = StratifiedKFold(n_splits=round(1 / test_share), shuffle=True, random_state=seed)
        train_idx, test_idx = next(splitter.split(np.zeros(n), y))
        described = f"stratified hold-out of {test_share:.0%}"
    else:
        raise ValidationError(f"protocol must be time, stratified or cv, got {protocol!r}")
    model, encoder = _fit(
        frame, spec, family, train_idx, params, None if protocol == "time" else seed
    )
    p = model.predict(encoder.transform(frame[test_idx]))
    test_idx = test_idx.astype(np.int64)
    return TableResult(
        model,
        encoder,
        classifier_metrics(y[test_idx], p),
        y[test_idx],
        p,
        test_idx,
        _fairness(frame, spec, test_idx, y[test_idx], p, gate),
        described,
        fitted_rows=len(train_idx),
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
    from sklearn.model_selection import StratifiedKFold

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
    from sklearn.model_selection import StratifiedKFold

    y = labels(frame, spec)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(frame.height), y))
