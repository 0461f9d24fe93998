"""Signed webhooks: how Tactful signs a request, and how the bank's receiver checks it.

A request carries three headers:

- ``Tactful-Idempotency-Key``: the message's key; the same message sent twice (a retry, a worker
  killed after sending) carries the same key, so the receiver acts on it once (the key is also
  in the signed body, and :func:`verify` refuses a header that differs from it);
- ``Tactful-Timestamp``: when it was signed, in Unix seconds;
- ``Tactful-Signature``: ``v1=`` and the hex HMAC-SHA256, under the secret both sides share, of
  the timestamp, a dot and the raw body (``b"1767225600." + body``).

The receiver (:func:`verify`) recomputes the signature in constant time, refuses a timestamp
more than ``tolerance`` from its clock (a captured request cannot be replayed tomorrow) and,
with a :class:`ReplayGuard`, a signature it has already accepted within that window (nor
replayed today). Signing the timestamp with the body is what makes the two checks hold: change
either and the signature no longer matches. This is the scheme of Stripe's and GitHub's
webhooks, so a bank's integration team has seen it before.

The secret is the webhook's own, shared with one receiver -- not the engine's artifact key
(``tactful.signing``), which never leaves the engine's hosts.

>>> secret = b"s" * 32
>>> body = b'{"idempotency_key":"tm_1"}'
>>> h = headers(secret, "tm_1", body, timestamp=1767225600)
>>> verify(secret, h, body, now=1767225601)
'tm_1'
>>> verify(secret, h, body + b" ", now=1767225601)
Traceback (most recent call last):
...
tactful.errors.SignatureRejected: webhook signature does not match the body
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Mapping
from typing import Final

from tactful.errors import ConfigError, SignatureRejected

__all__ = [
    "KEY_HEADER",
    "MIN_SECRET_BYTES",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "ReplayGuard",
    "headers",
    "sign",
    "verify",
]

KEY_HEADER: Final = "Tactful-Idempotency-Key"
TIMESTAMP_HEADER: Final = "Tactful-Timestamp"
SIGNATURE_HEADER: Final = "Tactful-Signature"
VERSION: Final = "v1"
TOLERANCE_S: Final = 300
MIN_SECRET_BYTES: Final = 32


def _checked_secret(secret: bytes) -> bytes:
    if len(secret) < MIN_SECRET_BYTES:
        raise ConfigError(f"the webhook secret has {len(secret)} bytes; use at least "
                          f"{MIN_SECRET_BYTES}")
    return secret


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """``v1=<hex HMAC-SHA256 of "<timestamp>." + body>``."""
    mac = hmac.new(_checked_secret(secret), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{VERSION}={mac.hexdigest()}"


def headers(secret: bytes, key: str, body: bytes, *, timestamp: int | None = None) -> (
    dict[str, str]
):
    """The headers of one signed request (signed now unless ``timestamp`` is given)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        KEY_HEADER: key,
        TIMESTAMP_HEADER: str(ts),
        SIGNATURE_HEADER: sign(secret, ts, body),
    }


class ReplayGuard:
    """The signatures accepted within the tolerance window, to refuse a second one.

    In memory, for one receiver process; a receiver running on several hosts keeps them in a
    shared store (a Redis ``SET NX EX``, a unique column) with the same expiry."""

    def __init__(self, tolerance: int = TOLERANCE_S) -> None:
        self.tolerance = tolerance
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def first_time(self, signature: str, timestamp: int, now: int) -> bool:
        """True the first time ``signature`` is shown; it is then remembered until it expires."""
        with self._lock:
            if len(self._seen) > 1024:
                self._seen = {s: t for s, t in self._seen.items()
                              if now - t <= self.tolerance}
            if signature in self._seen:
                return False
            self._seen[signature] = timestamp
            return True


def verify(secret: bytes, request_headers: Mapping[str, str], body: bytes, *,
           now: int | None = None, tolerance: int = TOLERANCE_S,
           guard: ReplayGuard | None = None) -> str:
    """The idempotency key of a genuine, fresh, first-seen request; ``SignatureRejected``
    otherwise. ``request_headers`` is matched case-insensitively; ``body`` is the raw bytes as
    received (parse the JSON after verifying, never before)."""
    lower = {k.lower(): v for k, v in request_headers.items()}
    key = lower.get(KEY_HEADER.lower())
    stamp = lower.get(TIMESTAMP_HEADER.lower())
    signature = lower.get(SIGNATURE_HEADER.lower())
    if not key or not stamp or not signature:
        raise SignatureRejected(f"webhook lacks {KEY_HEADER}, {TIMESTAMP_HEADER} or "
                                f"{SIGNATURE_HEADER}")
    try:
        ts = int(stamp)
    except ValueError:
        raise SignatureRejected("webhook timestamp is not Unix seconds") from None
    clock = int(time.time()) if now is None else now
    if abs(clock - ts) > tolerance:
        raise SignatureRejected(f"webhook timestamp is {clock - ts} s away from now (tolerance "
                                f"{tolerance} s): stale or replayed")
    if not hmac.compare_digest(sign(secret, ts, body), signature):
        raise SignatureRejected("webhook signature does not match the body")
    if guard is not None and not guard.first_time(signature, ts, clock):
        raise SignatureRejected("webhook replayed: this signature was already accepted")
    try:
        signed_key = json.loads(body).get("idempotency_key")
    except (ValueError, AttributeError):
        signed_key = None
    if signed_key is not None and signed_key != key:
        raise SignatureRejected(f"the {KEY_HEADER} header differs from the signed body's key")
    return key
