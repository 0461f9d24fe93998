"""The demo's last step: the closed loop (``tactful.service.loop``) against the simulated bank,
printed. Its own module so ``cli/demo.py`` holds one call to it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tactful.domain.actions import Outcome, OutcomeKind

if TYPE_CHECKING:
    from tactful.service.context import Store


def stars(outcomes: Sequence[Outcome]) -> list[Outcome]:
    """The simulated customers rate a message thumbs up (+1) or down (-1); the store keeps
    ratings on the app's 1-5 scale, so up is 5 and down is 1.

    >>> from datetime import UTC, datetime
    >>> o = Outcome("d1", "c1", OutcomeKind.RATING, datetime(2025, 1, 1, tzinfo=UTC), -1.0)
    >>> stars([o])[0].value
    1.0
    """
    return [replace(o, value=5.0 if (o.value or 0) > 0 else 1.0)
            if o.kind is OutcomeKind.RATING and o.value in (-1.0, 1.0) else o
            for o in outcomes]


def print_closed_loop(console: Console, store: Store, directory: Path, *, customers: int,
                      months: int, seed: int, start: date) -> Path:
    """Run the loop with the simulator answering for the customers; print what happened and
    where the page is; return its path."""
    from tactful.service.loop import WORDING, run_closed_loop
    from tactful.simulate import SimulationConfig
    from tactful.simulate.simulator import Simulator

    console.rule("[bold]9. Deliver and measure: the closed loop, with a message-wording test")
    # The same world (same seed, same customers), lived one month past the exports: decisions
    # made after the last export are sent in that month, and the customers answer there.
    config = SimulationConfig(customers=customers, months=min(months + 1, 120), seed=seed,
                              start=start)
    world = Simulator(config)
    # a day short of the simulated window's end: a customer's local day may run ahead of UTC
    window_end = datetime.combine(config.end, time(), tzinfo=UTC) - timedelta(days=1)
    report = run_closed_loop(store, respond=lambda ds: stars(world.respond(ds)),
                             out=directory / "measure.html", window_end=window_end)
    console.print(
        f"{report.customers:,} customers decided at {report.at:%Y-%m-%d %H:%M} UTC, "
        f"{report.messages:,} messages; the outbox now holds "
        + ", ".join(f"{n:,} {state}" for state, n in report.delivery.items())
        + "; outcomes: " + ", ".join(f"{n:,} {k}" for k, n in report.outcomes.items()))
    result = report.experiment
    table = Table(title=f"experiment {WORDING}: {result.metric} rate per arm (95% Wilson)")
    for col in ("arm", "customers", "rate", "interval", "vs control"):
        table.add_column(col, justify="left" if col == "arm" else "right")
    for a in result.arms:
        d = a.versus_control
        table.add_row(escape(a.arm), f"{a.rate.n:,}", f"{a.rate.rate:.2%}",
                      f"[{a.rate.low:.2%}, {a.rate.high:.2%}]",
                      "control" if d is None else
                      f"{d.diff:+.2%} [{d.low:+.2%}, {d.high:+.2%}], p={d.p_value:.2g}")
    console.print(table)
    srm = result.srm
    console.print(("[red]sample-ratio mismatch[/red]" if srm.flagged else "sample ratio as "
                   "configured") + f" (chi-square {srm.chi2:.2f}, p = {srm.p_value:.2g})")
    console.print(f"engagement report and experiment page: [bold]{report.page}[/bold]")
    return report.page
