"""The first answer to a request sent with an ``Idempotency-Key``, kept so a retry gets it back.

Keys are scoped by API key (two clients may pick the same key) and remembered with a hash of
the request: the same key with another request is a client error, not a silent replay. The
writes under a kept answer are idempotent by their natural ids anyway (``ingest``), so two
concurrent first tries store their rows once; the first answer to be kept wins, and both
callers are given it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from tactful.errors import ConflictError
from tactful.service.rows import insert_new
from tactful.store import schema
from tactful.store.store import Store

KEEP = timedelta(days=1)
"""How long an answer is kept: long past any client's retry schedule."""


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\x1f".join((method.encode(), path.encode(), body))).hexdigest()


def recall(store: Store, *, key_id: str, idempotency_key: str, fingerprint: str) -> (
    tuple[int, Any] | None
):
    """The kept (status, body) for this key, or None; ``ConflictError`` if the key was used
    for another request."""
    t = schema.idempotent_answers
    rows = store.rows(select(t.c.request_hash, t.c.status_code, t.c.body).where(
        t.c.key_id == key_id, t.c.idempotency_key == idempotency_key))
    if not rows:
        return None
    if rows[0].request_hash != fingerprint:
        raise ConflictError("this Idempotency-Key was used for another request")
    return int(rows[0].status_code), rows[0].body


def remember(store: Store, *, key_id: str, idempotency_key: str, fingerprint: str,
             status: int, body: Any, customer_id: str | None = None) -> tuple[int, Any]:
    """Keep (status, body) unless an answer is already kept; return the one kept."""
    t = schema.idempotent_answers
    row = {"key_id": key_id, "idempotency_key": idempotency_key, "request_hash": fingerprint,
           "customer_id": customer_id, "status_code": status, "body": body,
           "created_at": datetime.now(UTC)}
    with store.transaction() as conn:
        insert_new(conn, t, [row])
    kept = recall(store, key_id=key_id, idempotency_key=idempotency_key,
                  fingerprint=fingerprint)
    return kept if kept is not None else (status, body)


def forget_before(store: Store, *, before: datetime | None = None) -> int:
    """Drop answers older than ``KEEP`` (or than ``before``)."""
    t = schema.idempotent_answers
    cutoff = before or datetime.now(UTC) - KEEP
    with store.transaction() as conn:
        return int(conn.execute(delete(t).where(t.c.created_at < cutoff)).rowcount)
