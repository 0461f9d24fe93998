"""The webhook channel: each message POSTed as signed JSON to the bank's endpoint, which
forwards it to its push or SMS provider.

Requests of a batch go out concurrently over one pooled HTTP/1.1 client (``concurrency`` at
once, connections kept alive across batches). A 2xx answer is "sent"; 408, 429, 5xx, a timeout
or a refused connection are worth retrying; any other 4xx is the receiver refusing this
request, and is not. The body and headers are :mod:`~tactful.deliver.signature`'s.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import httpx

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


class Webhook:
    def __init__(self, url: str, secret: bytes, *, timeout: float = 10.0,
                 concurrency: int = 8) -> None:
        sign(secret, 0, b"")  # refuses a short secret now, not at the first message
        self.url = httpx.URL(url)
        self.secret = secret
        self._client = httpx.Client(
            timeout=timeout,
            limits=httpx.Limits(max_connections=concurrency,
                                max_keepalive_connections=concurrency))
        self._pool = ThreadPoolExecutor(max_workers=concurrency,
                                        thread_name_prefix="tactful-webhook")

    def _one(self, m: OutboundMessage) -> SendResult:
        body = payload(m)
        try:
            response = self._client.post(self.url, content=body,
                                         headers=headers(self.secret, m.idempotency_key, body))
        except httpx.HTTPError as exc:
            return SendResult.failed(m.idempotency_key, f"webhook: {type(exc).__name__}",
                                     retryable=True)
        if response.is_success:
            return SendResult.sent(m.idempotency_key)
        code = response.status_code
        return SendResult.failed(m.idempotency_key, f"webhook answered HTTP {code}",
                                 retryable=code >= 500 or code in RETRYABLE_STATUS)

    def send(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        if len(messages) <= 1:
            return [self._one(m) for m in messages]
        return list(self._pool.map(self._one, messages))

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._client.close()


@channels.register("webhook")
def _factory(settings: DeliverySettings, store: Store) -> Webhook:
    del store
    if not settings.webhook_url or settings.webhook_secret is None:
        raise ConfigError("the webhook channel needs TACTFUL_DELIVER_WEBHOOK_URL and "
                          "TACTFUL_DELIVER_WEBHOOK_SECRET")
    return Webhook(settings.webhook_url, settings.webhook_secret.get_secret_value().encode(),
                   timeout=settings.webhook_timeout_s, concurrency=settings.concurrency)
