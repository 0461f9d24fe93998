"""Typed domain records: what crosses module boundaries. No I/O here.

Each record validates itself at construction and names the offending field, so a bad value fails
where it is made rather than three layers later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError

from tactful.domain.enums import (
    AccountType,
    Channel,
    ConsentPurpose,
    ConsentStatus,
    EventKind,
    PersonalizationLevel,
    ProductKind,
    Region,
    TransactionChannel,
    TransactionStatus,
)
from tactful.domain.money import Money, check_currency
from tactful.errors import ValidationError

_MCC = re.compile(r"^\d{4}$")


def require_aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value


def require_id(value: str, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{name} must be a non-empty string")
    if len(value) > 128:
        raise ValidationError(f"{name} is longer than 128 characters")
    return value


def check_timezone(value: str, name: str = "timezone") -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{name} {value!r} is not an IANA time zone") from exc
    return value


def check_locale(value: str, name: str = "locale") -> str:
    try:
        Locale.parse(value.replace("-", "_"))
    except (UnknownLocaleError, ValueError) as exc:
        raise ValidationError(f"{name} {value!r} is not a known locale") from exc
    return value


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local hours during which nothing but urgent service messages may be sent.

    The window may wrap midnight (22:00 -> 07:00).
    """

    start: time
    end: time

    def contains(self, local: time) -> bool:
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    region: Region
    locale: str
    timezone: str
    personalization_level: PersonalizationLevel = PersonalizationLevel.BASIC
    channel_preferences: tuple[Channel, ...] = (Channel.IN_APP,)
    quiet_hours: QuietHours | None = None
    segment: str | None = None
    created_at: datetime | None = None
    vulnerable: bool = False
    """The bank flagged the customer vulnerable (financial difficulty, a life event, ...): the
    rule feature ``vulnerable``, and no exploration of regulated credit offers on them
    (``decide.policy``)."""

    def __post_init__(self) -> None:
        require_id(self.id, "customer id")
        check_timezone(self.timezone)
        check_locale(self.locale)
        if self.created_at is not None:
            require_aware(self.created_at, "created_at")


@dataclass(frozen=True, slots=True)
class ProtectedAttributes:
    """Kept apart from the profile: the store only hands them to a fairness audit."""

    customer_id: str
    age_band: str | None = None
    gender: str | None = None


@dataclass(frozen=True, slots=True)
class Product:
    id: str
    name: str
    kind: ProductKind
    account_type: AccountType | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    customer_id: str | None
    type: AccountType
    currency: str
    balance: Money | None = None
    balance_as_of: datetime | None = None
    credit_limit: Money | None = None
    opened_on: date | None = None
    closed_on: date | None = None
    product_id: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        require_id(self.id, "account id")
        check_currency(self.currency)
        for label, money in (("balance", self.balance), ("credit_limit", self.credit_limit)):
            if money is not None and money.currency != self.currency:
                raise ValidationError(
                    f"account {self.id}: {label} is in {money.currency}, account in {self.currency}"
                )
        if self.balance_as_of is not None:
            require_aware(self.balance_as_of, "balance_as_of")
        if self.opened_on and self.closed_on and self.closed_on < self.opened_on:
            raise ValidationError(f"account {self.id}: closed_on is before opened_on")

    @property
    def is_open(self) -> bool:
        return self.closed_on is None


@dataclass(frozen=True, slots=True)
class Transaction:
    """One money movement. Negative amounts leave the account, positive amounts arrive.

    The enrichment fields (merchant, category, ...) stay ``None`` until the understanding layer
    fills them.
    """

    id: str
    account_id: str
    booked_at: datetime
    amount: Money
    description: str = ""
    value_at: datetime | None = None
    counterparty: str | None = None
    mcc: str | None = None
    channel: TransactionChannel = TransactionChannel.OTHER
    status: TransactionStatus = TransactionStatus.POSTED
    external_id: str | None = None
    balance_after: Money | None = None
    merchant: str | None = None
    category: str | None = None
    category_detailed: str | None = None
    category_source: str | None = None
    series_id: str | None = None

    def __post_init__(self) -> None:
        require_id(self.id, "transaction id")
        require_aware(self.booked_at, "booked_at")
        if self.value_at is not None:
            require_aware(self.value_at, "value_at")
        if self.mcc is not None and not _MCC.match(self.mcc):
            raise ValidationError(f"mcc {self.mcc!r} is not a 4-digit ISO 18245 code")


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    customer_id: str
    kind: EventKind
    occurred_at: datetime
    session_id: str | None = None
    duration_s: float | None = None
    feature: str | None = None
    channel: Channel | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        require_id(self.id, "event id")
        require_aware(self.occurred_at, "occurred_at")
        if self.duration_s is not None and self.duration_s < 0:
            raise ValidationError("duration_s must be >= 0")


@dataclass(frozen=True, slots=True)
class Consent:
    customer_id: str
    purpose: ConsentPurpose
    status: ConsentStatus
    at: datetime
    source: str = "unknown"

    def __post_init__(self) -> None:
        require_aware(self.at, "consent time")

    @property
    def granted(self) -> bool:
        return self.status is ConsentStatus.GRANTED
