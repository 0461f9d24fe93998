"""The shortfall warning on the living world, where a warning changes what it warns about.

On the evaluation bank (``evaluation.shortfall``) nothing the engine says moves money, so what the
store later records is the truth. In a bank that warns, a customer who heeds a warning moves
money before the dip and the dip never happens: the store then records no shortfall, and a
warning that worked looks like a false alarm. The living world (``simulate.world``) answers
messages and edits its future; its no-message fork is the same customers' lives without any
warning, so the truth of a shortfall here is the balance the customer would have had without
reacting to it.

Protocol, on a world whose seed (``WORLD_SEED``) was never used for development:

1. The world is stepped in silence to the first evaluation day; its daily exports are ingested
   and enriched as a bank would load them; the shortfall model is trained on that history as in
   ``evaluation.shortfall`` (store labels, every label known before the first evaluation day)
   and put through the registry's gate.
2. The world is forked. The *warned* arm, every ``EVAL_STEP`` days, loads the days since the
   last (ingest, then an incremental enrich), computes the risk on its own store as of the day's
   end and sends an in-app warning the next day to each customer the model-driven ``Shortfall``
   detector warns (its expected-value rule, not a threshold tuned here). The *silent* arm steps
   the same days with no message.
3. Each scored account-day (a checking account above its line, as the model scores them) is
   judged against the silent arm's later balances (``store_labels`` on its store: the
   no-reaction truth), with the rule forecast's warnings on the same inputs beside it; and
   against the warned arm's own later balances -- the labels a model retrained on the warned
   bank's history would learn from, where a heeded warning reads as a false alarm.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Final

import numpy as np
import polars as pl

from tactful.batch.enrich import EnrichReport, run_enrich
from tactful.domain.actions import Action, ActionFamily, Decision
from tactful.domain.enums import Channel
from tactful.errors import ValidationError
from tactful.evaluation.bank import EvalBank
from tactful.evaluation.report import Metric, Section
from tactful.evaluation.shortfall import (
    TARGET_RECALL,
    calibration_metrics,
    gate_note,
    reliability_table,
    store_labels,
    train_gated,
)
from tactful.ingest.loader import Loader
from tactful.insights.detectors.cashflow import Shortfall
from tactful.insights.inputs import InsightSettings
from tactful.insights.shortfall_risk import ShortfallRisk, risk_features
from tactful.models.history import refused_customers
from tactful.models.replay import Replay
from tactful.models.shortfall import NAME, SHORTFALL, TEST_DAYS, TRAIN_STEP, replay_rows
from tactful.simulate import SimulationConfig
from tactful.simulate.world import World
from tactful.store.store import Store

WORLD_SEED: Final = 505
"""Not the evaluation bank's (101) nor any development seed (7, 11, 202, 303)."""
START: Final = date(2025, 1, 1)
EVAL_STEP: Final = 7
"""A warning at most once a week per customer: the shortfall detector's cooldown."""
EVAL_DAYS: Final = 12
"""Twelve weekly rounds: the last evaluation day's window (the risk horizon) ends with the world."""
WARNING: Final = Action("warn-shortfall", ActionFamily.SHORTFALL)
SENT_AT: Final = clock(12)
"""Noon UTC: the same calendar day in every time zone the simulator's regions use."""


@dataclass
class _Arm:
    """One fork of the world and the bank store that loads its exports day by day."""

    world: World
    store: Store
    reports: Path
    loaded: str = ""
    """The last day folder ingested (``YYYY-MM-DD``; empty before the first)."""
    enrich: EnrichReport | None = None

    def catch_up(self, through: date | None = None) -> EvalBank:
        """Ingest the day folders the world wrote since the last call (up to ``through``) and
        enrich them."""
        last = "9999" if through is None else through.isoformat()
        days = sorted(p for p in (self.world.out / "days").iterdir()
                      if p.is_dir() and self.loaded < p.name <= last)
        if days:
            Loader(self.store, report_dir=self.reports).ingest(days)
            self.loaded = days[-1].name
            self.enrich = run_enrich(self.store)
        if self.enrich is None:
            raise ValidationError("the world has written no day yet")
        out = self.world.out
        return EvalBank(self.world.config, out, out / "truth", self.store, self.enrich)


def _arm(world: World, folder: Path) -> _Arm:
    folder.mkdir(parents=True, exist_ok=True)
    return _Arm(world, Store.open(f"sqlite:///{folder / 'tactful.db'}"), folder / "reports")


def _decisions(customers: Sequence[str], day: date) -> list[Decision]:
    at = datetime.combine(day, SENT_AT, UTC)
    return [Decision(f"sw-{cid}-{day.isoformat()}", cid, WARNING, Channel.IN_APP, at, 1.0,
                     "shortfall-model", "your balance may go below zero before your next pay")
            for cid in customers]


@dataclass
class _Scored:
    """One evaluation day's scored account-days in the warned arm."""

    day: date
    frame: pl.DataFrame
    """``account_id``, ``customer_id``, ``unit``, the model's ``p``, ``model`` and ``rule``
    (warned by each: 1 / 0)."""


def _score_day(bank: EvalBank, d: date, risk: ShortfallRisk) -> tuple[_Scored, list[str]]:
    data = Replay.of(bank.store, everyone=True).on(d)
    s = data.settings
    detector = Shortfall()
    model = set(detector.detect(replace(data, shortfall_risk=risk))
                .get_column("customer_id").to_list())
    rule = set(detector.detect(data).get_column("customer_id").to_list())
    feats = risk_features(data, horizon=s.shortfall_risk_days).filter(
        pl.col("balance_minor") >= s.shortfall_buffer * pl.col("unit"))
    ids = feats.get_column("customer_id")
    frame = feats.select("account_id", "customer_id", "unit").with_columns(
        pl.Series("p", risk.probability(feats)),
        ids.is_in(list(model)).cast(pl.Int8).alias("model"),
        ids.is_in(list(rule)).cast(pl.Int8).alias("rule"),
    )
    return _Scored(d, frame), sorted(model)


def _labels(bank: EvalBank, scored: Sequence[_Scored]) -> pl.DataFrame:
    """The label of each scored account-day from ``bank``'s later balances (``store_labels``):
    ``account_id``, ``as_of``, ``label``; account-days whose window it does not cover left out."""
    replay = Replay.of(bank.store, everyone=True)
    eod, income = replay.outcomes()
    s = replay.base.settings
    return pl.concat([
        store_labels(day.frame, eod, income, day.day, horizon=s.shortfall_risk_days,
                     buffer=s.shortfall_buffer).select(
            "account_id", pl.lit(day.day).alias("as_of"), "label")
        for day in scored
    ])


def evaluate_shortfall_world(
    workdir: Path, *, customers: int = 1000, months: int = 12, seed: int = WORLD_SEED,
    say: Callable[[str], None] = lambda _m: None,
) -> Section:
    started = time.perf_counter()
    if workdir.exists():
        shutil.rmtree(workdir)
    config = SimulationConfig(customers=customers, months=months, seed=seed, start=START)
    say(f"shortfall on the living world: {customers:,} customers x {months} months")
    world = World(config, workdir / "warned" / "out", workdir=workdir / "plan", fmt="parquet")
    end = config.end
    horizon = InsightSettings().shortfall_risk_days
    first_eval = end - timedelta(days=horizon + EVAL_STEP * EVAL_DAYS)
    world.step(until=first_eval + timedelta(days=1))
    silent_world = world.fork(workdir / "silent" / "out", world.snapshot())
    warned, silent = _arm(world, workdir / "warned"), _arm(silent_world, workdir / "silent")

    say("shortfall on the living world: loading the silent months and training")
    bank = warned.catch_up()
    replay = Replay.of(bank.store, everyone=True)
    rows, train_days = replay_rows(replay, until=first_eval,
                                   exclude=sorted(refused_customers(bank.store)))
    trained, gate = train_gated(bank, workdir / "warned", SHORTFALL, rows,
                                test_days=TEST_DAYS, what="shortfall (living world)")
    risk = ShortfallRisk(trained.model, f"{NAME} v{trained.version.version}")

    scored: list[_Scored] = []
    sent = 0
    days = [first_eval + timedelta(days=EVAL_STEP * k) for k in range(EVAL_DAYS)]
    for d in days:
        say(f"shortfall on the living world: warning as of {d}")
        day, warn = _score_day(warned.catch_up(), d, risk)
        scored.append(day)
        sent += len(warn)
        nxt = d + timedelta(days=1)
        until = min(nxt + timedelta(days=EVAL_STEP), end)
        world.step(until=until, decisions=_decisions(warn, nxt))
        silent_world.step(until=until)
    for w in (world, silent_world):
        if w.today < end:
            w.step(until=end)
    say("shortfall on the living world: labels from both arms' later balances")
    truth = _labels(silent.catch_up(), scored).rename({"label": "truth"})
    recorded = _labels(warned.catch_up(), scored).rename({"label": "recorded"})
    frame = pl.concat([s.frame.with_columns(pl.lit(s.day).alias("as_of")) for s in scored])
    frame = frame.join(truth, on=["account_id", "as_of"]).join(
        recorded, on=["account_id", "as_of"], how="left")
    events = world.truth()
    section = _section(config, frame, rows, train_days, days, gate, trained.version.version,
                       sent, events, time.perf_counter() - started)
    for arm in (warned, silent):
        arm.store.close()
    return section


def _tally(frame: pl.DataFrame, warned: str, truth: str) -> tuple[int, int, int]:
    """Warnings, right warnings, true cases of ``frame``'s ``warned`` column against ``truth``."""
    w = frame.get_column(warned).to_numpy() == 1
    t = frame.get_column(truth).to_numpy() == 1
    return int(w.sum()), int((w & t).sum()), int(t.sum())


def _pr(name: str, tally: tuple[int, int, int], targets: tuple[str | None, str | None] = (
        None, None)) -> list[Metric]:
    n, right, cases = tally
    return [
        Metric(f"{name} precision", right / n if n else None, targets[0],
               f"{right:,} of {n:,} warnings"),
        Metric(f"{name} recall", right / cases if cases else None, targets[1],
               f"{right:,} of {cases:,} true cases"),
    ]


def _section(config: SimulationConfig, frame: pl.DataFrame, rows: pl.DataFrame,
             train_days: list[date], days: list[date], gate: list[str], version: int,
             sent: int, events: pl.DataFrame, seconds: float) -> Section:
    y = frame.get_column("truth").to_numpy().astype(np.int8)
    if len(np.unique(y)) < 2:
        raise ValidationError("the evaluation days hold no shortfall: nothing to score")
    p = frame.get_column("p").to_numpy()
    rp = frame.get_column("rule").to_numpy().astype(np.float64)
    caused = events.filter(pl.col("cause").str.starts_with("sw-"))
    heeded = int((caused.get_column("kind") == "shortfall_avoided").sum())
    no_dip = int((caused.get_column("kind") == "warning_heeded").sum())
    known = frame.filter(pl.col("recorded").is_not_null())
    model_rec = _tally(known, "model", "recorded")
    short_silent = int(known.get_column("truth").sum())
    short_warned = int(known.get_column("recorded").sum())
    metrics = [
        *_pr("model", _tally(frame, "model", "truth"), (">= 0.9", ">= 0.75")),
        *_pr("rule", _tally(frame, "rule", "truth")),
        *calibration_metrics(y, p, rp, recall=TARGET_RECALL, rows="account-days"),
        Metric("model precision against the warned bank's own later balances",
               model_rec[1] / model_rec[0] if model_rec[0] else None, None,
               f"{model_rec[1]:,} of {model_rec[0]:,} warnings: what a model retrained on the "
               f"warned bank's history would be told"),
        Metric("shortfalls on the scored account-days, silent arm", short_silent, None,
               f"{known.height:,} account-days labelled in both arms"),
        Metric("shortfalls on the scored account-days, warned arm", short_warned, None,
               f"{short_silent - short_warned:,} fewer than in the silent arm"),
        Metric("warnings sent", sent, None,
               f"{no_dip + heeded:,} heeded, of which {heeded:,} moved "
               f"money before a real dip (world events)"),
        Metric("training rows", rows.height, None,
               f"{int(rows.get_column('label').sum()):,} shortfalls (store labels)"),
    ]
    return Section(
        title="Shortfall on the living world: truth without the reaction",
        data=(f"simulated living world, {config.customers:,} customers x {config.months} months "
              f"from {config.start} (seed {config.seed}); warnings as of {days[0]} to "
              f"{days[-1]} every {EVAL_STEP} days ({len(days)} days), forked from a silent arm "
              f"on {days[0]}"),
        metrics=metrics,
        tables=[reliability_table(y, p, "account-days")],
        notes=[
            f"Training as-of days: {train_days[0]} to {train_days[-1]}, every {TRAIN_STEP} "
            f"days ({len(train_days)}), before any warning was sent; labels from the store's "
            f"balances only.",
            gate_note(NAME, version, gate),
            "Truth: the silent fork's end-of-day checking balance goes below the line after the "
            "as-of day and before the next income booking, within the risk horizon "
            "(store_labels on the silent arm's store: the same definition the model is trained "
            "on, on the balances nobody reacted to).",
            "Operating point: a warning where P x shortfall_harm > shortfall_attention_cost (the "
            "insight settings' defaults); the rule forecast's warnings are computed on the same "
            "inputs and not sent.",
            f"Run time: {seconds:.0f} s.",
        ],
    )


def _say(message: str) -> None:
    sys.stderr.write(message + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=WORLD_SEED)
    parser.add_argument("--workdir", type=Path, default=Path(".eval") / "shortfall-world")
    args = parser.parse_args(argv)
    from tactful.evaluation.report import render

    section = evaluate_shortfall_world(args.workdir, customers=args.customers,
                                       months=args.months, seed=args.seed,
                                       say=_say)
    sys.stdout.write(render([section], preamble="# Shortfall on the living world\n",
                            machine="") + "\n")


if __name__ == "__main__":
    main()
