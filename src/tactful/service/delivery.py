"""Delivering the outbox: ``deliver`` as ``tactful deliver`` runs it (what is due now, or until
stopped), and the worker beside the API: ``tactful serve`` delivers what its decisions chose without
a second process to run. Each API process runs one worker thread; claims are leased (and taken
with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so several processes share the outbox and none
sends a message twice."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from tactful.deliver.worker import Round
from tactful.store.store import Store

__all__ = ["Round", "deliver", "start_delivery"]

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5.0
"""How long the thread waits after a round failed (the database restarting, a lock timeout)
before it tries again: a broken round must not end delivery for the life of the process."""


def start_delivery(store: Store) -> Callable[[], None]:
    """Start delivering ``store``'s outbox in a daemon thread; the returned function stops it
    (the round in flight finishes) and closes the channels."""
    from tactful.deliver.settings import DeliverySettings
    from tactful.deliver.worker import Worker

    worker = Worker(store, DeliverySettings())
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                worker.run(stop=stop)
            except Exception as exc:  # the next round may succeed; log and go on
                log.warning("delivery round failed (%s); retrying in %.0f s",
                            type(exc).__name__, RETRY_AFTER_S)
                stop.wait(RETRY_AFTER_S)

    thread = threading.Thread(target=loop, name="tactful-deliver", daemon=True)
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=30)
        worker.close()

    return halt


def deliver(
    store: Store,
    *,
    once: bool = False,
    batch: int | None = None,
    lease: float | None = None,
    stop: threading.Event | None = None,
    on_start: Callable[[str], Any] | None = None,
) -> Round:
    """Send the messages decisions chose, re-checking consent, opt-outs and quiet hours at send
    time: what is due now (``once``), or round after round until ``stop`` is set. ``batch`` and
    ``lease`` override the ``TACTFUL_DELIVER_*`` settings; ``on_start`` hears the worker's name."""
    from pydantic import ValidationError as SettingsError

    from tactful.deliver.settings import DeliverySettings
    from tactful.deliver.worker import Worker
    from tactful.errors import ConfigError

    try:
        settings = DeliverySettings()
    except SettingsError as exc:
        raise ConfigError(f"TACTFUL_DELIVER_* settings: {exc}") from exc
    if batch is not None:
        settings.batch = batch
    if lease is not None:
        settings.lease_s = lease
    worker = Worker(store, settings)
    try:
        if once:
            return worker.drain()
        if on_start is not None:
            on_start(worker.name)
        return worker.run(stop=stop)
    finally:
        worker.close()
