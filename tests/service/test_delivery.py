"""``tactful serve`` delivers: the API process runs the outbox worker for its life, so a message
the feed decided reaches its channel with no second process."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import select

from tactful.api.app import create_app
from tactful.config import Settings
from tactful.service.clock import Clock
from tactful.service.feed import feed
from tactful.store import schema
from tactful.store.store import Store

from .conftest import customers


def _sent(store: Store) -> dict[str, str]:
    o = schema.outbox
    return {str(k): str(s) for k, s in store.rows(select(o.c.decision_id, o.c.state))}


def test_the_api_process_delivers_what_its_feed_decided_and_stops_with_it(bank: Store) -> None:
    shown = next(a for a in (feed(bank, customer_id=c, clock=Clock.DATA)
                             for c in customers(bank)) if not a.silent)
    app = create_app(bank, Settings(api_clock="data", api_deliver=True))
    with TestClient(app):
        deadline = time.monotonic() + 30
        while _sent(bank).get(shown.decision_id) not in ("sent", "cancelled", "failed"):
            assert time.monotonic() < deadline, _sent(bank)
            time.sleep(0.1)
    assert _sent(bank)[shown.decision_id] in ("sent", "cancelled")
    # Without the setting the API leaves the outbox alone (tests, a separate `tactful deliver`).
    later = next(a for a in (feed(bank, customer_id=c, clock=Clock.DATA)
                             for c in reversed(customers(bank))) if not a.silent
                 and a.decision_id != shown.decision_id)
    with TestClient(create_app(bank, Settings(api_clock="data"))):
        time.sleep(0.5)
    assert later.decision_id not in _sent(bank)
