"""The worker: enqueue what was decided, claim what is due, check, send, record -- in rounds.

One round (:meth:`Worker.round`) is: add a message for every new decision to send; claim a
batch of due messages under a lease; ask the send-time checks about each (a withdrawn consent
or an opted-out channel cancels, quiet hours defer); hand the rest to their channel adapters,
a batch per adapter; record every answer. :meth:`Worker.drain` runs rounds until nothing is due
(``tactful deliver --once``, a cron job, the tests); :meth:`Worker.run` polls for ever
(``tactful deliver``), sleeping ``poll_s`` when idle.

Any number of workers may run against one store (see ``outbox.claim``). The guarantees, and
why a worker killed with SIGKILL at any point neither loses nor duplicates a message's effect,
are in docs/deliver.md.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tactful.decide.catalog import ActionsCatalog
from tactful.deliver import outbox
from tactful.deliver.channels import ChannelAdapter, channels
from tactful.deliver.checks import verdict
from tactful.deliver.message import OutboundMessage, SendResult
from tactful.deliver.settings import DeliverySettings
from tactful.store.store import Store

__all__ = ["Round", "Worker"]

log = logging.getLogger(__name__)


@dataclass
class Round:
    """What one round (or a sum of rounds) did."""

    enqueued: int = 0
    claimed: int = 0
    states: Counter[str] = field(default_factory=Counter)
    """Claimed messages by the state they left in (sent, pending, failed, cancelled)."""
    deferred: int = 0

    def __iadd__(self, other: Round) -> Round:
        self.enqueued += other.enqueued
        self.claimed += other.claimed
        self.states.update(other.states)
        self.deferred += other.deferred
        return self


class Worker:
    """Delivers the outbox of ``store``. ``adapters`` overrides the registry's (tests);
    ``clock`` and ``rng`` make time and jitter reproducible."""

    def __init__(self, store: Store, settings: DeliverySettings | None = None, *,
                 catalog: ActionsCatalog | None = None,
                 adapters: Mapping[str, ChannelAdapter] | None = None,
                 name: str | None = None, clock: Callable[[], datetime] | None = None,
                 rng: random.Random | None = None) -> None:
        self.store = store
        self.settings = settings or DeliverySettings()
        self.catalog = catalog or ActionsCatalog.default()
        self.name = name or f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._adapters: dict[str, ChannelAdapter] = dict(adapters or {})
        self._clock = clock or (lambda: datetime.now(UTC))
        self._rng = rng

    def adapter(self, name: str) -> ChannelAdapter:
        if name not in self._adapters:
            self._adapters[name] = channels.get(name)(self.settings, self.store)
        return self._adapters[name]

    def round(self) -> Round:
        s = self.settings
        now = self._clock()
        report = Round(enqueued=outbox.enqueue(self.store, catalog=self.catalog,
                                               routes=s.routes, now=now))
        claimed = outbox.claim(self.store, worker=self.name, batch=s.batch,
                               lease=timedelta(seconds=s.lease_s), now=now)
        report.claimed = len(claimed)
        if not claimed:
            return report
        states = outbox.customer_states(self.store, [c.message.customer_id for c in claimed],
                                        now=now)
        cancel: dict[str, str] = {}
        defer: dict[str, datetime] = {}
        by_adapter: dict[str, list[OutboundMessage]] = {}
        for c in claimed:
            v = verdict(channel=c.message.channel, consent_purpose=c.consent_purpose,
                        cap_exempt=c.cap_exempt, customer=states.get(c.message.customer_id),
                        now=now)
            if v.cancel is not None:
                cancel[c.message.idempotency_key] = v.cancel
            elif v.defer_until is not None:
                defer[c.message.idempotency_key] = v.defer_until
            else:
                by_adapter.setdefault(c.adapter, []).append(c.message)
        report.states["cancelled"] += outbox.cancel(self.store, cancel, now=now)
        report.deferred = outbox.defer(self.store, defer, worker=self.name, now=now)
        results: list[SendResult] = []
        for name, messages in sorted(by_adapter.items()):
            results += self._send(name, messages)
        report.states.update(outbox.record(
            self.store, claimed, results, worker=self.name, max_attempts=s.max_attempts,
            backoff_base=timedelta(seconds=s.backoff_base_s),
            backoff_cap=timedelta(seconds=s.backoff_cap_s), now=self._clock(), rng=self._rng))
        return report

    def _send(self, name: str, messages: list[OutboundMessage]) -> list[SendResult]:
        """The adapter's answers; an adapter that cannot be built or that raises fails the
        batch as retryable (a configuration fixed later sends it), never the worker."""
        try:
            return self.adapter(name).send(messages)
        except Exception as exc:  # one broken channel must not stop the others
            log.warning("channel %s failed a batch of %d: %s", name, len(messages),
                        type(exc).__name__)
            why = f"channel {name}: {type(exc).__name__}: {exc}"
            return [SendResult.failed(m.idempotency_key, why, retryable=True)
                    for m in messages]

    def drain(self, *, on_round: Callable[[Round], object] | None = None) -> Round:
        """Rounds until one claims nothing: everything due now is delivered or scheduled."""
        total = Round()
        while True:
            r = self.round()
            total += r
            if on_round is not None:
                on_round(r)
            if r.claimed == 0:
                return total

    def run(self, *, stop: threading.Event | None = None,
            on_round: Callable[[Round], object] | None = None) -> Round:
        """Rounds for ever (until ``stop`` is set), sleeping ``poll_s`` when idle."""
        halt = stop or threading.Event()
        total = Round()
        while not halt.is_set():
            r = self.round()
            total += r
            if on_round is not None:
                on_round(r)
            if r.claimed == 0:
                halt.wait(self.settings.poll_s)
        return total

    def close(self) -> None:
        for adapter in self._adapters.values():
            adapter.close()
        self._adapters.clear()
