"""Each channel against a real counterpart: aiosmtpd for e-mail, an HTTP server for the
webhook, the store for the in-app feed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from tactful.deliver.channels import channels
from tactful.deliver.channels.in_app import InAppFeed
from tactful.deliver.channels.mail import Email
from tactful.deliver.channels.webhook import Webhook, payload
from tactful.deliver.message import OutboundMessage
from tactful.deliver.receiver import WebhookReceiver
from tactful.deliver.signature import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tactful.store import schema
from tactful.store.store import Store

from .conftest import SECRET, Inbox, settings


def message(key: str = "tm_1", *, language: str = "en", title: str = "Rent due in 3 days",
            body: str = "Your rent of £900 is due on 5 March.") -> OutboundMessage:
    return OutboundMessage(key, "d-1", "CUS-000123", "upcoming_bill", "push", language,
                           f"{language}_DE", title, body, "See bills", "Because you pay rent.",
                           datetime(2026, 3, 2, 12, tzinfo=UTC), 1)


def test_the_registry_holds_the_three_channels() -> None:
    assert channels.names() == ["email", "in_app", "webhook"]


def test_email_is_multipart_text_and_html_from_the_same_message(
        smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    mail = Email(settings(smtp_host="127.0.0.1", smtp_port=port,
                          smtp_from="Bank <news@bank.example>",
                          email_to="{customer_id}@relay.bank.example"))
    results = mail.send([
        message("tm_de", language="de", title="Miete in 3 Tagen fällig",
                body="Ihre Miete über 900 € ist am 5. März fällig. <b>nicht fett</b>"),
        message("tm_en")])
    assert [r.ok for r in results] == [True, True]
    assert inbox.envelopes[0] == ("news@bank.example", ["CUS-000123@relay.bank.example"])
    de = inbox.messages[0]
    assert de["Subject"] == "Miete in 3 Tagen fällig"
    assert de["Message-ID"] == "<tm_de@tactful>"
    assert de["Tactful-Idempotency-Key"] == "tm_de"
    assert de["Content-Language"] == "de"
    assert de.get_content_type() == "multipart/alternative"
    parts = {p.get_content_type(): p.get_content() for p in de.iter_parts()}
    assert set(parts) == {"text/plain", "text/html"}
    assert "Ihre Miete über 900 € ist am 5. März fällig." in parts["text/plain"]
    assert "Warum Sie diese Nachricht erhalten: Because you pay rent." in parts["text/plain"]
    assert "<b>nicht fett</b>" in parts["text/plain"]
    assert "&lt;b&gt;nicht fett&lt;/b&gt;" in parts["text/html"]  # text, never markup
    assert '<html lang="de">' in parts["text/html"]
    en = inbox.messages[1].get_body(preferencelist=("plain",))
    assert en is not None and "Why you are receiving this" in en.get_content()


def test_email_refused_recipient_is_permanent_a_busy_one_is_retried(
        smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    inbox.refuse = {"CUS-000123@gone.example": "550 no such mailbox"}
    gone = Email(settings(smtp_host="127.0.0.1", smtp_port=port,
                          email_to="{customer_id}@gone.example")).send([message()])
    assert (gone[0].ok, gone[0].retryable) == (False, False)
    assert gone[0].error is not None and "550" in gone[0].error
    inbox.refuse = {"CUS-000123@busy.example": "451 try again later"}
    busy = Email(settings(smtp_host="127.0.0.1", smtp_port=port,
                          email_to="{customer_id}@busy.example")).send([message()])
    assert (busy[0].ok, busy[0].retryable) == (False, True)


def test_email_with_no_server_is_retried(smtp: tuple[Inbox, int]) -> None:
    _inbox, port = smtp
    out = Email(settings(smtp_host="127.0.0.1", smtp_port=1, smtp_timeout_s=2)).send([message()])
    assert (out[0].ok, out[0].retryable) == (False, True)
    assert port != 1


def test_webhook_posts_signed_json_the_receiver_verifies(receiver: WebhookReceiver) -> None:
    hook = Webhook(receiver.url, SECRET.encode(), concurrency=4)
    try:
        results = hook.send([message("tm_a"), message("tm_b"), message("tm_a")])
    finally:
        hook.close()
    assert all(r.ok for r in results)
    assert receiver.raw == {"tm_a": 2, "tm_b": 1}
    assert receiver.accepted == {"tm_a": 1, "tm_b": 1}
    assert receiver.rejected == []
    seen = receiver.headers_seen[0]
    assert seen[KEY_HEADER] in {"tm_a", "tm_b"}
    assert abs(int(seen[TIMESTAMP_HEADER]) - int(datetime.now(UTC).timestamp())) < 60
    assert seen[SIGNATURE_HEADER].startswith("v1=")


def test_webhook_body_is_the_message(receiver: WebhookReceiver) -> None:
    got: list[dict[str, object]] = []
    receiver.on_accept = lambda _key, body: got.append(body)
    hook = Webhook(receiver.url, SECRET.encode())
    try:
        hook.send([message("tm_x")])
    finally:
        hook.close()
    assert got[0]["title"] == "Rent due in 3 days"
    assert got[0]["idempotency_key"] == "tm_x"
    assert got[0]["send_at"] == "2026-03-02T12:00:00+00:00"


def test_webhook_5xx_is_retried_4xx_is_not_and_a_bad_secret_is_refused(
        receiver: WebhookReceiver) -> None:
    receiver.fail_next = 1
    hook = Webhook(receiver.url, SECRET.encode())
    wrong = Webhook(receiver.url, b"w" * 40)
    try:
        [down] = hook.send([message("tm_1")])
        [refused] = wrong.send([message("tm_2")])
    finally:
        hook.close()
        wrong.close()
    assert (down.ok, down.retryable, down.error) == (False, True, "webhook answered HTTP 503")
    assert (refused.ok, refused.retryable) == (False, False)
    assert receiver.rejected == ["webhook signature does not match the body"]


def test_webhook_unreachable_is_retried() -> None:
    hook = Webhook("http://127.0.0.1:1/hook", SECRET.encode(), timeout=2)
    try:
        [r] = hook.send([message()])
    finally:
        hook.close()
    assert (r.ok, r.retryable, r.error) == (False, True, "webhook: ConnectError")


def test_in_app_stores_the_message_in_the_feed_once(store: Store) -> None:
    feed = InAppFeed(store)
    assert all(r.ok for r in feed.send([message("tm_1"), message("tm_2")]))
    assert all(r.ok for r in feed.send([message("tm_1")]))
    f = schema.feed
    rows = store.rows(select(f.c.idempotency_key, f.c.title).order_by(f.c.idempotency_key))
    assert [tuple(r) for r in rows] == [("tm_1", "Rent due in 3 days"),
                                        ("tm_2", "Rent due in 3 days")]


def test_signature_helper_matches_what_was_sent(receiver: WebhookReceiver) -> None:
    hook = Webhook(receiver.url, SECRET.encode())
    try:
        hook.send([message("tm_s")])
    finally:
        hook.close()
    h, body = receiver.headers_seen[0], receiver.bodies[0]
    assert h[SIGNATURE_HEADER] == sign(SECRET.encode(), int(h[TIMESTAMP_HEADER]), body)
    assert json.loads(body)["customer_id"] == "CUS-000123"
    assert payload(message("tm_s"), "r1") != payload(message("tm_s"), "r2")


def test_the_asyncio_receiver_verifies_and_deduplicates_the_same_way() -> None:
    import asyncio
    import contextlib
    import queue
    import threading

    from tactful.deliver.receiver import _serve_asyncio

    ledger = WebhookReceiver(SECRET.encode(), bind=False)
    urls: queue.Queue[str] = queue.Queue()
    loop = asyncio.new_event_loop()
    task = loop.create_task(_serve_asyncio(ledger, "127.0.0.1", 0, urls.put))

    def serve() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(task)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        hook = Webhook(urls.get(timeout=10), SECRET.encode(), concurrency=3)
        wrong = Webhook(str(hook.url), b"w" * 40)
        try:
            results = hook.send([message("tm_a"), message("tm_b"), message("tm_a")])
            [refused] = wrong.send([message("tm_c")])
        finally:
            hook.close()
            wrong.close()
    finally:
        loop.call_soon_threadsafe(task.cancel)
        thread.join(timeout=10)
        loop.close()
    assert all(r.ok for r in results)
    assert (refused.ok, refused.retryable) == (False, False)
    assert ledger.raw == {"tm_a": 2, "tm_b": 1}
    assert ledger.accepted == {"tm_a": 1, "tm_b": 1}
