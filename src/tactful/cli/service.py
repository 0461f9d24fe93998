"""``tactful serve`` (the REST API under uvicorn) and ``tactful keys create|list|revoke`` (who
may call it). The work is in ``tactful.service`` and ``tactful.api``; these parse and print."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tactful.service.choices import Scope

# The engine is imported inside the commands that use it: `tactful --help` must not pay for
# it (tests/cli/test_startup.py).

console = Console()
err_console = Console(stderr=True)
keys_app = typer.Typer(no_args_is_help=True, help="API keys: create (shown once), list, revoke.")

DbUrl = Annotated[
    str | None,
    typer.Option("--db", help="Store URL; default TACTFUL_DATABASE_URL or sqlite:///tactful.db"),
]


@keys_app.command("create")
def create_command(
    scope: Annotated[Scope, typer.Option(help="app (one customer), ingest or admin")],
    customer: Annotated[str | None, typer.Option(
        "--customer", help="The one customer an app key may reach")] = None,
    name: Annotated[str, typer.Option(help="What the key is for (shown by list)")] = "",
    db: DbUrl = None,
) -> None:
    """Make an API key; the key is printed once and only its hash is stored."""
    from tactful.service.context import session
    from tactful.service.keys import create_key

    with session(db) as store:
        made = create_key(store, scope=scope, customer_id=customer, name=name)
    err_console.print(f"key {made.info.key_id} ({made.info.scope.value}"
                      f"{', customer ' + escape(customer) if customer else ''}): shown once, "
                      "keep it now")
    typer.echo(made.token)


@keys_app.command("list")
def list_command(db: DbUrl = None) -> None:
    """Every key: id, scope, customer, when made and revoked (never the key itself)."""
    from tactful.service.context import session
    from tactful.service.keys import list_keys

    with session(db) as store:
        keys = list_keys(store)
    table = Table("key id", "scope", "customer", "name", "created", "revoked")
    for k in keys:
        table.add_row(*(escape(x) for x in (
            k.key_id, k.scope.value, k.customer_id or "-", k.name or "-",
            f"{k.created_at:%Y-%m-%d %H:%M}",
            f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "-")))
    console.print(table)


@keys_app.command("revoke")
def revoke_command(key_id: str, db: DbUrl = None) -> None:
    """Revoke a key: the next request with it is refused."""
    from tactful.service.context import session
    from tactful.service.keys import revoke_key

    with session(db) as store:
        done = revoke_key(store, key_id=key_id)
    console.print(escape(f"key {done.key_id} revoked at {done.revoked_at:%Y-%m-%d %H:%M} UTC"))


def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (PostgreSQL for "
                                                     "more than one)")] = 1,
    clock: Annotated[str, typer.Option(
        help="now (the wall clock) or data (the data's latest moment: a demo bank in the "
             "past)")] = "now",
    rate_limit: Annotated[float | None, typer.Option(
        "--rate-limit", help="Requests a second per API key (default 100)")] = None,
    deliver: Annotated[bool, typer.Option(
        "--deliver/--no-deliver", help="Also run the outbox worker in each process (send what "
                                       "the decisions chose); off by default: under parallel "
                                       "load on PostgreSQL it still contends with the requests "
                                       "(run tactful deliver beside the service)")] = False,
    access_log: Annotated[bool, typer.Option(
        "--access-log/--no-access-log", help="Log every request (uvicorn's access log); off "
                                             "by default: /metrics counts them, and each line "
                                             "costs CPU on every request")] = False,
    db: DbUrl = None,
) -> None:
    """Serve the REST API (OpenAPI at /docs and /openapi.json), and deliver the outbox."""
    import os

    import uvicorn

    from tactful.service.context import session

    if clock not in ("now", "data"):
        raise typer.BadParameter("--clock is now or data")
    if db:
        os.environ["TACTFUL_DATABASE_URL"] = db
    os.environ["TACTFUL_API_CLOCK"] = clock
    os.environ["TACTFUL_API_DELIVER"] = "true" if deliver else "false"
    if rate_limit is not None:
        os.environ["TACTFUL_API_RATE_PER_SECOND"] = str(rate_limit)
        os.environ["TACTFUL_API_BURST"] = str(max(1, int(rate_limit * 2)))
    with session(db) as store:  # migrate once, before the workers start
        if workers > 1 and store.dialect == "sqlite":
            err_console.print("[yellow]several workers on SQLite serialize on its one writer: "
                              "use PostgreSQL[/yellow]")
    console.print(f"Tactful API on http://{host}:{port} (docs at /docs; clock {clock}; "
                  f"{'delivering the outbox' if deliver else 'not delivering'})")
    uvicorn.run("tactful.api.app:from_environment", factory=True, host=host, port=port,
                workers=workers, log_level="info" if access_log else "warning",
                access_log=access_log)
