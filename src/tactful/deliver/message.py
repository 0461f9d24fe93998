"""The outbox's vocabulary: a message's states, its idempotency key, what a channel answers,
and the back-off between attempts. Pure: no I/O."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

__all__ = [
    "KEY_PREFIX",
    "MessageState",
    "OutboundMessage",
    "SendResult",
    "backoff",
    "idempotency_key",
]

KEY_PREFIX: Final = "tm_"


class MessageState(StrEnum):
    """``pending`` waits for its time (``send_at``, then ``next_attempt_at`` after a failure);
    ``sending`` is claimed by a worker until ``claimed_until`` (a worker that dies leaves it to
    be claimed again when the lease runs out); ``sent``, ``failed`` (gave up: a permanent error,
    or the last attempt) and ``cancelled`` (consent withdrawn, channel opted out) are final."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in (MessageState.SENT, MessageState.FAILED, MessageState.CANCELLED)


def idempotency_key(decision_id: str) -> str:
    """The message's key: a hash of the decision id, so the same decision is always the same
    message, and the key tells a receiver nothing about the customer.

    >>> idempotency_key("d1") == idempotency_key("d1") != idempotency_key("d2")
    True
    >>> idempotency_key("d1")[:3]
    'tm_'
    """
    digest = hashlib.sha256(f"tactful-outbox:{decision_id}".encode()).hexdigest()
    return KEY_PREFIX + digest[:40]


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A claimed message, as a channel adapter sees it."""

    idempotency_key: str
    decision_id: str
    customer_id: str
    action_id: str
    channel: str
    language: str
    locale: str
    title: str
    body: str
    call_to_action: str
    explanation: str
    send_at: datetime
    attempt: int


@dataclass(frozen=True, slots=True)
class SendResult:
    """What a channel made of one message: sent, or an error that is worth retrying or not.
    ``error`` is shown to operators and stored: adapters keep identifiers out of it."""

    idempotency_key: str
    ok: bool
    retryable: bool = True
    error: str | None = None

    @classmethod
    def sent(cls, key: str) -> SendResult:
        return cls(key, ok=True, retryable=False)

    @classmethod
    def failed(cls, key: str, error: str, *, retryable: bool) -> SendResult:
        return cls(key, ok=False, retryable=retryable, error=error)


def backoff(attempt: int, *, base: timedelta, cap: timedelta,
            rng: random.Random | None = None) -> timedelta:
    """How long to wait after failed attempt number ``attempt`` (1, 2, ...): ``base`` doubled
    per attempt up to ``cap``, then drawn uniformly in its upper half ("equal jitter"), so a
    receiver that was down is not hit by every worker's retries in the same second, and the
    wait still grows.

    >>> import random
    >>> r = random.Random(0)
    >>> [backoff(n, base=timedelta(seconds=10), cap=timedelta(minutes=1), rng=r).seconds
    ...  for n in (1, 2, 3, 4, 5)]
    [9, 17, 28, 37, 45]
    """
    if attempt < 1:
        raise ValueError(f"attempt must be >= 1, got {attempt}")
    ceiling = min(cap.total_seconds(), base.total_seconds() * 2 ** (attempt - 1))
    draw = (rng or random).uniform(0.5, 1.0)  # jitter, not a secret
    return timedelta(seconds=ceiling * draw)
