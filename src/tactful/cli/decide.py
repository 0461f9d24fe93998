"""``tactful decide CUSTOMER_ID`` (one decision, printed), ``tactful decide --all`` (the batch,
with a progress bar) and ``tactful explain DECISION_ID`` (replay a logged decision and show it
gives the same answer). The work is in ``tactful.service.decisions``; these parse and print."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tactful.cli.render import moment, plain, progress_bar
from tactful.service.choices import Placement

# The application layer is imported inside the commands that use it: `tactful --help` must not
# pay for the engine behind it (tests/cli/test_startup.py).
if TYPE_CHECKING:
    from tactful.service.decisions import Considered, DecisionResult

console = Console()

DbUrl = Annotated[
    str | None,
    typer.Option("--db", help="Store URL; default TACTFUL_DATABASE_URL or sqlite:///tactful.db"),
]




def _candidates(considered: tuple[Considered, ...]) -> Table:
    table = Table("action", "subject", "channel", "outcome", "why", "EV", "P",
                  title="every candidate")
    for c in considered:
        table.add_row(*plain(
            c.action_id, c.subject, c.channel.value if c.channel else "-",
            c.dropped or "chosen", c.reason,
            "-" if c.expected_value is None else f"{c.expected_value:.2f}",
            "-" if c.probability is None else f"{c.probability:.3f}"))
    return table


def print_result(result: DecisionResult, *, out: Console = console) -> None:
    d = result.decision
    what = "silence" if d.action is None else f"{d.action.id} by {d.channel}"
    out.print(f"[bold]{escape(d.customer_id)}[/bold] ({result.inputs.placement.value}, "
              f"{result.inputs.at:%Y-%m-%d %H:%M} UTC): [bold cyan]{escape(what)}[/bold cyan]")
    out.print(f"  {escape(d.explanation)}")
    out.print(f"  [dim]decision {d.decision_id} · pscore {d.pscore:.3f} · policy "
              f"{escape(d.policy_version)} · attention budget {result.budget:.2f}[/dim]")
    if result.considered:
        out.print(_candidates(result.considered))


def decide_command(
    customer_id: Annotated[str | None, typer.Argument(help="The customer; omit with --all")] = None,
    placement: Annotated[Placement, typer.Option(help="Where the message would go")] = (
        Placement.FEED),
    at: Annotated[str | None, typer.Option(
        "--at", help="The moment (ISO 8601; UTC if no offset); default just after the latest "
                     "insight run")] = None,
    every: Annotated[bool, typer.Option("--all", help="Decide for every customer")] = False,
    db: DbUrl = None,
) -> None:
    """Decide whether to say anything to a customer, what, where and when -- or stay silent."""
    from tactful.service.context import session
    from tactful.service.decisions import decide_all, decide_one

    with session(db) as store:
        if every == (customer_id is not None):
            raise typer.BadParameter("give a CUSTOMER_ID or --all, not both nor neither")
        if customer_id is not None:
            print_result(decide_one(store, customer_id=customer_id, placement=placement,
                                    at=moment(at)))
            return
        with progress_bar(console, "customers") as progress:
            task = progress.add_task("decide", total=None)
            report = decide_all(store, placement=placement, at=moment(at),
                                progress_total=lambda n: progress.update(task, total=n),
                                progress=lambda n: progress.advance(task, n))
    share = report.silent / report.customers if report.customers else 0.0
    console.print(f"{report.customers:,} decisions ({report.placement.value}, "
                  f"{report.at:%Y-%m-%d %H:%M} UTC): {report.messages:,} messages, "
                  f"{report.silent:,} silent ({share:.0%}), in {report.seconds:.1f} s")
    console.print(f"rule features: {report.features}")


def explain_command(decision_id: str, db: DbUrl = None) -> None:
    """Replay a logged decision from its inputs and show that it gives the same answer."""
    from tactful.service.context import session
    from tactful.service.decisions import replay as replayed

    with session(db) as store:
        replay = replayed(store, decision_id=decision_id)
    log: dict[str, Any] = replay.logged
    console.print(f"[bold]logged[/bold]: {escape(str(log['action_id'] or 'silence'))} "
                  f"({escape(str(log['channel'] or '-'))}), pscore {log['pscore']:.3f}")
    print_result(replay.replayed)
    if replay.same:
        console.print("[green]replayed from the log: the same decision[/green]")
        return
    console.print("[red]replayed from the log: a DIFFERENT decision[/red]")
    raise typer.Exit(code=1)
