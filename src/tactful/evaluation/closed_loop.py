"""The closed loop: policies judged by what they change in a living world, not by response rates.

One world per seed is warmed up in silence (so every customer has a month of history), then
forked once per arm; each arm decides for every customer at 08:00 local every ``cadence`` days
from the engine's view of *its own* fork (`loop_view.py`), the fork answers (`simulate/world`),
and the arm learns from the answers. Because every draw of the world is keyed by (customer, day,
action), customers two arms treat alike live identical lives, and the no-message arm is the
exact counterfactual: **incremental** outcomes are each arm's minus its.

Measured per arm and seed (`loop_metrics.py`): incremental savings accounts, fees avoided and
departures; engagement; dismissals and opt-outs; messages per customer per week; silence; and
contact-policy violations counted by an auditor of our own (`loop_audit.py`), not by the
policy's checks. Across seeds: means with t intervals. Also Tactful's weekly conversion rate
(the learning curve), a sweep of its attention budget (where more messages stop paying) and a
validation of the off-policy estimators (`loop_ope.py`): the random arm's logs estimate the
value of a target policy that another fork then runs for real.

    python -m tactful.evaluation.closed_loop --customers 2000 --weeks 26 --seeds 5
"""

from __future__ import annotations

import math
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Final

from tactful.decide.attention import AttentionPolicy
from tactful.decide.catalog import ActionsCatalog
from tactful.decide.policy import DecisionPolicy
from tactful.domain.actions import Decision, Outcome
from tactful.evaluation.loop_arms import (
    Arm,
    ArmLog,
    NoMessages,
    Oracle,
    RandomPolicy,
    RulesOnly,
    Tactful,
    ValueFirst,
)
from tactful.evaluation.loop_metrics import ArmRun, measure
from tactful.evaluation.loop_ope import validate
from tactful.evaluation.loop_report import section
from tactful.evaluation.loop_view import View
from tactful.evaluation.report import Section
from tactful.simulate import SimulationConfig
from tactful.simulate.world import World

WARMUP_DAYS: Final = 35
START: Final = date(2024, 1, 1)
ARMS: Final = ("none", "random", "rules", "tactful", "oracle", "value_first")

Say = Callable[[str], object]


@dataclass(frozen=True, slots=True)
class LoopConfig:
    customers: int = 2000
    weeks: int = 26
    seeds: int = 5
    cadence: int = 3
    """Days between two decision moments for a customer (>= 2: a send may wait for the next
    day's reading hour)."""
    sweep: tuple[float, ...] = (6.0, 1.0, 0.5)
    """Attention thresholds of Tactful's budget swept (points; the default 2 is the Tactful
    arm itself): a lower bar lets more messages through."""
    sweep_seeds: int = 1

    @property
    def months(self) -> int:
        return math.ceil((WARMUP_DAYS + 7 * self.weeks) / 28)


@dataclass(slots=True)
class SeedRun:
    seed: int
    arms: dict[str, ArmRun] = field(default_factory=dict)
    sweep: dict[float, ArmRun] = field(default_factory=dict)
    seconds: float = 0.0
    random_log: ArmLog | None = None


def make_arm(name: str, catalog: ActionsCatalog, seed: int,
             attention: AttentionPolicy | None = None) -> Arm:
    if name == "tactful":
        return Tactful(catalog, seed, DecisionPolicy(catalog, attention=attention, seed=seed))
    arms: dict[str, Callable[[ActionsCatalog, int], Arm]] = {
        "none": NoMessages, "random": RandomPolicy, "rules": RulesOnly, "oracle": Oracle,
        "value_first": ValueFirst}
    return arms[name](catalog, seed)


def run_seed(cfg: LoopConfig, seed: int, root: Path, *, arms: Sequence[str] = ARMS,
             sweep: Sequence[float] = (), say: Say | None = None) -> SeedRun:
    """Every arm (and every sweep point) on forks of one warmed-up world."""
    started = time.perf_counter()
    catalog = ActionsCatalog.default()
    config = SimulationConfig(customers=cfg.customers, months=cfg.months, seed=seed,
                              start=START)
    origin = World(config, root / "origin", workdir=root / "plan", fmt="parquet")
    origin.step(until=WARMUP_DAYS)
    state = origin.snapshot()
    customers = len(origin.customer_ids())
    runners: list[tuple[str, Arm, World, View]] = []
    for name in arms:
        w = origin.fork(root / name, state)
        runners.append((name, make_arm(name, catalog, seed), w, View(w)))
    for threshold in sweep:
        w = origin.fork(root / f"sweep-{threshold}", state)
        attention = AttentionPolicy(threshold=threshold)
        runners.append((f"sweep:{threshold}", make_arm("tactful", catalog, seed, attention),
                        w, View(w)))
    end = WARMUP_DAYS + 7 * cfg.weeks
    out = SeedRun(seed)
    for day in range(WARMUP_DAYS, end - 1, cfg.cadence):  # a window of >= 2 days
        until = min(day + cfg.cadence, end)
        for _name, arm, world, view in runners:
            decisions: list[Decision] = []
            today = START + timedelta(days=day)
            for cid in world.customer_ids():
                person = view.people[cid]
                decisions += arm.decide(view, person, day, view.moment(person, today))
            outcomes: list[Outcome] = world.step(until=until, decisions=decisions)
            arm.learn(outcomes)
        if say:
            say(f"seed {seed}: day {day - WARMUP_DAYS + cfg.cadence} of {7 * cfg.weeks}")
    for _name, arm, world, _view in runners:
        if world.state.clock < end:
            arm.learn(world.step(until=end))
    for name, arm, world, view in runners:
        run = measure(name, arm, world, view, start_day=WARMUP_DAYS, end_day=end,
                      customers=customers)
        if name.startswith("sweep:"):
            out.sweep[float(name.split(":", 1)[1])] = run
        else:
            out.arms[name] = run
        if name == "random":
            out.random_log = arm.log
    out.seconds = time.perf_counter() - started
    return out


def run(cfg: LoopConfig, *, workdir: Path | None = None, say: Say | None = None) -> (
    list[SeedRun]
):
    root = Path(tempfile.mkdtemp(prefix="tactful-loop-")) if workdir is None else workdir
    try:
        runs = []
        for s in range(cfg.seeds):
            sweep = cfg.sweep if s < cfg.sweep_seeds else ()
            runs.append(run_seed(cfg, 100 + s, root / f"seed-{s}", sweep=sweep, say=say))
            shutil.rmtree(root / f"seed-{s}", ignore_errors=True)
        return runs
    finally:
        if workdir is None:
            shutil.rmtree(root, ignore_errors=True)


def evaluate(cfg: LoopConfig, img: Path, *, say: Say | None = None,
             workdir: Path | None = None) -> Section:
    """The closed-loop section of ``docs/evaluation.md`` (plots into ``img``)."""
    started = time.perf_counter()
    runs = run(cfg, workdir=workdir, say=say)
    seconds = time.perf_counter() - started
    arms = [r.arms for r in runs]
    default = AttentionPolicy().threshold
    swept = [r for r in runs if r.sweep]
    sweep: dict[float, list[ArmRun]] = {}
    for r in swept:
        for threshold, one in {**r.sweep, default: r.arms["tactful"]}.items():
            sweep.setdefault(threshold, []).append(one)
    controls = [r.arms["none"] for r in swept]
    target = [r.arms["value_first"] for r in runs]
    moments = sum(t.moments for t in target)
    truth = {"conversions": sum(t.outcomes["convert"] for t in target) / moments,
             "clicks": sum(t.outcomes["click"] for t in target) / moments}
    ope = validate([r.random_log for r in runs if r.random_log is not None], truth)
    size = (f"{cfg.customers:,} customers x {cfg.weeks} weeks x {cfg.seeds} seed(s), a "
            f"decision every {cfg.cadence} days" + (
                f"; attention sweep on {min(cfg.sweep_seeds, cfg.seeds)} seed(s)" if cfg.sweep
                else ""))
    return section(arms, sweep if cfg.sweep else {}, controls, ope, img=img, size=size,
                   seconds=seconds)


def main(argv: list[str] | None = None) -> None:
    """Run the closed loop alone and print its section (the full size: 2,000 x 26 x 5)."""
    import argparse

    from tactful.evaluation.report import render

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--cadence", type=int, default=3)
    parser.add_argument("--sweep-seeds", type=int, default=1)
    parser.add_argument("--no-sweep", action="store_true")
    parser.add_argument("--img", type=Path, default=Path("docs") / "img")
    parser.add_argument("--out", type=Path, default=None,
                        help="write the section as markdown here (default: stdout)")
    args = parser.parse_args(argv)
    cfg = LoopConfig(customers=args.customers, weeks=args.weeks, seeds=args.seeds,
                     cadence=args.cadence, sweep=() if args.no_sweep else LoopConfig().sweep,
                     sweep_seeds=args.sweep_seeds)
    text = render([evaluate(cfg, args.img)], preamble="# Closed loop\n", machine="")
    if args.out is None:
        sys.stdout.write(text + "\n")
    else:
        args.out.write_text(text + "\n", "utf-8")


if __name__ == "__main__":
    main()
