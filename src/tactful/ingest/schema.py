"""The canonical record layout every reader produces and the loader consumes.

A reader's only job is to turn a bank's format into rows of these columns (as text, or already
typed); the validator (``validate.py``) then checks and converts them the same way for every
format, so a rule such as "an unknown currency is rejected" lives in one place.

Money columns come in two spellings: a decimal text column (``amount``: ``"-12.50"``,
``"1.234,56"``,
``"(12.50)"``) or an integer minor-units column (``amount_minor``: ``-1250``). Tactful's own exports
(the simulator's) use the latter; bank exports the former.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import polars as pl


class RecordKind(StrEnum):
    CUSTOMER = "customers"
    ACCOUNT = "accounts"
    PRODUCT = "products"
    TRANSACTION = "transactions"
    EVENT = "events"
    CONSENT = "consents"


class FieldType(StrEnum):
    TEXT = "text"
    ID = "id"
    TIMEZONE = "timezone"  # IANA name
    LOCALE = "locale"  # CLDR locale, e.g. de_DE
    MONEY = "money"  # decimal text, or <name>_minor integer column; needs a currency column
    CURRENCY = "currency"
    TIMESTAMP = "timestamp"  # date or date-time; naive values take the source's time zone
    DATE = "date"
    TIME = "time"  # HH:MM
    ENUM = "enum"
    LIST = "list"  # values separated by ';' ',' or '|'
    FLOAT = "float"
    MCC = "mcc"
    JSON = "json"
    FLAG = "flag"  # true/false, yes/no, y/n, 1/0 (any case); empty: false


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: FieldType
    required: bool = False
    choices: tuple[str, ...] = ()


def _enum_values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(e.value for e in enum)


def _specs() -> dict[RecordKind, tuple[FieldSpec, ...]]:
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

    F, T = FieldSpec, FieldType
    return {
        RecordKind.CUSTOMER: (
            F("customer_id", T.ID, True),
            F("region", T.ENUM, True, _enum_values(Region)),
            F("locale", T.LOCALE, True),
            F("timezone", T.TIMEZONE, True),
            F("personalization_level", T.ENUM, False, _enum_values(PersonalizationLevel)),
            F("channel_preferences", T.LIST, False, _enum_values(Channel)),
            F("quiet_hours_start", T.TIME),
            F("quiet_hours_end", T.TIME),
            F("segment", T.TEXT),
            F("created_at", T.TIMESTAMP),
            F("age_band", T.TEXT),
            F("gender", T.TEXT),
            F("vulnerable", T.FLAG),
        ),
        RecordKind.ACCOUNT: (
            F("account_id", T.ID, True),
            F("customer_id", T.ID),
            F("account_type", T.ENUM, True, _enum_values(AccountType)),
            F("currency", T.CURRENCY, True),
            F("balance", T.MONEY),
            F("balance_as_of", T.TIMESTAMP),
            F("credit_limit", T.MONEY),
            F("opened_on", T.DATE),
            F("closed_on", T.DATE),
            F("product_id", T.ID),
            F("name", T.TEXT),
        ),
        RecordKind.PRODUCT: (
            F("product_id", T.ID, True),
            F("name", T.TEXT, True),
            F("kind", T.ENUM, True, _enum_values(ProductKind)),
            F("account_type", T.ENUM, False, _enum_values(AccountType)),
            F("description", T.TEXT),
        ),
        RecordKind.TRANSACTION: (
            F("account_id", T.ID, True),
            F("transaction_id", T.ID),
            F("booked_at", T.TIMESTAMP, True),
            F("value_at", T.TIMESTAMP),
            F("amount", T.MONEY, True),
            F("currency", T.CURRENCY, True),
            F("description", T.TEXT),
            F("counterparty", T.TEXT),
            F("mcc", T.MCC),
            F("channel", T.ENUM, False, _enum_values(TransactionChannel)),
            F("status", T.ENUM, False, _enum_values(TransactionStatus)),
            F("balance_after", T.MONEY),
        ),
        RecordKind.EVENT: (
            F("event_id", T.ID),
            F("customer_id", T.ID, True),
            F("kind", T.ENUM, True, _enum_values(EventKind)),
            F("occurred_at", T.TIMESTAMP, True),
            F("session_id", T.ID),
            F("duration_s", T.FLOAT),
            F("feature", T.TEXT),
            F("channel", T.ENUM, False, _enum_values(Channel)),
            F("attributes", T.JSON),
        ),
        RecordKind.CONSENT: (
            F("customer_id", T.ID, True),
            F("purpose", T.ENUM, True, _enum_values(ConsentPurpose)),
            F("status", T.ENUM, True, _enum_values(ConsentStatus)),
            F("at", T.TIMESTAMP, True),
            F("source", T.TEXT),
        ),
    }


_SPECS: dict[RecordKind, tuple[FieldSpec, ...]] | None = None


def fields_of(kind: RecordKind) -> tuple[FieldSpec, ...]:
    global _SPECS
    if _SPECS is None:
        _SPECS = _specs()
    return _SPECS[kind]


def required_columns(kind: RecordKind) -> set[str]:
    """Columns a file must have (after mapping) to be read as ``kind``.

    A money field is satisfied by either its text column or its ``_minor`` column.
    """
    return {f.name for f in fields_of(kind) if f.required}


LOCATION = "_loc"
"""Column every reader adds: where the row came from ("line 12", "entry 3 (FITID 123)")."""

ROW_REJECT = "_reject"
"""Optional column a reader adds: why a row cannot load (None when it can), for what only the
reader can see, such as a debit/credit pair with both sides filled; the validator rejects it."""


@dataclass(frozen=True, slots=True)
class Reject:
    """A record that did not load, with enough to find and fix it."""

    source: str
    location: str
    reason: str
    field: str | None = None
    raw: str = ""

    def __str__(self) -> str:
        where = f"{self.source}: {self.location}"
        if self.field:
            where += f": {self.field}"
        return f"{where}: {self.reason}"


@dataclass(slots=True)
class SourceOptions:
    """What a reader knows about the values of the source, used by the validator.

    ``decimal`` is ``"."`` or ``","``, or ``None`` to infer it; ``timezone`` is the zone of
    naive timestamps and bare dates; ``currency`` fills a missing currency column (statement
    formats give it once per account). ``settled`` says that ``decimal`` and ``day_first`` were
    decided for the whole file (``ingest/conventions.py``); the validator treats an unsettled
    chunk as a file of its own.
    """

    decimal: str | None = None
    timezone: str = "UTC"
    currency: str | None = None
    date_format: str | None = None
    day_first: bool | None = None
    settled: bool = False


@dataclass(slots=True)
class Chunk:
    """A batch of rows of one kind from one source, plus the structural rejects met reading it.

    ``frame`` has canonical column names (a subset of ``fields_of(kind)`` plus ``LOCATION``);
    values may be text, which the validator parses.
    """

    kind: RecordKind
    frame: pl.DataFrame
    source: str
    options: SourceOptions = field(default_factory=SourceOptions)
    rejects: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
