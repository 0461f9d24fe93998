"""The answers kept for Idempotency-Key retries: one run per key, the first answer replayed,
another request under the same key refused, a failed run released for the retry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tactful.errors import ConflictError
from tactful.service.idempotency import forget_before, once, recall, request_hash
from tactful.store.store import Store


def test_one_run_per_key_and_the_first_answer_replayed(sqlite_store: Store) -> None:
    runs: list[int] = []

    def run() -> tuple[int, object]:
        runs.append(1)
        return 200, {"n": len(runs)}

    fp = request_hash("POST", "/v1/events", b"{}")
    first = once(sqlite_store, key_id="k", idempotency_key="a", fingerprint=fp, run=run)
    again = once(sqlite_store, key_id="k", idempotency_key="a", fingerprint=fp, run=run)
    assert first == (200, {"n": 1}, False) and again == (200, {"n": 1}, True)
    assert len(runs) == 1
    other_key = once(sqlite_store, key_id="k2", idempotency_key="a", fingerprint=fp, run=run)
    assert other_key[2] is False and len(runs) == 2  # keys are per API key
    with pytest.raises(ConflictError, match="used for another request"):
        once(sqlite_store, key_id="k", idempotency_key="a",
             fingerprint=request_hash("POST", "/v1/events", b"{ }"), run=run)


def test_a_failed_run_releases_the_key_and_old_answers_are_forgotten(
        sqlite_store: Store) -> None:
    fp = request_hash("POST", "/v1/events", b"{}")

    def broken() -> tuple[int, object]:
        raise RuntimeError("store down")

    with pytest.raises(RuntimeError):
        once(sqlite_store, key_id="k", idempotency_key="b", fingerprint=fp, run=broken)
    assert recall(sqlite_store, key_id="k", idempotency_key="b", fingerprint=fp) is None
    done = once(sqlite_store, key_id="k", idempotency_key="b", fingerprint=fp,
                run=lambda: (200, {"ok": True}))
    assert done == (200, {"ok": True}, False)
    assert forget_before(sqlite_store, before=datetime.now(UTC) - timedelta(hours=1)) == 0
    assert forget_before(sqlite_store, before=datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert recall(sqlite_store, key_id="k", idempotency_key="b", fingerprint=fp) is None
