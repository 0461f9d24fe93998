"""The webhook channel: each message POSTed as signed JSON to the bank's endpoint, which
forwards it to its push or SMS provider.

Requests of a batch go out concurrently: ``concurrency`` threads, each with one HTTP/1.1
connection of its own kept alive across requests and batches (the standard library's
``http.client``: a third of httpx's CPU per request, which is what bounds a worker's rate; the
socket waits release the GIL). A request on a kept-alive connection the server has meanwhile
closed is sent once more on a fresh one (the receiver deduplicates by idempotency key, so a
second copy costs nothing). A 2xx answer is "sent"; 408, 425, 429, 5xx, a timeout or a refused
connection are worth retrying; any other 4xx is the receiver refusing this request, and is not.
The body and headers are :mod:`~tactful.deliver.signature`'s.
"""

from __future__ import annotations

import http.client
import json
import secrets
import socket
import ssl
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from tactful.deliver.channels.base import channels
from tactful.deliver.message import OutboundMessage, SendResult
from tactful.deliver.settings import DeliverySettings
from tactful.deliver.signature import headers, sign
from tactful.errors import ConfigError
from tactful.store.store import Store

__all__ = ["Webhook", "payload"]

RETRYABLE_STATUS = frozenset({408, 425, 429})


def payload(m: OutboundMessage, request_id: str | None = None) -> bytes:
    """The JSON body: the message, its key, when it was meant to go, and a ``request_id`` of
    its own (compact, UTF-8). Each request's body differs, so two sends of one message in the
    same second never carry the same signature, which the receiver's replay guard would take
    for a replay; the idempotency key, not the signature, says "the same message"."""
    return json.dumps({
        "idempotency_key": m.idempotency_key,
        "request_id": request_id or secrets.token_hex(8), "decision_id": m.decision_id,
        "customer_id": m.customer_id, "channel": m.channel, "action_id": m.action_id,
        "language": m.language, "title": m.title, "body": m.body,
        "call_to_action": m.call_to_action, "explanation": m.explanation,
        "send_at": m.send_at.isoformat(), "attempt": m.attempt,
    }, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _Connections(threading.local):
    """The calling thread's connection to the endpoint (made on first use)."""

    conn: http.client.HTTPConnection | None = None
    used: bool = False


class Webhook:
    def __init__(self, url: str, secret: bytes, *, timeout: float = 10.0,
                 concurrency: int = 8) -> None:
        sign(secret, 0, b"")  # refuses a short secret now, not at the first message
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"the webhook URL must be http(s)://host[:port]/path, got {url!r}")
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.concurrency = concurrency
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._context = ssl.create_default_context() if self._https else None
        self._local = _Connections()
        self._open: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=concurrency,
                                        thread_name_prefix="tactful-webhook")

    def _connection(self) -> http.client.HTTPConnection:
        if self._local.conn is None:
            conn: http.client.HTTPConnection
            if self._https:
                conn = http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout,
                                                   context=self._context)
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
            with self._lock:
                self._open.append(conn)
            self._local.conn, self._local.used = conn, False
        return self._local.conn

    def _drop(self) -> None:
        conn = self._local.conn
        if conn is not None:
            conn.close()
            with self._lock:
                self._open.remove(conn)
        self._local.conn = None

    def _post(self, body: bytes, head: dict[str, str]) -> int:
        """The answer's status; a stale kept-alive connection is retried once on a new one."""
        for fresh in (False, True):
            conn = self._connection()
            reused = self._local.used
            try:
                conn.request("POST", self._target, body=body, headers=head)
                response = conn.getresponse()
                response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._drop()
                if reused and not fresh:
                    continue
                raise
            except BaseException:
                self._drop()
                raise
            self._local.used = True
            if response.will_close:
                self._drop()
            return response.status
        raise AssertionError("unreachable")  # pragma: no cover

    def _one(self, m: OutboundMessage) -> SendResult:
        body = payload(m)
        try:
            code = self._post(body, headers(self.secret, m.idempotency_key, body))
        except (OSError, http.client.HTTPException) as exc:
            return SendResult.failed(m.idempotency_key, f"webhook: {_kind(exc)}",
                                     retryable=True)
        if 200 <= code < 300:
            return SendResult.sent(m.idempotency_key)
        return SendResult.failed(m.idempotency_key, f"webhook answered HTTP {code}",
                                 retryable=code >= 500 or code in RETRYABLE_STATUS)

    def _drain(self, queue: Iterator[OutboundMessage]) -> list[SendResult]:
        return [self._one(m) for m in queue]

    def send(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        """Each pool thread takes the batch's next message until none is left (one task per
        thread, not one per message: submitting is a measurable share of a request's cost)."""
        if len(messages) <= 1:
            return [self._one(m) for m in messages]
        queue = iter(list(messages))  # next() on a list iterator is atomic under the GIL
        tasks = [self._pool.submit(self._drain, queue)
                 for _ in range(min(self.concurrency, len(messages)))]
        return [r for t in tasks for r in t.result()]

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        with self._lock:
            for conn in self._open:
                conn.close()
            self._open.clear()


def _kind(exc: BaseException) -> str:
    """What went wrong, in the words operators search for (no address, no identifier)."""
    if isinstance(exc, TimeoutError):
        return "Timeout"
    if isinstance(exc, ConnectionRefusedError | socket.gaierror):
        return "ConnectError"
    return type(exc).__name__


@channels.register("webhook")
def _factory(settings: DeliverySettings, store: Store) -> Webhook:
    del store
    if not settings.webhook_url or settings.webhook_secret is None:
        raise ConfigError("the webhook channel needs TACTFUL_DELIVER_WEBHOOK_URL and "
                          "TACTFUL_DELIVER_WEBHOOK_SECRET")
    return Webhook(settings.webhook_url, settings.webhook_secret.get_secret_value().encode(),
                   timeout=settings.webhook_timeout_s, concurrency=settings.concurrency)
