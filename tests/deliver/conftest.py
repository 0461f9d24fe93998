"""Fixtures of the delivery tests: a real SMTP server (aiosmtpd) and a real HTTP receiver on
free local ports, and a store holding customers, consents, insights and decisions to send."""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import insert

from tactful.decide.policy import decision_id
from tactful.deliver.receiver import WebhookReceiver
from tactful.deliver.settings import DeliverySettings
from tactful.store import schema
from tactful.store.store import Store

SECRET = "k" * 40
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # 13:00 in Paris: outside the quiet hours


@dataclass
class Inbox:
    """What the SMTP server received, and the answer it gives to the next recipients."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session,
                          envelope: Envelope) -> str:
        content = envelope.original_content or b""
        with self.lock:
            self.messages.append(message_from_bytes(content, _class=EmailMessage,
                                                     policy=policy.default))
            self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with socket.socket() as probe:  # a free port: the controller needs to know it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, int(controller.port)
    finally:
        controller.stop()
        asyncio.set_event_loop(None)
        del controller
        # aiosmtpd leaves the server side of its last connections to the garbage collector;
        # collected here, their warnings are the fixture's, not whichever test runs next
        # (the product's own sockets are checked by "error" in every test)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver(SECRET.encode()).start()
    try:
        yield server
    finally:
        server.stop()


def settings(**overrides: Any) -> DeliverySettings:
    base: dict[str, Any] = {"backoff_base_s": 30.0, "backoff_cap_s": 600.0, "max_attempts": 3,
                            "lease_s": 60.0, "webhook_secret": SECRET}
    return DeliverySettings(**{**base, **overrides})


def add_customer(store: Store, cid: str, *, locale: str = "en_GB",
                 channels: str = "in_app|push|email", quiet: tuple[str, str] | None = None,
                 consents: tuple[str, ...] = ("personalization", "marketing")) -> None:
    with store.transaction() as conn:
        conn.execute(insert(schema.customers).values(
            id=cid, region="EU", locale=locale, timezone="Europe/Paris",
            channel_preferences=channels,
            quiet_hours_start=quiet[0] if quiet else None,
            quiet_hours_end=quiet[1] if quiet else None))
        for purpose in consents:
            conn.execute(insert(schema.consents).values(
                customer_id=cid, purpose=purpose, at=NOW - timedelta(days=30),
                status="granted", source="test"))


def withdraw(store: Store, cid: str, purpose: str, at: datetime) -> None:
    with store.transaction() as conn:
        conn.execute(insert(schema.consents).values(
            customer_id=cid, purpose=purpose, at=at, status="withdrawn", source="test"))


def add_insight(store: Store, insight_id: str, cid: str, *, locale: str = "en_GB",
                title: str = "Rent due in 3 days", message: str = "Your rent of £900 is due.",
                ) -> None:
    with store.transaction() as conn:
        conn.execute(insert(schema.insights).values(
            insight_id=insight_id, customer_id=cid, detector="upcoming_bill",
            family="insight", subject="rent", period="2026-03", state="live", relevance=0.8,
            urgency="high", facts={}, locale=locale, title=title, message=message,
            call_to_action="See upcoming bills", action="view_bills",
            explanation="Because you pay rent monthly.", consent_purpose="personalization",
            min_level="basic", as_of=NOW.date(), produced_at=NOW - timedelta(hours=1),
            expires_at=NOW + timedelta(days=3), cooldown_until=NOW,
            state_changed_at=NOW - timedelta(hours=1)))


def add_decision(store: Store, cid: str, *, channel: str, action_id: str = "upcoming_bill",
                 insight_ids: tuple[str, ...] = (), product_id: str | None = None,
                 send_at: datetime = NOW, at: datetime | None = None,
                 silent: bool = False) -> str:
    moment = at or send_at - timedelta(minutes=5)
    did = decision_id(cid, moment, f"test-{channel}")
    if not silent and not insight_ids and product_id is None:
        insight_ids = (f"ins-{did}",)
        add_insight(store, insight_ids[0], cid)
    with store.transaction() as conn:
        conn.execute(insert(schema.decisions).values(
            decision_id=did, customer_id=cid, placement="outbound", decided_at=moment,
            silent=silent, action_id=None if silent else action_id,
            family=None if silent else "insight", product_id=product_id,
            channel=None if silent else channel, send_at=send_at, pscore=0.9,
            policy_version="test", explanation="test", created_at=moment,
            relevance={"insight_ids": list(insight_ids)}, inputs={}, candidates=[]))
    return did
