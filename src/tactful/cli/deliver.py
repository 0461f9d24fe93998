"""``tactful deliver``: the outbox worker. ``--once`` delivers everything due and exits (a cron
job, a test); without it the worker polls until stopped (Ctrl-C, SIGTERM). The work is in
``tactful.service.delivery``; this parses options and prints totals."""

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
    from tactful.service.context import session
    from tactful.service.delivery import deliver

    stop = threading.Event()
    if not once:

        def _stop(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    with session(db) as store:
        total = deliver(
            store, once=once, batch=batch, lease=lease, stop=stop,
            on_start=lambda name: console.print(f"delivering (worker {name}); stop with Ctrl-C"),
        )
    states = ", ".join(f"{n:,} {s}" for s, n in sorted(total.states.items()) if n) or "nothing"
    console.print(f"{total.enqueued:,} enqueued, {total.claimed:,} claimed: {states}; "
                  f"{total.deferred:,} deferred to after quiet hours")
