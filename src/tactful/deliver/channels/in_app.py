"""The in-app channel: the message is stored in the feed, which the API serves to the app.

Nothing leaves the bank; "sent" means available in the customer's feed. The feed row has the
message's idempotency key as its key, so delivering twice is one feed item.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from tactful.deliver.channels.base import channels
from tactful.deliver.message import OutboundMessage, SendResult
from tactful.deliver.settings import DeliverySettings
from tactful.store import schema
from tactful.store.store import Store

__all__ = ["InAppFeed"]


class InAppFeed:
    """Writes messages into the ``feed`` table, one transaction per batch."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def send(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        if not messages:
            return []
        now = datetime.now(UTC)
        rows = [{"idempotency_key": m.idempotency_key, "customer_id": m.customer_id,
                 "action_id": m.action_id, "language": m.language, "title": m.title,
                 "body": m.body, "call_to_action": m.call_to_action,
                 "explanation": m.explanation, "available_at": now} for m in messages]
        insert: Any = (postgresql.insert if self.store.dialect == "postgresql"
                       else sqlite.insert)
        with self.store.transaction() as conn:
            conn.execute(insert(schema.feed).on_conflict_do_nothing(), rows)
        return [SendResult.sent(m.idempotency_key) for m in messages]

    def close(self) -> None:
        return None


@channels.register("in_app")
def _factory(settings: DeliverySettings, store: Store) -> InAppFeed:
    del settings
    return InAppFeed(store)
