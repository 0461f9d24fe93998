"""``tactful deliver``: the outbox worker. ``--once`` delivers everything due and exits (a cron
job, a test); without it the worker polls until stopped (Ctrl-C, SIGTERM). The work is in
``tactful.deliver.worker``; this parses options and prints totals."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console

console = Console()

DbUrl = Annotated[
    str | None,
    typer.Option("--db", help="Store URL; default TACTFUL_DATABASE_URL or sqlite:///tactful.db"),
]


def deliver_command(
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due now, then exit")] = (
        False),
    batch: Annotated[int | None, typer.Option("--batch", min=1,
                                              help="Messages claimed per round")] = None,
    lease: Annotated[float | None, typer.Option(
        "--lease", min=0.01, help="Seconds a claim lasts before another worker may take it "
                                  "over")] = None,
    db: DbUrl = None,
) -> None:
    """Send the messages decisions chose: in-app feed, e-mail and signed webhook, with retries,
    re-checking consent, opt-outs and quiet hours at send time."""
    from pydantic import ValidationError as SettingsError

    from tactful.deliver.settings import DeliverySettings
    from tactful.deliver.worker import Worker
    from tactful.errors import ConfigError
    from tactful.store.store import Store

    try:
        settings = DeliverySettings()
    except SettingsError as exc:
        raise ConfigError(f"TACTFUL_DELIVER_* settings: {exc}") from exc
    if batch is not None:
        settings.batch = batch
    if lease is not None:
        settings.lease_s = lease
    worker = Worker(Store.open(db), settings)
    try:
        if once:
            total = worker.drain()
        else:
            stop = threading.Event()

            def _stop(_signum: int, _frame: FrameType | None) -> None:
                stop.set()

            signal.signal(signal.SIGTERM, _stop)
            signal.signal(signal.SIGINT, _stop)
            console.print(f"delivering (worker {worker.name}); stop with Ctrl-C")
            total = worker.run(stop=stop)
    finally:
        worker.close()
    states = ", ".join(f"{n:,} {s}" for s, n in sorted(total.states.items()) if n) or "nothing"
    console.print(f"{total.enqueued:,} enqueued, {total.claimed:,} claimed: {states}; "
                  f"{total.deferred:,} deferred to after quiet hours")
