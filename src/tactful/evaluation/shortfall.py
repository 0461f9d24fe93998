"""The shortfall warning scored as a calibrated probability, beside the rule forecast, in one run.

Protocol, on the evaluation bank (seed 101, never used for development):

1. Training, as the bank does it on its own history (``models.shortfall.replay_rows``, what
   ``tactful models train --family shortfall`` runs): as-of days every ``TRAIN_STEP`` days
   from ``TRAIN_FROM`` days into the window, the last one the risk horizon before the first
   evaluation day (so every label was known by then). Features are what the engine had at the
   end of each day (series and income detected again on the day's cut); labels are what the
   store's balances then did. Never the simulator's truth. The model is registered and must
   pass the registry's gate like any other; the section says so if it did not.
2. Scoring: every ``EVAL_STEP`` days over the last four months (the last day ``FUTURE_DAYS``
   before the window's end, as the insight evaluation does), both the rule detector and the
   model-driven detector run on the same inputs; findings are scored per customer against the
   simulator's truth (``truth/customer_needs.parquet``: the balance is >= 0 at the end of the
   day and goes below zero before the customer's next pay), which the engine never reads.
3. Calibration: every scored account (still above the line) on those days, its P against the
   truth: reliability curve, Brier score, ECE; the rule's warn / no-warn as a probability of 1
   or 0 beside it.
4. What limits precision at the target recall: the best precision at recall ``TARGET_RECALL``
   of the same model against the shortfalls within ``NEAR_DAYS`` days alone, and of models
   given features no bank can have -- what the account spends, pays out and receives in the
   coming weeks (``ORACLE_WINDOWS``), read from the store's future (``future_spending``,
   ``future_inflows``) -- trained and scored on the same rows.
5. Label agreement: on the same account-days, the label the engine would build from the
   store's later history (``shortfall_labels``, what the model is trained on) against the
   simulator's truth -- the precision and recall of the label itself, a ceiling on what a
   model trained on it can learn.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from tactful.errors import ValidationError
from tactful.evaluation.bank import EvalBank
from tactful.evaluation.insights import FUTURE_DAYS
from tactful.evaluation.report import Metric, Section, markdown_table
from tactful.insights.detectors.cashflow import Shortfall
from tactful.insights.forecast import ESSENTIALS
from tactful.insights.shortfall_risk import (
    FEATURES,
    NOT_DISCRETIONARY,
    ShortfallRisk,
    risk_features,
    shortfall_labels,
)
from tactful.models.history import refused_customers
from tactful.models.metrics import classifier_metrics
from tactful.models.registry import MetricFloors, ModelRegistry
from tactful.models.replay import Replay, every
from tactful.models.risk import RiskTask, RiskTraining, fit_risk, train_risk
from tactful.models.shortfall import (
    NAME,
    SHORTFALL,
    TEST_DAYS,
    TRAIN_STEP,
    expected_calibration_error,
    precision_at_recall,
    reliability,
    replay_rows,
)
from tactful.models.train import fairness_from_store

EVAL_STEP = 7
EVAL_SPAN = 84
TARGET_RECALL = 0.75
NEAR_DAYS = 14
"""The rule forecast's own horizon: recall on the shortfalls this close is shown apart."""
ORACLE_WINDOWS = (7, 14, 35)
"""The oracles' windows: a week, ``NEAR_DAYS``, and the longest risk horizon (the
insight settings' ``shortfall_risk_days``: the truth looks at most that far, to the next pay)."""


def _score(found: set[str], truth: set[str]) -> tuple[int, int, int, int]:
    return len(found), len(found & truth), len(truth), len(truth & found)


def future_spending(transactions: pl.DataFrame, rows: pl.DataFrame, *, days: int,
                    every_outflow: bool = False) -> pl.Series:
    """Per row of ``rows`` (``account_id``, ``as_of``, ``unit``): the discretionary spending
    (posted checking outflows outside any series, neither essentials nor transfers, loans,
    fees or rent -- what ``disc_mean`` averages) the account books in the ``days`` days after
    ``as_of``, in major units; with ``every_outflow``, every posted checking outflow (bills,
    transfers and all). No bank knows it on ``as_of``: the oracle feature of the ceiling
    measure.

    >>> from datetime import date
    >>> tx = pl.DataFrame({"account_id": ["A"] * 3, "booked_on": [date(2025, 1, d) for d in
    ...     (2, 5, 9)], "amount_minor": [-1000, -250, -4000], "status": "posted",
    ...     "series_id": None, "account_type": "checking", "category": "SHOPPING",
    ...     "category_detailed": "GENERAL_MERCHANDISE_OTHER"})
    >>> rows = pl.DataFrame({"account_id": ["A", "A", "B"], "as_of": [date(2025, 1, 1),
    ...     date(2025, 1, 2), date(2025, 1, 1)], "unit": [100, 100, 100]})
    >>> future_spending(tx, rows, days=7).to_list()
    [12.5, 42.5, 0.0]
    """
    outflow = _posted_checking() & (pl.col("amount_minor") < 0)
    discretionary = (
        pl.col("series_id").is_null() & pl.col("category").is_not_null()
        & ~pl.col("category").is_in(list(NOT_DISCRETIONARY))
        & pl.col("category_detailed").is_not_null()
        & ~pl.col("category_detailed").is_in(list(ESSENTIALS)))
    booked = transactions.filter(outflow if every_outflow else outflow & discretionary)
    return _future_sum(booked.with_columns(-pl.col("amount_minor")), rows,
                       days=days).alias("future_spend")


def future_inflows(transactions: pl.DataFrame, rows: pl.DataFrame, *, days: int) -> pl.Series:
    """Per row of ``rows``: every posted checking inflow (pay, benefits, top-ups from savings or
    from other people, refunds) the account books in the ``days`` days after ``as_of``, in
    major units. The other half of the oracle: what money comes, which no bank knows ahead
    either (a top-up made because the balance ran low is in it).

    >>> from datetime import date
    >>> tx = pl.DataFrame({"account_id": ["A"] * 3, "booked_on": [date(2025, 1, d) for d in
    ...     (2, 5, 9)], "amount_minor": [5000, -250, 4000], "status": "posted",
    ...     "account_type": "checking"})
    >>> rows = pl.DataFrame({"account_id": ["A"], "as_of": [date(2025, 1, 2)], "unit": [100]})
    >>> future_inflows(tx, rows, days=7).to_list()
    [40.0]
    """
    booked = transactions.filter(_posted_checking() & (pl.col("amount_minor") > 0))
    return _future_sum(booked, rows, days=days).alias("future_inflow")


def _posted_checking() -> pl.Expr:
    return (pl.col("status") == "posted") & (pl.col("account_type") == "checking")


def _future_sum(booked: pl.DataFrame, rows: pl.DataFrame, *, days: int) -> pl.Series:
    """Per row of ``rows``: the sum of ``booked``'s ``amount_minor`` of the row's account over
    the days (``as_of``, ``as_of + days``], in the row's ``unit``s."""
    daily = (
        booked.group_by("account_id", pl.col("booked_on").alias("day"))
        .agg(pl.col("amount_minor").sum().alias("_amount"))
        .sort("day")
        .with_columns(pl.col("_amount").cum_sum().over("account_id").alias("_cum"))
        .select("account_id", "day", "_cum")
    )
    keyed = rows.select("account_id", "as_of", "unit").with_row_index("_row").with_columns(
        (pl.col("as_of") + timedelta(days=days)).alias("_end"))

    def cum_at(column: str) -> pl.DataFrame:
        return keyed.sort(column).join_asof(
            daily, left_on=column, right_on="day", by="account_id", strategy="backward",
            check_sortedness=False,  # both sorted by day, as the join needs
        ).select("_row", pl.col("_cum").fill_null(0))

    out = keyed.join(cum_at("_end"), on="_row").join(
        cum_at("as_of").rename({"_cum": "_start"}), on="_row").sort("_row")
    return ((out.get_column("_cum") - out.get_column("_start")) / out.get_column("unit")).cast(
        pl.Float64)


def store_labels(feats: pl.DataFrame, eod: pl.DataFrame, income_days: pl.DataFrame, d: date,
                 *, horizon: int, buffer: float) -> pl.DataFrame:
    """The label ``training_rows`` gives each account of ``feats`` (``risk_features`` as of
    ``d``) from the store's later balances and income bookings, with its ``customer_id``:
    accounts whose window the store does not cover are left out, as in training."""
    line = feats.select("account_id", "customer_id",
                        (buffer * pl.col("unit")).round(0).cast(pl.Int64).alias("line_minor"))
    return shortfall_labels(eod, income_days, d, horizon=horizon,
                            line=line.select("account_id", "line_minor")).join(
        line.select("account_id", "customer_id"), on="account_id")


def label_agreement(labels: pl.DataFrame, truth: set[str]) -> tuple[int, int, int, int]:
    """The store's labels of one as-of day (``customer_id``, ``label`` 1 / 0 per labelled
    account) against the simulator's truth of that day (the customers whose shortfall is
    coming): labelled account-days, labelled shortfalls, true shortfalls among the labelled,
    and how many were both (precision = both / labelled shortfalls, recall = both / true).

    >>> rows = pl.DataFrame({"customer_id": ["a", "b", "c", "d"], "label": [1, 1, 0, 0]})
    >>> label_agreement(rows, {"a", "c"})
    (4, 2, 2, 1)
    """
    short = labels.get_column("label").to_numpy() == 1
    true = labels.get_column("customer_id").is_in(list(truth)).to_numpy()
    return len(short), int(short.sum()), int(true.sum()), int((short & true).sum())


def train_gated(
    bank: EvalBank, workdir: Path, task: RiskTask, rows: pl.DataFrame, *, test_days: int,
    what: str,
) -> tuple[RiskTraining, list[str]]:
    """Train a risk model on the evaluation bank, audit its fairness from the store and put it
    through the registry's gate like any model; promoted only when the gate passes (the list
    holds the gate's refusals, empty when promoted)."""
    registry = ModelRegistry(bank.store, model_dir=workdir / "models")
    store = bank.store
    trained = train_risk(
        task, registry, rows, test_days=test_days, created_by="evaluation",
        fairness=lambda ids, y, p: fairness_from_store(
            store, ids, y, p, purpose=f"fairness audit of the {what} model (evaluation)"),
    )
    gate = registry.gate(trained.version, MetricFloors())
    if not gate:
        registry.promote(task.name, trained.version.version, by="evaluation",
                         floors=MetricFloors())
    return trained, list(gate)


def evaluate_shortfall(
    bank: EvalBank, workdir: Path, *, say: Callable[[str], None] = lambda _m: None
) -> list[Section]:
    started = time.perf_counter()
    say("shortfall: loading the bank")
    replay = Replay.of(bank.store, everyone=True)
    eod, income = replay.outcomes()
    horizon = replay.base.settings.shortfall_risk_days
    last_eval = replay.last - timedelta(days=FUTURE_DAYS)
    eval_days = every(last_eval - timedelta(days=EVAL_SPAN), last_eval, EVAL_STEP)
    refused = sorted(refused_customers(bank.store))
    t0 = time.perf_counter()
    rows, train_days = replay_rows(replay, until=eval_days[0], exclude=refused,
                                   say=lambda m: say(f"shortfall: {m}"))
    t1 = time.perf_counter()
    say("shortfall: training")
    trained, gate = train_gated(bank, workdir, SHORTFALL, rows, test_days=TEST_DAYS,
                                what="shortfall")
    fit_seconds = time.perf_counter() - t1
    risk = ShortfallRisk(trained.model, f"{NAME} v{trained.version.version}")
    needs = pl.read_parquet(bank.truth / "customer_needs.parquet").with_columns(
        pl.col("date").str.to_date(), pl.col("shortfall_date").str.to_date())
    detector = Shortfall()
    tallies = {k: [0, 0, 0, 0] for k in ("model", "rule", "model near", "rule near")}
    ys: list[np.ndarray] = []
    ps: list[np.ndarray] = []
    rule_p: list[np.ndarray] = []
    near_y: list[np.ndarray] = []
    scored: list[pl.DataFrame] = []
    agreement = [0, 0, 0, 0]
    for d in eval_days:
        say(f"shortfall: scoring as of {d}")
        data = replay.on(d)
        ahead = needs.filter((pl.col("date") == d) & pl.col("shortfall_date").is_not_null())
        truth = set(ahead.get_column("customer_id").to_list())
        near = set(ahead.filter(pl.col("shortfall_date") <= d + timedelta(days=NEAR_DAYS))
                   .get_column("customer_id").to_list())
        rule_found = set(detector.detect(data).get_column("customer_id").to_list())
        model_found = set(detector.detect(replace(data, shortfall_risk=risk))
                          .get_column("customer_id").to_list())
        for key, found, cases in (("rule", rule_found, truth), ("model", model_found, truth),
                                  ("rule near", rule_found, near),
                                  ("model near", model_found, near)):
            tallies[key] = [a + b for a, b in zip(tallies[key], _score(found, cases),
                                                  strict=True)]
        feats = risk_features(data, horizon=horizon).filter(
            pl.col("balance_minor") >= data.settings.shortfall_buffer * pl.col("unit"))
        ids = feats.get_column("customer_id")
        ys.append(ids.is_in(list(truth)).to_numpy().astype(np.int8))
        near_y.append(ids.is_in(list(near)).to_numpy().astype(np.int8))
        scored.append(feats.with_columns(pl.lit(d).alias("as_of")))
        ps.append(risk.probability(feats))
        rule_p.append(ids.is_in(list(rule_found)).to_numpy().astype(np.float64))
        labels = store_labels(feats, eod, income, d, horizon=horizon,
                              buffer=data.settings.shortfall_buffer)
        agreement = [a + b for a, b in zip(agreement, label_agreement(labels, truth),
                                           strict=True)]
    y, p, rp = np.concatenate(ys), np.concatenate(ps), np.concatenate(rule_p)
    say("shortfall: the ceiling with the future's spending known")
    ceiling = ceiling_metrics(replay.base.transactions, rows, pl.concat(scored), y, p,
                              np.concatenate(near_y))
    seconds = time.perf_counter() - started
    return [_section(bank, trained.version.version, gate, rows, train_days, eval_days, tallies,
                     y, p, rp, t1 - t0, fit_seconds, seconds, agreement, ceiling)]


Oracle = Callable[[pl.DataFrame], pl.Series]
"""One oracle feature: a column per row of a ``risk_features`` frame with ``as_of``."""


def ceiling_metrics(transactions: pl.DataFrame, rows: pl.DataFrame, scored: pl.DataFrame,
                    y: np.ndarray, p: np.ndarray, near: np.ndarray) -> list[Metric]:
    """Where the precision at ``TARGET_RECALL`` is lost: the model's best precision there
    against the shortfalls within ``NEAR_DAYS`` days alone, and that of the same model family
    trained on ``rows`` and scored on ``scored`` (``risk_features`` rows with ``as_of``, labels
    ``y``) with what the coming days bring added as features no bank has: the next
    ``NEAR_DAYS`` days' discretionary spending; every outflow, every inflow, and both, each
    summed over the next ``ORACLE_WINDOWS`` days (several windows, so the model sees roughly
    when the money goes and comes, not only how much, up to the truth's own horizon)."""
    def spend(every: bool, days: int) -> Oracle:
        name = f"future_out_{days}" if every else "future_spend"
        return lambda f: future_spending(transactions, f, days=days,
                                         every_outflow=every).alias(name)

    def inflow(days: int) -> Oracle:
        return lambda f: future_inflows(transactions, f, days=days).alias(f"future_in_{days}")

    columns = [spend(False, NEAR_DAYS), *(spend(True, d) for d in ORACLE_WINDOWS),
               *(inflow(d) for d in ORACLE_WINDOWS)]
    # every oracle column once per frame; each oracle below picks its own
    train, test = (frame.with_columns([column(frame) for column in columns])
                   for frame in (rows, scored))
    outflows = tuple(f"future_out_{d}" for d in ORACLE_WINDOWS)
    inflows = tuple(f"future_in_{d}" for d in ORACLE_WINDOWS)
    oracles = [
        (f"the next {NEAR_DAYS} days' discretionary spending", ("future_spend",)),
        (_windows("outflows"), outflows),
        (_windows("inflows"), inflows),
        (_windows("inflows and outflows"), outflows + inflows),
    ]
    out = []
    for what, added in oracles:
        oracle = RiskTask(f"{NAME}_oracle", SHORTFALL.target, (*FEATURES, *added),
                          SHORTFALL.params)
        model = fit_risk(oracle, train)
        x = test.select(pl.col(c).cast(pl.Float64) for c in oracle.features).to_numpy()
        known, _ = precision_at_recall(y, model.predict(x), TARGET_RECALL)
        out.append(Metric(f"best precision at recall >= {TARGET_RECALL}, {what} known (oracle)",
                          known, None, f"the same rows and model family with {len(added)} "
                          f"feature(s) no bank has"))
    if near.any():
        close, _ = precision_at_recall(near, p, TARGET_RECALL)
        out.insert(0, Metric(f"best precision at recall >= {TARGET_RECALL}, shortfalls within "
                             f"{NEAR_DAYS} days as the truth", close, None,
                             f"{int(near.sum()):,} account-days; the model as trained"))
    return out


def _windows(what: str) -> str:
    days = ", ".join(str(d) for d in ORACLE_WINDOWS[:-1])
    return f"{what} of the next {days} and {ORACLE_WINDOWS[-1]} days"


def calibration_metrics(y: np.ndarray, p: np.ndarray, rp: np.ndarray, *, recall: float,
                        rows: str) -> list[Metric]:
    """The calibration figures every risk model reports beside its rule, on the same ``rows``
    (labels ``y``, the model's ``p``, the rule's warn / silent ``rp`` as 1 / 0): ECE and Brier
    of both, ROC-AUC, PR-AUC and the best precision at ``recall`` of the model."""
    ceiling, at = precision_at_recall(y, p, recall)
    cm = classifier_metrics(y, p)
    return [
        Metric("model ECE", expected_calibration_error(y, p), "<= 0.03",
               f"{len(y):,} {rows}, 10 equal-width bins"),
        Metric("model Brier score", cm.brier, None, f"base rate {cm.base_rate:.3f}"),
        Metric("rule ECE (warn = 1, silent = 0)", expected_calibration_error(y, rp)),
        Metric("rule Brier score (warn = 1, silent = 0)", float(np.mean((rp - y) ** 2))),
        Metric("model ROC-AUC", cm.roc_auc),
        Metric("model PR-AUC", cm.pr_auc),
        Metric(f"best precision at recall >= {recall} (PR curve)", ceiling, None,
               f"at P >= {at:.3f}: the ceiling of any threshold on this model"),
    ]


def reliability_table(y: np.ndarray, p: np.ndarray, rows: str) -> tuple[str, str]:
    """The model's reliability curve as a report table."""
    return ("Reliability curve of the model (equal-width bins)", markdown_table(
        ("mean P", "observed rate", rows),
        [(f"{a:.3f}", f"{b:.3f}", n) for a, b, n in reliability(y, p)]))


def gate_note(name: str, version: int, gate: list[str]) -> str:
    """What the registry's gate said of the model an evaluation trained (``train_gated``)."""
    verdict = "passed, promoted" if not gate else (
        "REFUSED (" + "; ".join(gate) + "), scored as a candidate")
    return f"Registered as {name} v{version}; registry gate: {verdict}"


def _rate(a: int, b: int) -> float | None:
    return a / b if b else None


def label_metrics(agreement: list[int], scored: int) -> list[Metric]:
    """``label_agreement``'s counts summed over the evaluation days, as the report's rows."""
    labelled, short, true, both = agreement
    return [
        Metric("store label precision against the truth", _rate(both, short), None,
               f"{both:,} of {short:,} labelled shortfalls; {labelled:,} of {scored:,} scored "
               f"account-days labelled"),
        Metric("store label recall against the truth", _rate(both, true), None,
               f"{both:,} of {true:,} true shortfalls"),
    ]


def _section(bank: EvalBank, version: int, gate: list[str], rows: pl.DataFrame,
             train_days: list[date], eval_days: list[date], tallies: dict[str, list[int]],
             y: np.ndarray, p: np.ndarray, rp: np.ndarray, rows_seconds: float,
             fit_seconds: float, seconds: float, agreement: list[int],
             ceiling: list[Metric]) -> Section:
    if len(np.unique(y)) < 2:
        raise ValidationError("the evaluation days hold no shortfall: nothing to score")
    m, r = tallies["model"], tallies["rule"]
    metrics = [
        Metric("model precision", _rate(m[1], m[0]), ">= 0.9", f"{m[1]:,} of {m[0]:,} warnings"),
        Metric("model recall", _rate(m[3], m[2]), ">= 0.75", f"{m[3]:,} of {m[2]:,} true cases"),
        Metric("rule precision", _rate(r[1], r[0]), None, f"{r[1]:,} of {r[0]:,} warnings"),
        Metric("rule recall", _rate(r[3], r[2]), None, f"{r[3]:,} of {r[2]:,} true cases"),
    ]
    mn, rn = tallies["model near"], tallies["rule near"]
    metrics += [
        Metric(f"model recall, shortfalls within {NEAR_DAYS} days", _rate(mn[3], mn[2]), None,
               f"{mn[3]:,} of {mn[2]:,}"),
        Metric(f"rule recall, shortfalls within {NEAR_DAYS} days", _rate(rn[3], rn[2]), None,
               f"{rn[3]:,} of {rn[2]:,}"),
    ]
    rule_recall = _rate(r[3], r[2])
    beside = precision_at_recall(y, p, rule_recall) if rule_recall else None
    metrics += calibration_metrics(y, p, rp, recall=TARGET_RECALL, rows="account-days")
    metrics += [
        Metric("model precision at the rule's recall (PR curve)",
               None if beside is None else beside[0], None,
               "" if beside is None else f"at P >= {beside[1]:.3f}, per account-day"),
        *ceiling,
        *label_metrics(agreement, len(y)),
        Metric("training rows", rows.height, None,
               f"{int(rows.get_column('label').sum()):,} shortfalls (store labels)"),
        Metric("training time, features and labels (s)", rows_seconds),
        Metric("training time, fit and register (s)", fit_seconds),
    ]
    c = bank.config
    notes = [
        f"Training as-of days: {train_days[0]} to {train_days[-1]}, every {TRAIN_STEP} days "
        f"({len(train_days)}); labels from the store's balances and income bookings only.",
        gate_note(NAME, version, gate),
        "Operating point: a warning where P x shortfall_harm > shortfall_attention_cost (the "
        "insight settings' defaults), not a threshold tuned here.",
        "Truth: the simulator's checking balance is >= 0 at the end of the day and goes below "
        "zero before the customer's next pay (at most 35 days ahead) -- truth/"
        "customer_needs.parquet; per customer. On the living world, where a heeded warning "
        "changes the balance, see the next section.",
        f"Run time of the shortfall evaluation: {seconds:.0f} s.",
    ]
    return Section(
        title="Shortfall as a calibrated probability (simulated bank)",
        data=(f"simulated bank, {c.customers:,} customers x {c.months} months from {c.start} "
              f"(seed {c.seed}); scored as of {eval_days[0]} to {eval_days[-1]} every "
              f"{EVAL_STEP} days ({len(eval_days)} days)"),
        metrics=metrics,
        tables=[reliability_table(y, p, "account-days")],
        notes=notes,
    )
