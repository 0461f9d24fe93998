"""A store with a customer and hand-written decisions: outcomes need decisions, not a bank."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from tactful.store import schema
from tactful.store.store import Store

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def add_customer(store: Store, cid: str = "CUS-1", segment: str | None = None) -> None:
    with store.transaction() as conn:
        conn.execute(insert(schema.customers), [{
            "id": cid, "region": "US", "locale": "en_US", "timezone": "UTC",
            "personalization_level": "advanced", "channel_preferences": "in_app|push|email",
            "segment": segment}])


def add_decision(store: Store, decision_id: str, *, customer_id: str = "CUS-1",
                 action_id: str | None = "idle_cash", channel: str | None = "push",
                 at: datetime = T0, subject: str = "S", insight_ids: tuple[str, ...] = (),
                 experiments: dict[str, str] | None = None) -> None:
    row: dict[str, Any] = {
        "decision_id": decision_id, "customer_id": customer_id, "placement": "outbound",
        "decided_at": at, "silent": action_id is None, "action_id": action_id,
        "family": None, "product_id": None, "channel": channel,
        "send_at": at + timedelta(minutes=5), "pscore": 0.5, "policy_version": "test",
        "explanation": "test", "relevance": {"subject": subject, "insight_ids":
                                             list(insight_ids)},
        "inputs": {}, "candidates": [], "created_at": at, "experiments": experiments,
    }
    with store.transaction() as conn:
        conn.execute(insert(schema.decisions), [row])
