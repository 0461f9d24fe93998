"""Typed records of the domain; no I/O.

The names below are loaded when first asked for (PEP 562): the command line names a few enums
in its signatures (``tactful.domain.enums``), and printing ``tactful --help`` must not pay for
the records' validation (Babel's locale data) to get them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOMES = {
    **dict.fromkeys(
        ("AccountType", "Channel", "ConsentPurpose", "ConsentStatus", "EventKind",
         "PersonalizationLevel", "ProductKind", "Region", "TransactionChannel",
         "TransactionStatus"),
        "tactful.domain.enums",
    ),
    **dict.fromkeys(("Money", "minor_units", "to_minor"), "tactful.domain.money"),
    **dict.fromkeys(
        ("Account", "Consent", "Customer", "Event", "Product", "ProtectedAttributes",
         "QuietHours", "Transaction"),
        "tactful.domain.records",
    ),
}

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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
