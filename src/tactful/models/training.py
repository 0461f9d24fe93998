"""Training sets with point-in-time correctness and a time-based validation split.

A snapshot pairs the features as of a cutoff with the labels after it. Validation is out of
time: the test snapshot's cutoff is one horizon before the data end, and every training cutoff
lies at least one horizon before the test cutoff, so no training label overlaps the period the
test labels come from. When the history is too short for that (a six-month demo bank), the split
falls back to holding out a deterministic fifth of the customers at one cutoff, and says so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import polars as pl
from numpy.typing import NDArray

from tactful.errors import ValidationError
from tactful.models.features import FEATURES, customer_features
from tactful.models.history import History
from tactful.models.labels import HORIZON_DAYS, churn_labels, product_labels

F64 = NDArray[np.float64]
LOOKBACK_DAYS = 90
LabelFn = Callable[[History, datetime], pl.DataFrame]


@dataclass(frozen=True)
class Target:
    """What a model predicts: a name for the registry and the labels after a cutoff."""

    name: str
    labels: LabelFn
    description: str

    @staticmethod
    def churn(horizon_days: int = HORIZON_DAYS) -> Target:
        return Target(
            "churn",
            lambda h, c: churn_labels(h, c, horizon_days=horizon_days),
            f"closes every account or goes dormant within {horizon_days} days",
        )

    @staticmethod
    def propensity(product: str, horizon_days: int = HORIZON_DAYS) -> Target:
        return Target(
            f"propensity-{product}",
            lambda h, c: product_labels(h, c, product, horizon_days=horizon_days),
            f"opens {product} within {horizon_days} days",
        )


@dataclass(frozen=True)
class TrainingSet:
    x: F64
    y: NDArray[np.int8]
    customer_ids: tuple[str, ...]
    cutoffs: tuple[datetime, ...]
    feature_names: tuple[str, ...]

    @property
    def rows(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class Split:
    train: TrainingSet
    test: TrainingSet
    protocol: str


def snapshot(
    history: History, cutoff: datetime, target: Target, exclude: Sequence[str] = ()
) -> TrainingSet:
    """Features at ``cutoff`` joined to the labels after it (customers present in both)."""
    feats = customer_features(history, cutoff)
    labels = target.labels(history, cutoff)
    joined = feats.join(labels, on="customer_id", how="inner")
    if exclude:
        joined = joined.filter(~pl.col("customer_id").is_in(list(exclude)))
    return TrainingSet(
        x=joined.select(FEATURES).to_numpy().astype(np.float64),
        y=joined["label"].to_numpy().astype(np.int8),
        customer_ids=tuple(joined["customer_id"].to_list()),
        cutoffs=(cutoff,) * joined.height,
        feature_names=FEATURES,
    )


def concat(sets: Sequence[TrainingSet]) -> TrainingSet:
    return TrainingSet(
        np.vstack([s.x for s in sets]),
        np.concatenate([s.y for s in sets]),
        tuple(c for s in sets for c in s.customer_ids),
        tuple(c for s in sets for c in s.cutoffs),
        sets[0].feature_names,
    )


def plan_cutoffs(
    start: datetime, end: datetime, *, horizon_days: int = HORIZON_DAYS, snapshots: int = 3
) -> tuple[list[datetime], datetime]:
    """(training cutoffs oldest first, test cutoff) for an out-of-time split; training cutoffs
    are monthly, each with a full lookback window after ``start``.

    Every cutoff has the time of day of the scoring moment (just after ``end``), so features
    such as "days since the last transaction" mean the same at training and at scoring time.
    """
    day = timedelta(days=1)
    test = scoring_time_of(end) - horizon_days * day
    earliest = start + LOOKBACK_DAYS * day
    latest_train = test - horizon_days * day
    cutoffs = [latest_train - 30 * k * day for k in range(snapshots)]
    return sorted(c for c in cutoffs if c >= earliest), test


def scoring_time_of(end: datetime) -> datetime:
    return end + timedelta(microseconds=1)


def scoring_time(history: History) -> datetime:
    """The cutoff "now" for scoring: just after the last row, so every row counts."""
    return scoring_time_of(history.end)


def _held_out(customer_id: str) -> bool:
    return hashlib.sha256(customer_id.encode()).digest()[0] < 52  # about a fifth


def time_split(
    history: History,
    target: Target,
    *,
    horizon_days: int = HORIZON_DAYS,
    snapshots: int = 3,
    exclude: Sequence[str] = (),
) -> Split:
    """The training and test sets for ``target`` over ``history`` (see the module docstring)."""
    train_cutoffs, test_cutoff = plan_cutoffs(
        history.start, history.end, horizon_days=horizon_days, snapshots=snapshots
    )
    if test_cutoff - timedelta(days=LOOKBACK_DAYS) < history.start - timedelta(days=1):
        raise ValidationError(
            f"{target.name}: the history ({history.start:%Y-%m-%d} to {history.end:%Y-%m-%d}) is "
            f"too short for {LOOKBACK_DAYS} days of features and {horizon_days} days of labels"
        )
    test = snapshot(history, test_cutoff, target, exclude)
    if train_cutoffs:
        train = concat([snapshot(history, c, target, exclude) for c in train_cutoffs])
        cuts = ", ".join(f"{c:%Y-%m-%d}" for c in train_cutoffs)
        protocol = f"out of time: trained at cutoffs {cuts}; tested at {test_cutoff:%Y-%m-%d}"
        return Split(train, test, protocol)
    mask = np.array([_held_out(c) for c in test.customer_ids], dtype=bool)
    return Split(
        _subset(test, ~mask),
        _subset(test, mask),
        f"customers held out at cutoff {test_cutoff:%Y-%m-%d} (history too short for an "
        "out-of-time test)",
    )


def _subset(s: TrainingSet, mask: NDArray[np.bool_]) -> TrainingSet:
    idx = np.flatnonzero(mask)
    return TrainingSet(
        s.x[idx],
        s.y[idx],
        tuple(s.customer_ids[i] for i in idx),
        tuple(s.cutoffs[i] for i in idx),
        s.feature_names,
    )
