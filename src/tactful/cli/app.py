"""``tactful``: the command line.

Every command opens the configured store (``TACTFUL_DATABASE_URL``, default ``sqlite:///tactful.db``)
and migrates it on first use, so a new user needs no set-up step; the command's session
(``tactful.service.context.session``) closes it when the command ends. The commands call the
application layer (``tactful.service``) and print; the import contracts in pyproject hold them
to that.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from tactful.cli import decide as decide_cli
from tactful.cli import deliver as deliver_cli
from tactful.cli import insights, trust, understand
from tactful.cli import measure as measure_cli
from tactful.cli import models as models_cli
from tactful.cli import service as service_cli
from tactful.cli.render import progress_bar
from tactful.errors import TactfulError
from tactful.service.choices import ConflictPolicy

# The application layer is imported inside the commands that use it: `tactful --help` must not
# pay for the engine behind it (tests/cli/test_startup.py).
if TYPE_CHECKING:
    from tactful.service.context import Store

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    # Help as click prints it, in plain text (every group under this one inherits it): Rich's
    # help panels cost a tenth of a second of imports (Markdown among them) on every --help,
    # a third of the start-up budget (issue 21: under 0.3 s); progress and tables stay Rich.
    rich_markup_mode=None,
    help="Tactful: an open personalization engine for banks.",
)
db_app = typer.Typer(no_args_is_help=True, help="The store: migrations and status.")
app.add_typer(db_app, name="db")

app.command("enrich")(understand.enrich_command)
app.command("run")(understand.run_command)
app.command("recategorize")(understand.recategorize_command)
app.command("categories")(understand.categories_command)
app.add_typer(understand.rules_app, name="rules")
app.add_typer(understand.aliases_app, name="aliases")
app.command("insights")(insights.list_command)
app.add_typer(insights.insight_app, name="insight")
app.add_typer(insights.budgets_app, name="budgets")
app.add_typer(insights.goals_app, name="goals")
app.command("train")(models_cli.train_command)
app.command("score")(models_cli.score_command)
app.add_typer(models_cli.models_app, name="models")
app.command("export")(trust.export_command)
app.command("erase")(trust.erase_command)
app.command("consent")(trust.consent_command)
app.command("decide")(decide_cli.decide_command)
app.command("explain")(decide_cli.explain_command)
app.add_typer(measure_cli.report_app, name="report")
app.add_typer(measure_cli.outcomes_app, name="outcomes")
app.add_typer(measure_cli.experiments_app, name="experiments")
app.command("ope")(measure_cli.ope_command)
app.command("deliver")(deliver_cli.deliver_command)
app.command("serve")(service_cli.serve_command)
app.add_typer(service_cli.keys_app, name="keys")
console = Console()
err_console = Console(stderr=True)

DbUrl = Annotated[
    str | None,
    typer.Option("--db", help="Store URL; default TACTFUL_DATABASE_URL or sqlite:///tactful.db"),
]


@db_app.command("upgrade")
def db_upgrade(db: DbUrl = None, revision: str = "head") -> None:
    """Apply the migrations (the other commands do this on an empty store)."""
    from tactful.service.context import session, upgrade

    with session(db, migrate=False) as store:
        now = upgrade(store, revision=revision)
        console.print(f"store {store.url} at revision {now}")


@db_app.command("status")
def db_status(db: DbUrl = None) -> None:
    """Revision and row counts of the store."""
    from tactful.service.context import session, status

    with session(db, migrate=False) as store:
        st = status(store)
    console.print(
        f"store {st.url}: revision {st.revision or 'none'} (code expects {st.expected})"
    )
    for table, n in st.counts.items():
        console.print(f"  {table:<13} {n:>12,}")


def _progress() -> Progress:
    return progress_bar(console, "rows")


def run_ingest(
    store: Store,
    paths: list[Path],
    *,
    fmt: str | None,
    mapping: Path | None,
    batch_size: int,
    report_dir: Path,
    on_conflict: str = "keep",
    account: str | None = None,
    currency: str | None = None,
) -> int:
    """Ingest with a progress bar; returns the number of rejects plus conflicts left as stored."""
    from tactful.service.files import ingest_files

    with _progress() as progress:
        task = progress.add_task("ingest", total=None)
        report = ingest_files(
            store,
            paths=paths,
            mapping=mapping,
            account=account,
            currency=currency,
            batch_size=batch_size,
            report_dir=report_dir,
            fmt=fmt,
            progress=lambda n: progress.advance(task, n),
            on_conflict=on_conflict,
        )
        progress.update(task, total=report.rows_read, completed=report.rows_read)
    from tactful.cli.render import print_ingest

    print_ingest(console, report)
    return report.rejected + report.kept_conflicts


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to load")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Force a reader: csv, jsonl, parquet, ofx, camt053 (or camt052, camt054), mt940, "
            "berka",
        ),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(help="Column mapping file (TOML)"),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Rows per committed batch")] = 50_000,
    report_dir: Annotated[Path, typer.Option(help="Where rejects and summary go")] = Path(
        "ingest-reports"
    ),
    enrich: Annotated[
        bool, typer.Option(help="Enrich the new transactions right after loading them")
    ] = False,
    on_conflict: Annotated[
        ConflictPolicy,
        typer.Option(
            help="A stored transaction the file gives another amount, direction, currency or "
            "booking date: keep the stored row, or replace it (and re-enrich it); either way "
            "it is listed in a conflicts file"
        ),
    ] = ConflictPolicy.KEEP,
    account: Annotated[
        str | None,
        typer.Option(
            help="Account of statement files that name none (a bank CSV's rows rarely do); "
            "without it, an IBAN in the preamble or file name, else an id derived from the "
            "file name"
        ),
    ] = None,
    currency: Annotated[
        str | None,
        typer.Option(help="ISO 4217 currency of statement files that say none"),
    ] = None,
    db: DbUrl = None,
) -> None:
    """Load bank exports and event feeds; bad rows go to a rejects file, good rows load.

    Exits with 3 when a row was rejected or a conflict was kept (the store then does not say
    what the file says)."""
    from tactful.service.context import session

    with session(db) as store:
        rejected = run_ingest(
            store,
            paths,
            fmt=fmt,
            mapping=mapping,
            batch_size=batch_size,
            report_dir=report_dir,
            on_conflict=on_conflict.value,
            account=account,
            currency=currency,
        )
        if enrich:
            understand.enrich_with_progress(store)
    if rejected:
        raise typer.Exit(code=3)


@app.command()
def profile(
    customer_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead")] = False,
    db: DbUrl = None,
) -> None:
    """The 360-degree view of one customer."""
    from tactful.service.context import session
    from tactful.service.customers import full_profile

    with session(db) as store:
        p = full_profile(store, customer_id=customer_id)
        if as_json:
            console.print_json(json.dumps(asdict(p), default=str))
            return
        from tactful.cli.render import profile_panel

        console.print(profile_panel(p))
        scores = models_cli.scores_table(store, customer_id)
        if scores is not None:
            console.print(scores)


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="Folder for the exports (and truth/)")],
    customers: Annotated[int, typer.Option(min=1)] = 1000,
    months: Annotated[int, typer.Option(min=1, max=120)] = 12,
    seed: int = 0,
    start: Annotated[str, typer.Option(help="First day of a month, YYYY-MM-DD")] = "2024-01-01",
    fmt: Annotated[str, typer.Option("--format", help="parquet, csv, ofx or camt053")] = "parquet",
    unseen_merchants: Annotated[
        bool,
        typer.Option(
            "--unseen-merchants",
            help="Card merchants and descriptor styles the engine's directory and rules have "
            "never seen",
        ),
    ] = False,
    world: Annotated[
        bool,
        typer.Option(
            "--world",
            help="Step a living world day by day (no messages): one export folder per day in "
            "OUT/days/ (parquet or csv), the world's truth in OUT/truth/",
        ),
    ] = False,
) -> None:
    """Write a simulated bank's exports, and the truth behind them to OUT/truth/."""
    from tactful.cli.demo import run_simulation

    if world:
        from tactful.simulate import SimulationConfig
        from tactful.simulate.world import run as run_world

        config = SimulationConfig(
            customers=customers,
            months=months,
            seed=seed,
            start=_parse_date(start),
            unseen_merchants=unseen_merchants,
        )
        run_world(config, out, fmt=fmt)
        console.print(f"{config.n_days} days stepped: daily exports in {out / 'days'}")
        return

    run_simulation(
        console,
        out,
        customers=customers,
        months=months,
        seed=seed,
        start=_parse_date(start),
        fmt=fmt,
        unseen_merchants=unseen_merchants,
    )


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Working folder")] = Path(".demo"),
    customers: Annotated[int, typer.Option(min=1)] = 2000,
    months: Annotated[int, typer.Option(min=1, max=120)] = 6,
    seed: int = 7,
    start: str = "2025-05-01",
) -> None:
    """Simulate a bank, ingest it into SQLite and show what Tactful knows of its customers."""
    from tactful.cli.demo import run_demo

    run_demo(
        console, directory, customers=customers, months=months, seed=seed, start=_parse_date(start)
    )


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def main() -> None:
    try:
        app()
    except TactfulError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise SystemExit(2) from exc


if os.environ.get("TACTFUL_CLI_DEBUG"):  # pragma: no cover
    console.print("debug mode")


if __name__ == "__main__":  # python -m tactful.cli.app (bench/startup.py)
    main()
