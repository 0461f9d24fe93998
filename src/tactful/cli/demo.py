"""``tactful demo``: the loop so far on a laptop, with nothing downloaded.

It simulates a small bank, ingests its exports into an embedded SQLite store (twice, to show that
a re-import adds nothing), understands them (merchants, categories, recurring series, income),
produces their insights, trains, registers and scores the models, prints what the store now
knows with a few customers' profiles, and ends with what the decide layer chose for three
customers beside what the rules-only approach (every live finding at once) would have shown.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, select

from tactful.cli.demo_loop import print_closed_loop
from tactful.cli.insights import print_insights, produce_with_progress
from tactful.cli.models import demo_models
from tactful.cli.render import print_ingest, profile_panel, progress_bar
from tactful.cli.understand import enrich_with_progress
from tactful.ingest.loader import IngestReport, Loader
from tactful.profile import load_profile
from tactful.store import schema
from tactful.store.store import Store

if TYPE_CHECKING:
    from tactful.decide.policy import DecisionResult
    from tactful.simulate import SimulationSummary


def _ingest_with_progress(
    console: Console, store: Store, path: Path, report_dir: Path
) -> IngestReport:
    with progress_bar(console, "rows") as progress:
        task = progress.add_task("ingest", total=None)
        loader = Loader(
            store, report_dir=report_dir, progress=lambda _f, n: progress.advance(task, n)
        )
        report = loader.ingest([path])
        progress.update(task, total=report.rows_read, completed=report.rows_read)
    return report


def _pick_customers(store: Store, n: int) -> list[str]:
    """Customers from each region in turn, so the demo shows different lives.

    Only what a bank's export carries is used: the simulated persona is truth, never exported.
    """
    c, a, t = schema.customers, schema.accounts, schema.transactions
    by_region: dict[str, list[str]] = {}
    for cid, region in store.rows(select(c.c.id, c.c.region).order_by(c.c.id)):
        by_region.setdefault(region, []).append(cid)
    queues = [iter(ids) for _, ids in sorted(by_region.items())]
    picked: list[str] = []
    while queues and len(picked) < n:
        for q in list(queues):
            cid = next(q, None)
            if cid is None:
                queues.remove(q)
            elif len(picked) < n:
                picked.append(cid)
    if picked:
        return picked
    return [
        r[0]
        for r in store.rows(
            select(a.c.customer_id).join(t, t.c.account_id == a.c.id).distinct().limit(n)
        )
    ]


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
    for old in directory.glob("tactful.db*"):  # every run starts from an empty store
        old.unlink()
    store = Store.open(f"sqlite:///{directory / 'tactful.db'}")
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
    for table, n in store.counts().items():
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
    for customer_id, locale in _pick_insight_customers(store):
        console.rule(f"{customer_id} ({locale})", style="dim")
        print_insights(store, customer_id, states=["live"], console=console)
    console.print(
        f"Any customer's insights: tactful insights <id> --db sqlite:///{directory / 'tactful.db'}"
    )

    console.rule("[bold]6. Learn: train, register and score models")
    demo_models(console, store)

    console.rule("[bold]7. Customer profiles: accounts, spending, insights and scores")
    for customer_id in _pick_customers(store, profiles):
        console.print(profile_panel(load_profile(store, customer_id)))
    console.print(
        f"See any other customer with: tactful profile <id> "
        f"--db sqlite:///{directory / 'tactful.db'}"
    )

    console.rule("[bold]8. Decide: one message, or silence, instead of every finding at once")
    _print_decisions(console, store, directory)
    print_closed_loop(console, store, directory, customers=customers, months=months, seed=seed,
                      start=start)


def _pick_insight_customers(store: Store, per_language: int = 1) -> list[tuple[str, str]]:
    """For each language the catalog speaks, the customer with the widest mix of insights."""
    i = schema.insights
    kinds = func.count(func.distinct(i.c.detector))
    rows = store.rows(
        select(i.c.customer_id, i.c.locale, kinds.label("n"))
        .where(i.c.state == "live")
        .group_by(i.c.customer_id, i.c.locale)
        .order_by(kinds.desc(), i.c.customer_id)
    )
    picked: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for customer_id, locale, _n in rows:
        language = locale[:2]
        if seen.get(language, 0) < per_language and language in ("en", "de"):
            seen[language] = seen.get(language, 0) + 1
            picked.append((customer_id, locale))
    return picked


def _print_understanding(console: Console, store: Store) -> None:
    """How the bank's transactions were categorized, and what recurs."""
    t, s = schema.transactions, schema.recurring_series
    sources = Table(title="How each transaction got its category")
    sources.add_column("source")
    sources.add_column("transactions", justify="right")
    sources.add_column("share", justify="right")
    rows = store.rows(select(t.c.category_source, func.count()).group_by(t.c.category_source))
    total = sum(int(r[1]) for r in rows) or 1
    for source, n in sorted(rows, key=lambda r: -int(r[1])):
        sources.add_row(str(source or "not enriched"), f"{int(n):,}", f"{int(n) / total:.1%}")
    console.print(sources)
    kinds = Table(title="Recurring series found")
    for col in ("kind", "series", "customers"):
        kinds.add_column(col, justify="left" if col == "kind" else "right")
    for kind, n, customers in store.rows(
        select(s.c.kind, func.count(), func.count(func.distinct(s.c.customer_id)))
        .group_by(s.c.kind)
        .order_by(func.count().desc())
    ):
        kinds.add_row(str(kind), f"{int(n):,}", f"{int(customers):,}")
    console.print(kinds)


def _print_decisions(console: Console, store: Store, directory: Path, shown: int = 3) -> None:
    """Two customers who get a message and one who gets silence, each beside what the rules-only
    approach (today's behaviour: every live insight shown at once) would put in front of them."""
    from tactful.decide.service import decide_customer, default_policy  # heavy: on use

    i = schema.insights
    rows = store.rows(
        select(i.c.customer_id, func.count().label("n"))
        .where(i.c.state == "live")
        .group_by(i.c.customer_id)
        .order_by(func.count().desc(), i.c.customer_id)
        .limit(12)
    )
    policy = default_policy()
    talk: list[DecisionResult] = []
    quiet: list[DecisionResult] = []
    for customer_id, _n in rows:
        result = decide_customer(store, customer_id=customer_id, policy=policy)
        (quiet if result.decision.is_silence else talk).append(result)
        if len(talk) >= shown - 1 and quiet:
            break
    picked = (talk[: shown - 1] + quiet[:1]) if quiet else talk[:shown]
    table = Table(title="in-app feed: rules-only vs Tactful", show_lines=True)
    table.add_column("customer")
    table.add_column("rules-only: every live insight")
    table.add_column("Tactful chose")
    table.add_column("why")
    for result in picked:
        d = result.decision
        live = store.rows(
            select(i.c.detector).where(i.c.customer_id == d.customer_id, i.c.state == "live")
        )
        counts = Counter(str(r[0]) for r in live)
        shown_now = ", ".join(f"{k} x{n}" if n > 1 else k for k, n in sorted(counts.items()))
        chosen = "silence" if d.action is None else f"{d.action.id} ({d.channel})"
        table.add_row(
            escape(d.customer_id), f"{len(live)}: {escape(shown_now)}", escape(chosen),
            escape(d.explanation),
        )
    console.print(table)
    db = f"sqlite:///{directory / 'tactful.db'}"
    console.print(
        f"Every candidate and why it was dropped: tactful decide <id> --db {db}; replay a logged "
        f"decision: tactful explain <decision id> --db {db}"
    )
    first = picked[0].decision.customer_id if picked else "<customer id>"
    console.print(
        f"The service: tactful keys create --scope app --customer {escape(first)} --db {db}, "
        f"then tactful serve --clock data --db {db} and open a customer's feed: curl -H "
        f"'Authorization: Bearer <key>' localhost:8000/v1/customers/{escape(first)}/feed "
        "(README, \"The service\")"
    )
