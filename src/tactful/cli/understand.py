"""The understanding layer's commands: ``enrich``, ``run``, ``rules``, ``recategorize``,
``aliases`` and ``categories``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tactful.cli.render import WAIT_SECONDS, Wait, plain, progress_bar

# The application layer is imported inside the commands that use it: `tactful --help` must not
# pay for the engine behind it (tests/cli/test_startup.py).
if TYPE_CHECKING:
    from tactful.service.context import Store
    from tactful.service.understand import EnrichReport, GapReport

console = Console()
rules_app = typer.Typer(no_args_is_help=True, help="The bank's categorization rules (versioned).")
aliases_app = typer.Typer(no_args_is_help=True, help="The bank's merchant aliases.")

DbUrl = Annotated[
    str | None,
    typer.Option("--db", help="Store URL; default TACTFUL_DATABASE_URL or sqlite:///tactful.db"),
]

Full = Annotated[bool, typer.Option(help="Every customer, not only those with new data")]
SparkMaster = Annotated[str | None, typer.Option(
    help="Spark master URL for --executor spark (default: TACTFUL_SPARK_MASTER or local[2])")]


@contextmanager
def _rule_warnings() -> Iterator[None]:
    """Print each rule left out (``SkippedRuleWarning``) once, as a line of its own."""
    from tactful.service.understand import skipped_rules

    with skipped_rules(lambda message: console.print(f"[yellow]warning:[/] {escape(message)}")):
        yield


def enrich_with_progress(
    store: Store,
    *,
    full: bool = False,
    retrain: bool = False,
    shard_size: int = 500,
    executor: str = "local",
    workers: int = 2,
    wait: float = WAIT_SECONDS,
    spark_master: str | None = None,
) -> EnrichReport:
    from tactful.service.understand import enrich

    with _rule_warnings(), progress_bar(console, "customers") as progress:
        task = progress.add_task("enrich", total=None)
        enriched = enrich(
            store,
            full=full,
            retrain=retrain,
            shard_size=shard_size,
            executor=executor,
            workers=workers,
            spark_master=spark_master,
            progress_total=lambda n: progress.update(task, total=n),
            progress=lambda n: progress.advance(task, n),
            wait=wait,
            on_wait=lambda why: progress.console.print(f"[yellow]{why}[/yellow]"),
        )
    report, gaps = enriched.report, enriched.gaps
    if report.resumed_from is not None:
        console.print(
            f"resumed crashed run {report.resumed_from}: customers it had committed skipped"
        )
    console.print(
        f"{report.mode} enrichment of {report.customers:,} customers: "
        f"{report.transactions:,} transactions read, {report.updated:,} rows updated, "
        f"{report.series:,} recurring series, {report.income_streams:,} income streams "
        f"in {report.seconds:.1f} s (rules v{report.rules_version}, "
        f"text model {report.text_model_id or 'none'})"
    )
    print_gaps(gaps)
    return report


def print_gaps(gaps: GapReport) -> None:
    """What stayed uncategorized, by cause, with the rule line that would fix each group."""
    if gaps.uncategorized == 0:
        console.print(f"categorized all {gaps.transactions:,} transactions")
        return
    sampled = " (causes read on a sample of customers)" if gaps.sampled else ""
    console.print(
        f"categorized {gaps.coverage:.1%} of {gaps.transactions:,} transactions; "
        f"{gaps.uncategorized:,} uncategorized{sampled}: "
        + ", ".join(f"{cause} {n:,}" for cause, n in gaps.by_cause.items())
    )
    for gap in gaps.gaps:
        guess = f", the model's guess {gap.guess}" if gap.guess else ""
        console.print(
            escape(f"  {gap.key}: {gap.rows:,} row(s), {gap.cause}{guess}; e.g. {gap.example!r}")
        )
        console.print(escape(f"    {gap.fix}"), highlight=False)


def enrich_command(
    db: DbUrl = None,
    full: Full = False,
    retrain: Annotated[bool, typer.Option(help="Train the text categorizer again")] = False,
    shard_size: Annotated[int, typer.Option(min=1, help="Customers per shard")] = 500,
    executor: Annotated[str, typer.Option(help="local, processes or spark")] = "local",
    spark_master: SparkMaster = None,
    workers: Annotated[int, typer.Option(min=1)] = 2,
    wait: Wait = WAIT_SECONDS,
) -> None:
    """Merchants, categories, recurring series and income for the store's customers."""
    from tactful.service.context import session

    with session(db) as store:
        enrich_with_progress(
            store, full=full, retrain=retrain, shard_size=shard_size, executor=executor,
            workers=workers, wait=wait, spark_master=spark_master,
        )


def run_command(
    db: DbUrl = None,
    full: Full = False,
    executor: Annotated[str, typer.Option(help="local, processes or spark")] = "local",
    spark_master: SparkMaster = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="Insight rules file")] = None,
    settings: Annotated[Path | None, typer.Option("--settings", help="Insight thresholds")] = None,
    wait: Wait = WAIT_SECONDS,
) -> None:
    """The whole batch pipeline over the store: enrichment, then insights for everyone."""
    from tactful.cli.insights import produce_with_progress
    from tactful.service.context import session

    with session(db) as store:
        enrich_with_progress(
            store, full=full, executor=executor, wait=wait, spark_master=spark_master
        )
        produce_with_progress(store, rules=rules, settings=settings, wait=wait)


def recategorize_command(
    transaction_id: str,
    category: Annotated[str, typer.Argument(help="A detailed category code")],
    db: DbUrl = None,
) -> None:
    """A customer's own re-categorization: remembered for the merchant, wins over every rule."""
    from tactful.service.context import session
    from tactful.service.understand import recategorize

    with session(db) as store:
        done = recategorize(store, transaction_id=transaction_id, category=category)
    console.print(
        f"{done.customer_id}: {done.merchant_key} is now {done.category_detailed} "
        f"({done.transactions_updated} transaction(s) moved)"
    )


def categories_command(
    sensitive: Annotated[bool, typer.Option(help="Only the sensitive ones")] = False,
) -> None:
    """The two-level category taxonomy."""
    from tactful.service.understand import categories

    table = Table("primary", "detailed", "sensitive")
    for c in categories(sensitive_only=sensitive):
        table.add_row(*plain(c.primary, c.detailed, "yes" if c.sensitive else ""))
    console.print(table)


@rules_app.command("list")
def rules_list(db: DbUrl = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The rules in force, in the order they apply."""
    from tactful.service.context import session
    from tactful.service.understand import rules as current_rules

    with session(db) as store, _rule_warnings():
        rules = current_rules(store)
    records = rules.to_records()
    if as_json:
        console.print_json(json.dumps(records))
        return
    table = Table(title=f"bank rules, version {rules.version}")
    for col in ("id", "priority", "when", "then"):
        table.add_column(col, overflow="fold")
    for r in records:
        when = " and ".join(
            f"{c['field']} {c['operator']} {c['value']!r}" for c in r.get("conditions", [])
        )
        then = ", ".join(f"{k}={r[k]}" for k in ("category_detailed", "merchant") if r.get(k))
        table.add_row(*plain(r["id"], r.get("priority", 0), when, then))
    console.print(table)


@rules_app.command("add")
def rules_add(
    rule_id: Annotated[str, typer.Option("--id")],
    when: Annotated[
        list[str],
        typer.Option(help="FIELD OPERATOR VALUE, e.g. 'merchant_key contains LANDLORD'"),
    ],
    category: Annotated[str | None, typer.Option(help="Detailed category to set")] = None,
    merchant: Annotated[str | None, typer.Option(help="Merchant name to set")] = None,
    priority: int = 100,
    db: DbUrl = None,
) -> None:
    """Add a rule (or a new version of an existing id)."""
    from tactful.service.context import session
    from tactful.service.understand import save_rule

    with session(db) as store:
        version = save_rule(store, rule_id=rule_id, when=when, category=category,
                            merchant=merchant, priority=priority)
    console.print(
        escape(f"rule {rule_id!r} saved as version {version}; run `tactful enrich` to apply")
    )


@rules_app.command("import")
def rules_import(path: Path, db: DbUrl = None) -> None:
    """Add every rule of a TOML file ([[rules]] tables, the format of the shipped defaults)."""
    from tactful.service.context import session
    from tactful.service.understand import import_rules, read_rules

    records = read_rules(path)  # all validated before any is saved
    with session(db) as store:
        n = import_rules(store, records=records)
    console.print(escape(f"{n} rule(s) imported from {path}"))


@rules_app.command("delete")
def rules_delete(rule_id: str, db: DbUrl = None) -> None:
    """Retire a rule; its history stays."""
    from tactful.service.context import session
    from tactful.service.understand import delete_rule

    with session(db) as store:
        version = delete_rule(store, rule_id=rule_id)
    console.print(escape(f"rule {rule_id!r} retired (version {version})"))


@rules_app.command("history")
def rules_history(db: DbUrl = None) -> None:
    """Every version of every rule."""
    from tactful.service.context import session
    from tactful.service.understand import rule_history

    with session(db) as store:
        frame = rule_history(store)
    table = Table(*frame.columns)
    for row in frame.iter_rows():
        table.add_row(*plain(*row))
    console.print(table)


@aliases_app.command("add")
def aliases_add(
    pattern: str,
    merchant: str,
    category: Annotated[str | None, typer.Option(help="Detailed category for the merchant")] = None,
    db: DbUrl = None,
) -> None:
    """Teach the merchant directory one of the bank's own descriptors."""
    from tactful.service.context import session
    from tactful.service.understand import add_alias

    with session(db) as store:
        add_alias(store, pattern=pattern, merchant=merchant, category=category)
    console.print(escape(f"alias {pattern!r} -> {merchant}; the next `tactful enrich` is a "
                         "full run and applies it to every row"))
