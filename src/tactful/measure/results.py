"""An experiment's result: per arm, the share of customers with the metric, its interval, the
difference from control with its interval, fixed-horizon and always-valid p-values, a CUPED
estimate from the pre-period, and the sample-ratio check (``measure.stats`` says which test and
why).

The unit is the customer, as assignment is: a customer counts once, in the arm their decisions
logged (``decisions.experiments``), from the experiment's start to its end. The metric is whether
the customer had at least one outcome of the experiment's kind on any decision in that window;
the CUPED covariate is the number of such outcomes in an equally long window before the start.

:func:`analyse` is pure over a frame of units, so it can be tested on data whose truth is known;
:func:`units` reads that frame from the store.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import select

from tactful.errors import ValidationError
from tactful.measure import stats
from tactful.measure.experiments import HOLDOUT, Experiment
from tactful.store import schema
from tactful.store.store import Store

UNITS_SCHEMA = {"customer_id": pl.Utf8, "arm": pl.Utf8, "y": pl.Float64, "x_pre": pl.Float64}


@dataclass(frozen=True, slots=True)
class ArmResult:
    arm: str
    expected_share: float
    rate: stats.Rate
    versus_control: stats.Difference | None
    """None for the control arm."""
    p_holm: float | None
    always_valid_p: float | None
    """The mSPRT's p-value: valid however often the status is looked at."""
    cuped: stats.Difference | None
    """The difference from control after CUPED (None without pre-period variation)."""


@dataclass(frozen=True, slots=True)
class ExperimentResult:
    name: str
    metric: str
    customers: int
    arms: tuple[ArmResult, ...]
    srm: stats.SampleRatio
    holdout_effect: stats.Difference | None
    """Everyone treated minus the global holdout: the program's incremental effect."""
    variance_ratio: float | None
    """CUPED: the share of the metric's variance left after the adjustment."""

    def table(self) -> pl.DataFrame:
        """One row per arm: what the CLI prints and the HTML page shows."""
        rows = []
        for a in self.arms:
            d, c = a.versus_control, a.cuped
            rows.append({
                "arm": a.arm, "customers": a.rate.n, "expected_share": a.expected_share,
                "rate": a.rate.rate, "rate_low": a.rate.low, "rate_high": a.rate.high,
                "diff": None if d is None else d.diff,
                "diff_low": None if d is None else d.low,
                "diff_high": None if d is None else d.high,
                "p_value": None if d is None else d.p_value, "p_holm": a.p_holm,
                "always_valid_p": a.always_valid_p,
                "cuped_diff": None if c is None else c.diff,
                "cuped_low": None if c is None else c.low,
                "cuped_high": None if c is None else c.high,
            })
        return pl.DataFrame(rows, infer_schema_length=None)


def analyse(experiment: Experiment, units_: pl.DataFrame, *, alpha: float = 0.05,
            tau: float = 0.02) -> ExperimentResult:
    """The result of ``experiment`` from its units (``customer_id``, ``arm``, ``y`` in {0, 1},
    ``x_pre``). ``tau`` is the mSPRT's mixing standard deviation, in rate units: near the
    smallest difference worth finding."""
    missing = set(UNITS_SCHEMA) - set(units_.columns)
    if missing:
        raise ValidationError(f"units lack column(s) {sorted(missing)}")
    shares = experiment.shares()
    unknown = set(units_["arm"].unique().to_list()) - set(shares)
    if unknown:
        raise ValidationError(f"units in arm(s) {sorted(unknown)} not in experiment "
                              f"{experiment.name}")
    y_all = units_["y"].to_numpy().astype(float)
    x_all = units_["x_pre"].to_numpy().astype(float)
    adjusted = None
    ratio = None
    if len(y_all) >= 2 and float(np.var(x_all)) > 0 and float(np.var(y_all)) > 0:
        c = stats.cuped(y_all, x_all)
        adjusted, ratio = c.adjusted, c.variance_ratio
    arm_of = units_["arm"].to_numpy()

    def ys(arm: str) -> Any:
        return y_all[arm_of == arm]

    control = experiment.control
    yc = ys(control)
    results: list[ArmResult] = []
    raw_p: list[float] = []
    for arm in shares:
        y = ys(arm)
        rate = stats.wilson(int(y.sum()), len(y), alpha=alpha)
        if arm == control:
            results.append(ArmResult(arm, shares[arm], rate, None, None, None, None))
            continue
        d = stats.rate_difference(int(y.sum()), len(y), int(yc.sum()), len(yc), alpha=alpha)
        seq = stats.msprt_rates(int(y.sum()), len(y), int(yc.sum()), len(yc), tau=tau,
                                alpha=alpha)
        cup = None
        if adjusted is not None:
            cup = stats.mean_difference(adjusted[arm_of == arm], adjusted[arm_of == control],
                                        alpha=alpha)
        raw_p.append(d.p_value)
        results.append(ArmResult(arm, shares[arm], rate, d, None, seq.p_value, cup))
    adjusted_p = iter(stats.holm(raw_p))
    results = [r if r.versus_control is None else ArmResult(
        r.arm, r.expected_share, r.rate, r.versus_control, next(adjusted_p), r.always_valid_p,
        r.cuped) for r in results]
    holdout_effect = None
    if HOLDOUT in shares:
        treated = y_all[arm_of != HOLDOUT]
        held = ys(HOLDOUT)
        holdout_effect = stats.rate_difference(int(treated.sum()), len(treated),
                                               int(held.sum()), len(held), alpha=alpha)
    check = stats.srm([r.rate.n for r in results], [shares[r.arm] for r in results])
    return ExperimentResult(experiment.name, experiment.metric_kind.value, units_.height,
                            tuple(results), check, holdout_effect, ratio)


def units(store: Store, experiment: Experiment, *, at: datetime) -> pl.DataFrame:
    """The experiment's customers up to ``at`` (or its end): their logged arm, whether they had
    the metric, and how many times in the pre-period."""
    start = experiment.starts_at
    end = min(at, experiment.end() or at)
    d, o = schema.decisions, schema.outcomes
    arm: dict[str, str] = {}
    for cid, logged in store.rows(select(d.c.customer_id, d.c.experiments).where(
            d.c.decided_at >= start, d.c.decided_at < end, d.c.experiments.is_not(None))
            .order_by(d.c.decided_at)):
        # a decision logged under no experiment may hold JSON null, not SQL NULL
        data = logged if isinstance(logged, dict) else json.loads(logged or "null")
        if data and experiment.name in data:
            arm.setdefault(str(cid), str(data[experiment.name]))
    metric = experiment.metric_kind.value
    span = end - start
    hits: dict[str, int] = {}
    before: dict[str, int] = {}
    for cid, when in store.rows(select(o.c.customer_id, o.c.occurred_at).where(
            o.c.kind == metric, o.c.occurred_at >= start - span, o.c.occurred_at < end)):
        key = str(cid)
        if key not in arm:
            continue
        if when >= start:
            hits[key] = 1
        else:
            before[key] = before.get(key, 0) + 1
    ids = sorted(arm)
    return pl.DataFrame({
        "customer_id": ids, "arm": [arm[c] for c in ids],
        "y": [float(hits.get(c, 0)) for c in ids],
        "x_pre": [float(before.get(c, 0)) for c in ids],
    }, schema=UNITS_SCHEMA)


def fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}f}"
