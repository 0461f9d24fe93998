"""Delivery settings, read from ``TACTFUL_DELIVER_*`` environment variables when asked for.

Their own object rather than fields of :class:`tactful.config.Settings`: the worker is the only
reader, and a bank configures its SMTP relay and webhook beside the worker, not the engine.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_ROUTES = {"in_app": "in_app", "email": "email", "push": "webhook", "sms": "webhook"}
"""Decision channel -> channel adapter: push and SMS go to the bank's provider by webhook."""


class DeliverySettings(BaseSettings):
    """How the worker sends. Durations are in seconds."""

    model_config = SettingsConfigDict(env_prefix="TACTFUL_DELIVER_", extra="ignore")

    routes: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_ROUTES))
    batch: int = Field(default=200, gt=0)
    """Messages claimed per round."""
    concurrency: int = Field(default=8, gt=0)
    """Requests a channel may have in flight at once (webhook)."""
    lease_s: float = Field(default=60.0, gt=0)
    """How long a claim lasts: a worker that dies mid-batch leaves its messages to be claimed
    again after this (so longer than the slowest batch)."""
    max_attempts: int = Field(default=8, gt=0)
    backoff_base_s: float = Field(default=30.0, gt=0)
    backoff_cap_s: float = Field(default=3600.0, gt=0)
    poll_s: float = Field(default=1.0, gt=0)
    """How long an idle worker sleeps between looks at the outbox."""

    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    """The secret shared with the bank's receiver (at least 32 characters)."""
    webhook_timeout_s: float = Field(default=10.0, gt=0)

    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, gt=0)
    smtp_from: str = "Tactful <no-reply@localhost>"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    email_to: str = "{customer_id}@customers.invalid"
    """The recipient, from the customer id: Tactful keeps no e-mail addresses, so the bank's
    relay resolves an address such as ``{customer_id}@mail.bank.internal`` to the customer."""

    @model_validator(mode="after")
    def _checked(self) -> DeliverySettings:
        if "{customer_id}" not in self.email_to:
            raise ValueError("email_to must contain {customer_id}")
        if self.backoff_cap_s < self.backoff_base_s:
            raise ValueError("backoff_cap_s must be >= backoff_base_s")
        return self
