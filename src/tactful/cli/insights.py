"""The insight catalog's commands: ``tactful insights CUSTOMER_ID`` lists a customer's;
``tactful insight run|mark|detectors|check-rules`` manage them (``tactful run`` produces them
after enrichment); ``tactful budgets set`` and ``tactful goals add`` record what customers set."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tactful.cli.render import WAIT_SECONDS, Wait, plain, progress_bar

# The application layer is imported inside the commands that use it: `tactful --help` must not
# pay for the engine behind it (tests/cli/test_startup.py).
if TYPE_CHECKING:
    from tactful.service.context import Store
    from tactful.service.insights import InsightReport

console = Console()
insight_app = typer.Typer(
    no_args_is_help=True,
    help="The insight catalog: produce insights, record their state, inspect the detectors.",
)
budgets_app = typer.Typer(no_args_is_help=True, help="Customers' monthly category budgets.")
goals_app = typer.Typer(no_args_is_help=True, help="Customers' savings goals.")

DbUrl = Annotated[
    str | None,
    typer.Option("--db", help="Store URL; default TACTFUL_DATABASE_URL or sqlite:///tactful.db"),
]
RulesFile = Annotated[
    Path | None, typer.Option("--rules", help="The bank's insight rules file (TOML)")]
SettingsFile = Annotated[
    Path | None, typer.Option("--settings", help="Insight thresholds (TOML, [insights] table)")]
AsOf = Annotated[
    str | None, typer.Option("--as-of", help="Local day YYYY-MM-DD; default the data's last day")]

URGENCY_STYLE = {"high": "bold red", "normal": "yellow", "low": "dim"}


def produce_with_progress(
    store: Store,
    *,
    rules: Path | None = None,
    settings: Path | None = None,
    as_of: date | None = None,
    wait: float = WAIT_SECONDS,
) -> InsightReport:
    from tactful.service.insights import produce

    with progress_bar(console, "customers") as progress:
        task = progress.add_task("insights", total=None)
        report = produce(
            store, rules=rules, settings=settings, as_of=as_of,
            progress_total=lambda n: progress.update(task, total=n),
            progress=lambda n: progress.advance(task, n),
            wait=wait,
            on_wait=lambda why: progress.console.print(f"[yellow]{why}[/yellow]"),
        )
    console.print(
        f"insights as of {report.as_of}: {report.produced:,} new for {report.customers:,} "
        f"customers, {report.suppressed:,} held back (live or in cooldown), "
        f"{report.expired:,} expired, in {report.seconds:.1f} s"
    )
    return report


def print_insights(rows: list[dict[str, Any]], customer_id: str, *,
                   console: Console = console) -> int:
    if not rows:
        console.print(f"[dim]{escape(customer_id)}: no insights[/dim]")
        return 0
    for r in rows:
        style = URGENCY_STYLE.get(r["urgency"], "")
        e = {k: escape(str(v)) for k, v in r.items() if isinstance(v, str)}
        console.print(f"[{style}]●[/{style}] [bold]{e['title']}[/bold]  "
                      f"[dim]{e['detector']} · {e['state']} · relevance {r['relevance']:.2f}"
                      f"[/dim]")
        console.print(f"  {e['message']}")
        console.print(f"  [cyan]→ {e.get('call_to_action', '')}[/cyan]   "
                      f"[dim]{e.get('explanation', '')}[/dim]")
        console.print(f"  [dim]id {e['insight_id']} · expires {r['expires_at']:%Y-%m-%d}[/dim]")
    return len(rows)


def list_command(
    customer_id: str,
    db: DbUrl = None,
    all_states: Annotated[bool, typer.Option("--all", help="Include expired, dismissed, "
                                             "acted on")] = False,
) -> None:
    """A customer's insights as they would read them, most urgent first."""
    from tactful.service.context import session
    from tactful.service.insights import customer_insights

    with session(db) as store:
        rows = customer_insights(store, customer_id=customer_id, open_only=not all_states)
    print_insights(rows, customer_id)


@insight_app.command("run")
def run_command(db: DbUrl = None, rules: RulesFile = None, settings: SettingsFile = None,
                as_of: AsOf = None, wait: Wait = WAIT_SECONDS) -> None:
    """Produce insights for every customer."""
    from tactful.service.context import session

    with session(db) as store:
        produce_with_progress(store, rules=rules, settings=settings,
                              as_of=date.fromisoformat(as_of) if as_of else None, wait=wait)


@insight_app.command("mark")
def mark_command(
    insight_id: str,
    state: Annotated[str, typer.Argument(help="shown, acted_on, dismissed or expired")],
    db: DbUrl = None,
) -> None:
    """Record what happened to an insight (the app calls this; so can an operator)."""
    from tactful.service.context import session
    from tactful.service.insights import mark

    with session(db) as store:
        before = mark(store, insight_id=insight_id, state=state)
    console.print(escape(f"{insight_id}: {before} -> {state}"))


@insight_app.command("detectors")
def detectors_command(rules: RulesFile = None) -> None:
    """The catalog: every detector with what it needs and what it may touch."""
    from tactful.service.insights import catalog as load_catalog

    catalog = load_catalog(rules=rules)
    table = Table("detector", "family", "level", "consent", "cooldown", "expiry", "flags",
                  "languages", title=f"{len(catalog.detectors)} detectors")
    languages = sorted(catalog.renderer.languages)
    for spec in sorted(catalog.specs.values(), key=lambda s: (s.family.value, s.id)):
        flags = " ".join(f for f, on in (("money-critical", spec.money_critical),
                                        ("sensitive", spec.sensitive)) if on)
        table.add_row(*plain(spec.id, spec.family.value, spec.min_level.value,
                      spec.consent.value if spec.consent else "-", f"{spec.cooldown_days} d",
                      f"{spec.expiry_days} d", flags,
                      " ".join(lang for lang in languages if catalog.renderer.has(spec.id, lang))))
    console.print(table)


@insight_app.command("check-rules")
def check_rules_command(path: Path) -> None:
    """Validate a rules file without running it; errors name the rule and field."""
    from tactful.service.insights import check_rules

    ids = check_rules(path)  # also compiles every rule's templates
    console.print(escape(f"{path}: {len(ids)} rule(s) valid: {', '.join(ids)}"))


@budgets_app.command("set")
def budget_set_command(
    customer_id: str,
    category: Annotated[str, typer.Argument(help="A primary or detailed category code")],
    amount: Annotated[str, typer.Argument(help="Monthly limit in major units, e.g. 300")],
    currency: Annotated[str, typer.Option(help="ISO 4217 code")] = "EUR",
    db: DbUrl = None,
) -> None:
    """Set a customer's monthly budget for a category (progress insights at 50/75/100 %)."""
    from tactful.service.context import session
    from tactful.service.insights import set_budget

    with session(db) as store:
        set_budget(store, customer_id=customer_id, category=category, amount=amount,
                   currency=currency)
    console.print(escape(f"{customer_id}: budget for {category} is {amount} {currency} a month"))


@goals_app.command("add")
def goal_add_command(
    customer_id: str,
    goal_id: str,
    name: str,
    account_id: str,
    target: Annotated[str, typer.Argument(help="Target in major units")],
    currency: Annotated[str, typer.Option(help="ISO 4217 code")] = "EUR",
    by: Annotated[str | None, typer.Option(help="Target date YYYY-MM-DD")] = None,
    db: DbUrl = None,
) -> None:
    """Add (or replace) a savings goal tracked against one of the customer's accounts."""
    from tactful.service.context import session
    from tactful.service.insights import add_goal

    with session(db) as store:
        add_goal(store, customer_id=customer_id, goal_id=goal_id, name=name,
                 account_id=account_id, target=target, currency=currency,
                 target_date=date.fromisoformat(by) if by else None)
    console.print(escape(f"{customer_id}: goal {goal_id} '{name}' of {target} {currency}"))
