"""Money as integer minor units and an ISO 4217 code; never floats.

The list of codes and their minor units comes from CLDR through Babel, so it follows the standard
without a hand-kept table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache

from babel.numbers import get_currency_precision, list_currencies

from tactful.errors import ValidationError

_CODE = re.compile(r"^[A-Z]{3}$")
# ISO 4217 exponents where CLDR's "digits" differ from the standard's minor unit.
_ISO_OVERRIDES = {"HUF": 2, "TWD": 2, "CZK": 2, "ISK": 0, "IQD": 3, "LYD": 3, "OMR": 3}


@cache
def known_currencies() -> frozenset[str]:
    """Every ISO 4217 alphabetic code Babel knows (historic codes included)."""
    return frozenset(c for c in list_currencies() if _CODE.match(c))


@cache
def minor_units(currency: str) -> int:
    """Number of decimal places of ``currency``'s minor unit (EUR 2, JPY 0, KWD 3)."""
    check_currency(currency)
    return _ISO_OVERRIDES.get(currency, get_currency_precision(currency))


def check_currency(currency: str) -> str:
    if not isinstance(currency, str) or currency not in known_currencies():
        raise ValidationError(f"unknown ISO 4217 currency code {currency!r}")
    return currency


def to_minor(amount: str | Decimal | int, currency: str) -> int:
    """Convert a decimal amount to minor units, refusing anything that would round.

    >>> to_minor("12.5", "EUR")
    1250
    >>> to_minor("3", "JPY")
    3
    """
    try:
        value = Decimal(amount) if not isinstance(amount, Decimal) else amount
    except InvalidOperation as exc:
        raise ValidationError(f"amount {amount!r} is not a number") from exc
    if not value.is_finite():
        raise ValidationError(f"amount {amount!r} is not a finite number")
    scaled = value.scaleb(minor_units(currency))
    if scaled != scaled.to_integral_value():
        raise ValidationError(
            f"amount {amount!r} has more decimal places than {currency} allows "
            f"({minor_units(currency)})"
        )
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    """The decimal amount of ``minor`` units, exact."""
    return Decimal(minor).scaleb(-minor_units(currency))


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount: integer minor units plus currency.

    >>> Money(1250, "EUR").decimal
    Decimal('12.50')
    """

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise ValidationError(f"Money.minor must be an int, got {type(self.minor).__name__}")
        check_currency(self.currency)

    @property
    def decimal(self) -> Decimal:
        return from_minor(self.minor, self.currency)

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValidationError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.minor + other.minor, self.currency)

    def __str__(self) -> str:
        return f"{self.currency} {self.decimal:,}"
