"""The late-income warning scored as a calibrated probability, beside the grace-days rule, in
one run -- the shortfall evaluation's protocol (``evaluation.shortfall``) on income streams.

1. Training, as the bank does it on its own history (``models.late_income.replay_late_rows``,
   what ``tactful models train --family income_late`` runs): as-of days every ``TRAIN_STEP`` days
   from ``TRAIN_FROM`` days into the window up to the first evaluation day less ``LATE_DAYS``
   (every label known by then); features are what the engine had at the end of each day
   (series and income detected again on the day's cut), labels what the store's credits did.
2. Scoring: every ``EVAL_STEP`` days over the last four months (the last ``FUTURE_DAYS``
   before the window's end, as the insight evaluation does), the rule and the model-driven
   ``income_late`` run on the same inputs, scored by the insight evaluation's own
   ``score_late`` against the simulator's truth.
3. Calibration: every candidate stream on those days, its P against the truth (the stream's
   truth series has no payment within [expected - 3, expected + 7]); the rule's warn / silent
   as 1 / 0 beside it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl

from tactful.errors import ValidationError
from tactful.evaluation.bank import EvalBank
from tactful.evaluation.insight_truth import Tally, Truth, days_of, majority, score_late
from tactful.evaluation.insights import FUTURE_DAYS
from tactful.evaluation.report import Metric, Section
from tactful.evaluation.shortfall import (
    calibration_metrics,
    gate_note,
    reliability_table,
    train_gated,
)
from tactful.insights.detectors.income import IncomeLate
from tactful.insights.late_income_risk import (
    EARLY_DAYS,
    LATE_DAYS,
    LateIncomeRisk,
    late_features,
)
from tactful.models.history import refused_customers
from tactful.models.late_income import (
    LATE_INCOME,
    NAME,
    TEST_DAYS,
    TRAIN_STEP,
    replay_late_rows,
)
from tactful.models.registry import MetricFloors, lift_floor
from tactful.models.replay import Replay, every

EVAL_STEP = 3
EVAL_SPAN = 120
TARGET_RECALL = 0.8


def truly_late(feats: pl.DataFrame, imap: pl.DataFrame, truth: Truth) -> pl.Series:
    """Per candidate row: its mapped truth series has no payment within [expected - 3,
    expected + 7] (``score_late``'s test of a finding; unmapped streams count as late)."""
    pays = truth.members.filter(pl.col("amount_minor") > 0).select(
        pl.col("series_id").alias("tsid"), "date")
    rows = feats.select("stream_id", "next_date").with_row_index("_row").join(
        imap, on="stream_id", how="left")
    arrived = rows.join(pays, on="tsid").filter(
        days_of(pl.col("date") - pl.col("next_date")).is_between(-EARLY_DAYS, LATE_DAYS)
    ).select("_row").unique()
    return ~rows.get_column("_row").is_in(arrived.get_column("_row").implode())


def evaluate_income_late(
    bank: EvalBank, workdir: Path, *, say: Callable[[str], None] = lambda _m: None
) -> list[Section]:
    started = time.perf_counter()
    say("late income: loading the bank")
    replay = Replay.of(bank.store, everyone=True)
    last_eval = replay.last - timedelta(days=FUTURE_DAYS)
    eval_days = every(last_eval - timedelta(days=EVAL_SPAN), last_eval, EVAL_STEP)
    refused = sorted(refused_customers(bank.store))
    t0 = time.perf_counter()
    rows, train_days = replay_late_rows(replay, until=eval_days[0], exclude=refused,
                                        say=lambda m: say(f"late income: {m}"))
    t1 = time.perf_counter()
    say("late income: training")
    trained, gate = train_gated(bank, workdir, LATE_INCOME, rows, test_days=TEST_DAYS,
                                what="late-income")
    fit_seconds = time.perf_counter() - t1
    risk = LateIncomeRisk(trained.model, f"{NAME} v{trained.version.version}")
    truth = Truth(bank, replay.cats)
    detector = IncomeLate()
    rule, model, anyone = Tally(), Tally(), Tally()
    ys: list[np.ndarray] = []
    ps: list[np.ndarray] = []
    rule_p: list[np.ndarray] = []
    for d in eval_days:
        say(f"late income: scoring as of {d}")
        data, members = replay.detected(d)
        imap = majority(members, "stream_id", truth.members)
        rule_found = detector.detect(data)
        model_found = detector.detect(replace(data, late_income_risk=risk))
        score_late(rule, rule_found, d, imap, truth)
        score_late(model, model_found, d, imap, truth)
        feats = late_features(data)
        score_late(anyone, detector.findings_of(feats.with_columns(pl.lit(1.0).alias("_p"))), d,
                   imap, truth)
        ys.append(truly_late(feats, imap, truth).to_numpy().astype(np.int8))
        ps.append(risk.probability(feats))
        rule_p.append(feats.get_column("stream_id").is_in(
            rule_found.get_column("subject").implode()).to_numpy().astype(np.float64))
    y, p, rp = np.concatenate(ys), np.concatenate(ps), np.concatenate(rule_p)
    if len(np.unique(y)) < 2:
        raise ValidationError("the evaluation days hold no late income: nothing to score")
    seconds = time.perf_counter() - started
    metrics = [
        Metric("model precision", model.precision, ">= 0.9",
               f"{model.correct:,} of {model.findings:,} warnings"),
        Metric("model recall", model.recall, ">= 0.8",
               f"{model.found:,} of {model.truth:,} late payments"),
        Metric("rule precision", rule.precision, None,
               f"{rule.correct:,} of {rule.findings:,} warnings"),
        Metric("rule recall", rule.recall, None,
               f"{rule.found:,} of {rule.truth:,} late payments"),
        Metric("recall if every candidate were warned", anyone.recall, None,
               f"{anyone.found:,} of {anyone.truth:,}: the ceiling of any model on these streams "
               f"(precision then {anyone.precision or 0:.3f})"),
    ]
    metrics += calibration_metrics(y, p, rp, recall=TARGET_RECALL, rows="stream-days")
    metrics += [
        Metric("training rows", rows.height, None,
               f"{int(rows.get_column('label').sum()):,} late (store labels)"),
        Metric("training time, features and labels (s)", t1 - t0),
        Metric("training time, fit and register (s)", fit_seconds),
    ]
    base, floor = float(np.mean(y)), MetricFloors().min_top_decile_lift
    c = bank.config
    return [Section(
        title="Late income as a calibrated probability (simulated bank)",
        data=(f"simulated bank, {c.customers:,} customers x {c.months} months from {c.start} "
              f"(seed {c.seed}); scored as of {eval_days[0]} to {eval_days[-1]} every "
              f"{EVAL_STEP} days ({len(eval_days)} days)"),
        metrics=metrics,
        tables=[reliability_table(y, p, "stream-days")],
        notes=[
            f"Training as-of days: {train_days[0]} to {train_days[-1]}, every {TRAIN_STEP} "
            f"days ({len(train_days)}); labels from the store's credits only.",
            gate_note(NAME, trained.version.version, gate),
            f"The most any ranking can lift the top decile over a base rate of {base:.2f} is "
            f"{1 / max(base, 1e-9):.2f}: the registry's lift floor asks for the same share of "
            f"that as {floor} is of a rare target's tenfold (registry.lift_floor: "
            f"{lift_floor(floor, base):.3f} here).",
            "Operating point: a warning where P x income_late_harm > "
            "income_late_attention_cost (the insight settings' defaults), not a threshold "
            "tuned here.",
            "Truth: as the insight evaluation's income_late (score_late): a warning is right if "
            "the mapped truth stream has no payment in [expected-3, expected+7]; recall over "
            "regular truth streams whose last payment is 5-31 days later than their median gap.",
            f"Run time of the late-income evaluation: {seconds:.0f} s.",
        ],
    )]
