"""A customer's rights as commands: ``tactful export CUSTOMER_ID`` (everything held, as JSON),
``tactful erase CUSTOMER_ID`` (remove it, and print what was kept and why) and ``tactful
consent CUSTOMER_ID --purpose P --grant|--withdraw`` (record a change of consent; a withdrawal
retracts what it no longer allows at once). The work is in ``tactful.service``; these only parse,
confirm and print."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tactful.domain.enums import ConsentPurpose

# The engine is imported inside the commands that use it: `tactful --help` must not pay for
# it (tests/cli/test_startup.py).

console = Console()
err_console = Console(stderr=True)

DbUrl = Annotated[
    str | None,
    typer.Option("--db", help="Store URL; default TACTFUL_DATABASE_URL or sqlite:///tactful.db"),
]
By = Annotated[str, typer.Option("--by", help="Who asks (logged): e.g. the privacy officer")]


def export_command(
    customer_id: str,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the JSON to this file (0600), not stdout")
    ] = None,
    by: By = "cli",
    db: DbUrl = None,
) -> None:
    """Everything the store holds about CUSTOMER_ID, as JSON (the right of access)."""
    from tactful.service.context import session
    from tactful.service.privacy import export as export_customer
    from tactful.service.privacy import mask, write_private

    with session(db) as store:
        export = export_customer(store, customer_id=customer_id, requested_by=by)
    document = export.to_json()
    if out is None:
        sys.stdout.write(document)
        return
    write_private(out, document)
    err_console.print(
        f"{export.rows:,} rows of {len([t for t, r in export.tables.items() if r])} tables "
        f"about customer {mask(customer_id)} written to {escape(str(out))}"
    )


def erase_command(
    customer_id: str,
    by: By = "cli",
    reports: Annotated[
        list[Path] | None,
        typer.Option("--reports", help="Report folders to scrub (default ingest-reports)"),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
    db: DbUrl = None,
) -> None:
    """Remove CUSTOMER_ID's personal data from every table and report; print what was kept."""
    from tactful.service.context import session
    from tactful.service.privacy import SECRET_KEY_ENV, erase, erasure_key, mask

    with session(db) as store:
        key = erasure_key()
        if not yes:
            typer.confirm(f"Erase customer {mask(customer_id)} from {store.url}?", abort=True)
        report = erase(
            store,
            customer_id=customer_id,
            erased_by=by,
            key=key,
            report_dirs=reports if reports is not None else [Path("ingest-reports")],
        )
    deleted = Table(title=f"Erased customer {report.customer}", title_justify="left")
    deleted.add_column("table")
    deleted.add_column("rows deleted", justify="right")
    for table, n in sorted(report.rows_deleted.items()):
        if n:
            deleted.add_row(table, f"{n:,}")
    console.print(deleted)
    for path, n in sorted(report.report_files.items()):
        console.print(f"report {escape(path)}: {n:,} line(s) removed or masked")
    console.print("[bold]Kept[/bold]")
    for k in report.kept:
        console.print(f"- {escape(k.what)}: {escape(k.why)}")
    if key is None:
        err_console.print(
            f"[yellow]note[/yellow] {SECRET_KEY_ENV} is not set: no pseudonym was kept"
        )


def consent_command(
    customer_id: str,
    purpose: Annotated[ConsentPurpose, typer.Option("--purpose", help="The purpose concerned")],
    grant: Annotated[
        bool | None,
        typer.Option("--grant/--withdraw", help="Grant the purpose, or withdraw it"),
    ] = None,
    source: Annotated[
        str, typer.Option("--source", help="Where the change came from (kept with it)")
    ] = "cli",
    db: DbUrl = None,
) -> None:
    """Record CUSTOMER_ID's grant or withdrawal of a purpose, now; a withdrawal retracts the
    open insights that needed it in the same transaction."""
    from tactful.service.context import session
    from tactful.service.customers import change_consent
    from tactful.service.privacy import mask
    from tactful.service.records import ConsentIn

    if grant is None:
        raise typer.BadParameter("say --grant or --withdraw", param_hint="--grant/--withdraw")
    with session(db) as store:
        change = change_consent(store, customer_id=customer_id, change=ConsentIn(
            purpose=purpose, action="grant" if grant else "withdraw", source=source))
    console.print(
        f"customer {mask(customer_id)}: {purpose.value} {change.status}; "
        f"{change.retracted:,} open insight(s) retracted"
    )
