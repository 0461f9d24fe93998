"""The first answer to a request sent with an ``Idempotency-Key``, kept so a retry gets it back.

Keys are scoped by API key (two clients may pick the same key) and remembered with a hash of
the request: the same key with another request is a client error, not a silent replay. The
writes under a kept answer are idempotent by their natural ids anyway (``ingest``), so two
concurrent first tries are settled before either runs: the key is claimed first, one runs, and
the other waits for its answer (``once``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

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


PENDING = 0
"""The status of a claimed key whose first request is still running."""


def once(store: Store, *, key_id: str, idempotency_key: str, fingerprint: str,
         run: Callable[[], tuple[int, Any]], customer_id: str | None = None,
         wait_s: float = 30.0) -> tuple[int, Any, bool]:
    """(status, body, replayed): the kept answer for this key, or ``run``'s, kept.

    The key is claimed before ``run`` starts, so of two concurrent first tries only one runs;
    the other waits for its answer (up to ``wait_s``, then ``ConflictError``). A ``run`` that
    raises releases the claim: the client's retry runs afresh."""
    kept = recall(store, key_id=key_id, idempotency_key=idempotency_key, fingerprint=fingerprint)
    if kept is None:
        t = schema.idempotent_answers
        claim: dict[str, Any] = {"key_id": key_id, "idempotency_key": idempotency_key,
                 "request_hash": fingerprint, "customer_id": customer_id,
                 "status_code": PENDING, "body": {}, "created_at": datetime.now(UTC)}
        with store.transaction() as conn:
            claimed = insert_new(conn, t, [claim]) == 1
        if claimed:
            try:
                status, body = run()
            except BaseException:
                with store.transaction() as conn:
                    conn.execute(delete(t).where(t.c.key_id == key_id,
                                                 t.c.idempotency_key == idempotency_key))
                raise
            with store.transaction() as conn:
                conn.execute(update(t).where(
                    t.c.key_id == key_id, t.c.idempotency_key == idempotency_key).values(
                    status_code=status, body=body))
            return status, body, False
        kept = recall(store, key_id=key_id, idempotency_key=idempotency_key,
                      fingerprint=fingerprint)
    deadline = time.monotonic() + wait_s
    while kept is not None and kept[0] == PENDING and time.monotonic() < deadline:
        time.sleep(0.02)
        kept = recall(store, key_id=key_id, idempotency_key=idempotency_key,
                      fingerprint=fingerprint)
    if kept is None or kept[0] == PENDING:
        raise ConflictError("the first request with this Idempotency-Key is still running")
    return kept[0], kept[1], True


def forget_before(store: Store, *, before: datetime | None = None) -> int:
    """Drop answers older than ``KEEP`` (or than ``before``)."""
    t = schema.idempotent_answers
    cutoff = before or datetime.now(UTC) - KEEP
    with store.transaction() as conn:
        return int(conn.execute(delete(t).where(t.c.created_at < cutoff)).rowcount)
