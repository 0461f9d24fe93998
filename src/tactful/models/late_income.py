"""The late-income model: ``models.risk`` trained on (income stream, as-of day) rows -- the
features the engine had at the end of the day (``insights.late_income_risk.late_features``) and
whether the store then saw the payer's payment within ``LATE_DAYS`` of its expected date.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any, Final

import polars as pl

from tactful.insights.inputs import InsightInputs
from tactful.insights.late_income_risk import (
    LATE_DAYS,
    LATE_FEATURES,
    LateIncomeRisk,
    late_features,
    late_labels,
)
from tactful.models.registry import ModelRegistry
from tactful.models.replay import Replay, every
from tactful.models.risk import RiskTask, promoted_model

NAME: Final = "income_late"
TRAIN_FROM: Final = 90
"""The first as-of day is this many days into the bank's data: a stream needs three payments
and its gaps some history before its lateness can be asked about."""
TRAIN_STEP: Final = 2
"""An as-of day every two days: a late payment is a candidate on each day it is missing."""
TEST_DAYS: Final = 10
"""The registry's out-of-time test slice: the last ten as-of days (about three weeks)."""
PARAMS: Final[Mapping[str, Any]] = {
    "rounds": 400, "learning_rate": 0.05, "leaves": 15, "min_leaf": 20,
    "calibration": "sigmoid", "calibration_share": 0.25,
}
"""The shortfall model's choices (Platt scaling, 15 leaves), with smaller leaves and fewer
rounds for the fewer rows: a few thousand stream-days, not tens of thousands of account-days."""
LATE_INCOME: Final = RiskTask(
    NAME,
    f"the payer's payment of an income stream is not booked to its account from 3 days before "
    f"its expected date to {LATE_DAYS} after, asked on each day after the expected date while "
    f"unseen; labelled from the store's own bookings",
    LATE_FEATURES, PARAMS,
    ("Labels are the store's later credits from the stream's payer; features are cut at the "
     "as-of day (tested: changing the future leaves them unchanged).",),
)


def late_training_rows(
    snapshot: Callable[[date], InsightInputs],
    days: Sequence[date],
    *,
    credits: pl.DataFrame,
    last_day: date,
    exclude: Sequence[str] = (),
    say: Callable[[str], None] = lambda _m: None,
) -> pl.DataFrame:
    """Features at the end of each of ``days`` with the store's label, one row per candidate
    stream whose label is known by ``last_day``, in time order. ``credits``: the store's posted
    credits over the whole history."""
    parts = []
    for d in sorted(days):
        say(f"late-income rows as of {d}")
        feats = late_features(snapshot(d))
        labels = late_labels(feats, credits, last_day=last_day)
        parts.append(feats.join(labels, on="stream_id").with_columns(pl.lit(d).alias("as_of")))
    rows = pl.concat(parts) if parts else pl.DataFrame()
    if exclude and rows.height:
        rows = rows.filter(~pl.col("customer_id").is_in(list(exclude)))
    return rows


def late_training_days(replay: Replay, *, until: date) -> list[date]:
    """The as-of days ``replay_late_rows`` builds rows for."""
    known = until - timedelta(days=1)
    return every(replay.first + timedelta(days=TRAIN_FROM), known - timedelta(days=LATE_DAYS),
                 TRAIN_STEP)


def replay_late_rows(
    replay: Replay,
    *,
    until: date,
    exclude: Sequence[str] = (),
    say: Callable[[str], None] = lambda _m: None,
) -> tuple[pl.DataFrame, list[date]]:
    """``late_training_rows`` of ``replay``'s bank on every ``TRAIN_STEP``-th day from
    ``TRAIN_FROM`` days into its data to ``LATE_DAYS`` before ``until`` (the first day whose
    bookings the labels may not read: each label is known by the day before), with the as-of
    days."""
    known = until - timedelta(days=1)
    days = late_training_days(replay, until=until)
    credits = replay.credits().filter(pl.col("booked_on") <= known)
    return late_training_rows(replay.on, days, credits=credits, last_day=known,
                              exclude=exclude, say=say), days


def production_late_risk(registry: ModelRegistry) -> LateIncomeRisk | None:
    """The promoted late-income model, or None (``income_late`` then warns by its rule)."""
    found = promoted_model(registry, NAME)
    return None if found is None else LateIncomeRisk(found[0], found[1])
