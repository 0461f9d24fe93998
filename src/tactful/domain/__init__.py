"""Typed records of the domain; no I/O."""

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
from tactful.domain.money import Money, minor_units, to_minor
from tactful.domain.records import (
    Account,
    Consent,
    Customer,
    Event,
    Product,
    ProtectedAttributes,
    QuietHours,
    Transaction,
)

__all__ = [
    "Account",
    "AccountType",
    "Channel",
    "Consent",
    "ConsentPurpose",
    "ConsentStatus",
    "Customer",
    "Event",
    "EventKind",
    "Money",
    "PersonalizationLevel",
    "Product",
    "ProductKind",
    "ProtectedAttributes",
    "QuietHours",
    "Region",
    "Transaction",
    "TransactionChannel",
    "TransactionStatus",
    "minor_units",
    "to_minor",
]
