"""``tactful demo``: the loop so far on a laptop, with nothing downloaded.

It simulates a small bank, ingests its exports into an embedded SQLite store (twice, to show that
a re-import adds nothing), understands them (merchants, categories, recurring series, income),
produces their insights, trains, registers and scores the models, prints what the store now
knows with a few customers' profiles, and ends with what the decide layer chose for three
customers beside what the rules-only approach (every live finding at once) would have shown.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tactful.cli.demo_loop import print_closed_loop
from tactful.cli.insights import print_insights, produce_with_progress
from tactful.cli.models import demo_models
from tactful.cli.render import print_ingest, profile_panel, progress_bar
from tactful.cli.understand import enrich_with_progress

if TYPE_CHECKING:
    from tactful.service.context import Store
    from tactful.service.files import IngestReport
    from tactful.simulate import SimulationSummary


def _ingest_with_progress(
    console: Console, store: Store, path: Path, report_dir: Path
) -> IngestReport:
    from tactful.service.files import ingest_files

    with progress_bar(console, "rows") as progress:
        task = progress.add_task("ingest", total=None)
        report = ingest_files(
            store, paths=[path], report_dir=report_dir,
            progress=lambda n: progress.advance(task, n),
        )
        progress.update(task, total=report.rows_read, completed=report.rows_read)
    return report


def run_simulation(
    console: Console,
    out: Path,
    *,
    customers: int,
    months: int,
    seed: int,
    start: date,
    fmt: str = "parquet",
    unseen_merchants: bool = False,
) -> SimulationSummary:
    """Simulate with a progress bar and print what was written."""
    from tactful.simulate import SimulationConfig, simulate

    config = SimulationConfig(
        customers=customers,
        months=months,
        seed=seed,
        start=start,
        unseen_merchants=unseen_merchants,
    )
    with progress_bar(console, "customers") as progress:
        task = progress.add_task("simulate", total=customers)
        summary = simulate(
            config, out, fmt, lambda done, total: progress.update(task, completed=done, total=total)
        )
    table = Table(title=f"Simulated bank in {out} ({fmt})")
    table.add_column("what")
    table.add_column("count", justify="right")
    for label, n in (
        ("customers", summary.customers),
        ("accounts", summary.accounts),
        ("transactions", summary.transactions),
        ("events", summary.events),
        ("statement files", summary.statement_files),
    ):
        table.add_row(label, f"{n:,}")
    console.print(table)
    console.print(f"truth (never read by the engine) in {out / 'truth'}")
    return summary


def run_demo(
    console: Console,
    directory: Path,
    *,
    customers: int,
    months: int,
    seed: int,
    start: date,
    profiles: int = 3,
) -> None:
    bank = directory / "bank"
    console.rule("[bold]1. Simulate a bank")
    run_simulation(console, bank, customers=customers, months=months, seed=seed, start=start)

    console.rule("[bold]2. Ingest its exports into SQLite")
    from tactful.service.demo import fresh_store

    with fresh_store(directory) as store:  # every run starts from an empty store
        first = _show_loop(console, store, bank, directory, profiles=profiles)
        # the simulator answers for the customers in the world the bank was drawn from
        print_closed_loop(console, store, directory, customers=customers, months=months,
                          seed=seed, start=start)
    _print_service(console, directory, first)


def _show_loop(console: Console, store: Store, bank: Path, directory: Path, *,
               profiles: int) -> str:
    from tactful.service.customers import full_profile
    from tactful.service.demo import counts as store_counts
    from tactful.service.demo import pick_customers, pick_insight_customers
    from tactful.service.insights import live_insights

    report = _ingest_with_progress(console, store, bank, directory / "ingest-reports")
    print_ingest(console, report)
    again = _ingest_with_progress(console, store, bank, directory / "ingest-reports-rerun")
    console.print(
        f"re-import of the same files: [bold]{again.inserted:,}[/bold] rows added, "
        f"{sum(f.duplicates for f in again.files):,} recognised as already loaded"
    )

    console.rule("[bold]3. Understand: merchants, categories, recurring series, income")
    enrich_with_progress(store)
    _print_understanding(console, store)

    console.rule("[bold]4. What the store knows")
    counts = Table(title=f"store {store.url}")
    counts.add_column("table")
    counts.add_column("rows", justify="right")
    for table, n in store_counts(store).items():
        counts.add_row(table, f"{n:,}")
    console.print(counts)

    console.rule("[bold]5. Insights: what customers would read, in their own language")
    produced = produce_with_progress(store)
    by_detector = Table(title=f"live insights as of {produced.as_of}")
    by_detector.add_column("detector")
    by_detector.add_column("insights", justify="right")
    for name, n in sorted(produced.by_detector.items(), key=lambda kv: -kv[1]):
        by_detector.add_row(name, f"{n:,}")
    console.print(by_detector)
    for customer_id, locale in pick_insight_customers(store):
        console.rule(f"{customer_id} ({locale})", style="dim")
        print_insights(live_insights(store, customer_id=customer_id), customer_id,
                       console=console)
    console.print(
        f"Any customer's insights: tactful insights <id> --db sqlite:///{directory / 'tactful.db'}"
    )

    console.rule("[bold]6. Learn: train, register and score models")
    demo_models(console, store)

    console.rule("[bold]7. Customer profiles: accounts, spending, insights and scores")
    for customer_id in pick_customers(store, profiles):
        console.print(profile_panel(full_profile(store, customer_id=customer_id)))
    console.print(
        f"See any other customer with: tactful profile <id> "
        f"--db sqlite:///{directory / 'tactful.db'}"
    )

    console.rule("[bold]8. Decide: one message, or silence, instead of every finding at once")
    return _print_decisions(console, store, directory)


def _print_understanding(console: Console, store: Store) -> None:
    """How the bank's transactions were categorized, and what recurs."""
    from tactful.service.demo import understanding

    seen = understanding(store)
    sources = Table(title="How each transaction got its category")
    sources.add_column("source")
    sources.add_column("transactions", justify="right")
    sources.add_column("share", justify="right")
    total = sum(n for _, n in seen.sources) or 1
    for source, n in seen.sources:
        sources.add_row(str(source or "not enriched"), f"{n:,}", f"{n / total:.1%}")
    console.print(sources)
    kinds = Table(title="Recurring series found")
    for col in ("kind", "series", "customers"):
        kinds.add_column(col, justify="left" if col == "kind" else "right")
    for kind, n, customers in seen.series:
        kinds.add_row(kind, f"{n:,}", f"{customers:,}")
    console.print(kinds)


def _print_decisions(console: Console, store: Store, directory: Path, shown: int = 3) -> str:
    """Two customers who get a message and one who gets silence, each beside what the rules-only
    approach (today's behaviour: every live insight shown at once) would put in front of them;
    returns the first of them, whose feed the demo's last word opens."""
    from tactful.service.demo import decisions

    picked = decisions(store, shown=shown)
    table = Table(title="in-app feed: rules-only vs Tactful", show_lines=True)
    table.add_column("customer")
    table.add_column("rules-only: every live insight")
    table.add_column("Tactful chose")
    table.add_column("why")
    for row in picked:
        d = row.result.decision
        shown_now = ", ".join(f"{k} x{n}" if n > 1 else k for k, n in sorted(row.live.items()))
        chosen = "silence" if d.action is None else f"{d.action.id} ({d.channel})"
        table.add_row(
            escape(d.customer_id), f"{row.live.total()}: {escape(shown_now)}", escape(chosen),
            escape(d.explanation),
        )
    console.print(table)
    db = f"sqlite:///{directory / 'tactful.db'}"
    console.print(
        f"Every candidate and why it was dropped: tactful decide <id> --db {db}; replay a logged "
        f"decision: tactful explain <decision id> --db {db}"
    )
    return picked[0].result.decision.customer_id if picked else "<customer id>"


def _print_service(console: Console, directory: Path, customer_id: str) -> None:
    """The demo's last word: how to run what was just shown as a service and open a feed."""
    db = f"sqlite:///{directory / 'tactful.db'}"
    console.rule("[bold]Next: the service")
    console.print(
        f"tactful keys create --scope app --customer {escape(customer_id)} --db {db}, then "
        f"tactful serve --clock data --db {db} and open a customer's feed: curl -H "
        f"'Authorization: Bearer <key>' localhost:8000/v1/customers/{escape(customer_id)}/feed "
        "(README, \"The service\")"
    )
