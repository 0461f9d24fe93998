"""The e-mail channel: one SMTP session per batch, each message a multipart e-mail whose plain
text and HTML parts are rendered from the same message, in the customer's language.

The layouts are Jinja2 templates rendered in the immutable sandbox with ``StrictUndefined``, as
the insight messages are (``insights/render.py``); the HTML one autoescapes, so a merchant
name with ``<`` in it is text, never markup. Labels around the message (the explanation's
heading, the footer) come in each shipped language, English when the customer's is missing.

Tactful keeps no e-mail addresses: the recipient is ``email_to`` with the customer id in it
(``{customer_id}@mail.bank.internal``), which the bank's relay resolves. Each e-mail carries
the message's idempotency key as its ``Message-ID`` and in ``Tactful-Idempotency-Key``, so a
relay or inbox that sees the same e-mail twice can tell.

A 5xx answer to a recipient is permanent (no such mailbox); anything else (a 4xx, a dropped
connection) is retried.
"""

from __future__ import annotations

import smtplib
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formatdate
from typing import Final

from jinja2 import StrictUndefined, Template
from jinja2.sandbox import ImmutableSandboxedEnvironment

from tactful.deliver.channels.base import channels
from tactful.deliver.message import OutboundMessage, SendResult
from tactful.deliver.settings import DeliverySettings
from tactful.store.store import Store

__all__ = ["Email", "compose", "render"]

LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "en": {"why": "Why you are receiving this", "footer": "You receive this message because "
           "you agreed to hear from us by e-mail. You can change this in the app's settings."},
    "de": {"why": "Warum Sie diese Nachricht erhalten", "footer": "Sie erhalten diese "
           "Nachricht, weil Sie E-Mails von uns zugestimmt haben. Sie können das in den "
           "Einstellungen der App ändern."},
}

TEXT: Final = """{{ title }}

{{ body }}

{{ call_to_action }}

{{ why }}: {{ explanation }}

--
{{ footer }}
"""

HTML: Final = """<!doctype html>
<html lang="{{ language }}"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body style="font-family: sans-serif; max-width: 36em;">
<h1 style="font-size: 1.3em;">{{ title }}</h1>
<p>{{ body }}</p>
<p><strong>{{ call_to_action }}</strong></p>
<p style="color: #555;"><em>{{ why }}:</em> {{ explanation }}</p>
<hr><p style="color: #777; font-size: 0.85em;">{{ footer }}</p>
</body></html>
"""


def _env(autoescape: bool) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=autoescape)
    env.globals.clear()
    return env


_TEXT: Final[Template] = _env(False).from_string(TEXT)
_HTML: Final[Template] = _env(True).from_string(HTML)


def render(m: OutboundMessage) -> tuple[str, str]:
    """The plain text and the HTML of ``m``, from the same fields.

    >>> from datetime import UTC, datetime
    >>> m = OutboundMessage("tm_1", "d", "c", "a", "email", "de", "de_DE", "Titel",
    ...                     "A < B", "Los", "Weil.", datetime(2026, 1, 1, tzinfo=UTC), 1)
    >>> text, html = render(m)
    >>> "Warum Sie diese Nachricht erhalten: Weil." in text, "A &lt; B" in html
    (True, True)
    """
    labels = LABELS.get(m.language, LABELS["en"])
    context = {"language": m.language, "title": m.title, "body": m.body,
               "call_to_action": m.call_to_action, "explanation": m.explanation, **labels}
    return _TEXT.render(context), _HTML.render(context)


def compose(m: OutboundMessage, *, sender: str, recipient: str) -> EmailMessage:
    text, html = render(m)
    msg = EmailMessage()
    msg["Subject"] = m.title
    msg["From"] = sender
    msg["To"] = recipient
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = f"<{m.idempotency_key}@tactful>"
    msg["Tactful-Idempotency-Key"] = m.idempotency_key
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    msg["Content-Language"] = m.language  # after the content: set_content drops Content-*
    return msg


class Email:
    def __init__(self, settings: DeliverySettings) -> None:
        self.settings = settings

    def _session(self) -> smtplib.SMTP:
        s = self.settings
        session = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_s)
        if s.smtp_starttls:
            session.starttls()
        if s.smtp_user and s.smtp_password is not None:
            session.login(s.smtp_user, s.smtp_password.get_secret_value())
        return session

    def send(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        if not messages:
            return []
        try:
            session = self._session()
        except (OSError, smtplib.SMTPException) as exc:
            why = f"SMTP {self.settings.smtp_host}:{self.settings.smtp_port}: {type(exc).__name__}"
            return [SendResult.failed(m.idempotency_key, why, retryable=True) for m in messages]
        results = []
        try:
            for m in messages:
                results.append(self._one(session, m))
        finally:
            try:
                session.quit()
            except (OSError, smtplib.SMTPException):
                session.close()
        return results

    def _one(self, session: smtplib.SMTP, m: OutboundMessage) -> SendResult:
        recipient = self.settings.email_to.format(customer_id=m.customer_id)
        try:
            session.send_message(compose(m, sender=self.settings.smtp_from,
                                         recipient=recipient))
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            return SendResult.failed(m.idempotency_key, f"SMTP refused the recipient ({codes})",
                                     retryable=all(400 <= c < 500 for c in codes))
        except smtplib.SMTPResponseException as exc:
            return SendResult.failed(m.idempotency_key, f"SMTP answered {exc.smtp_code}",
                                     retryable=exc.smtp_code < 500)
        except (OSError, smtplib.SMTPException) as exc:
            return SendResult.failed(m.idempotency_key, f"SMTP: {type(exc).__name__}",
                                     retryable=True)
        return SendResult.sent(m.idempotency_key)

    def close(self) -> None:
        return None


@channels.register("email")
def _factory(settings: DeliverySettings, store: Store) -> Email:
    del store
    return Email(settings)
