"""Money as integer minor units and an ISO 4217 code; never floats.

The list of codes and their minor units comes from CLDR through Babel, so it follows the standard
without a hand-kept table. ``minor_per_major`` and ``to_major`` are the one place a stored amount
becomes a number of major units (a model feature, an insight threshold): dividing by 100 is
wrong for JPY (0 decimals) and BHD (3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import TYPE_CHECKING

from babel.numbers import get_currency_precision, list_currencies

from tactful.errors import ValidationError

if TYPE_CHECKING:
    import polars as pl

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


def minor_per_major(currency: str) -> int:
    """Minor units in one major unit of ``currency``: 100 for EUR, 1 for JPY, 1000 for BHD.

    >>> minor_per_major("JPY"), minor_per_major("BHD")
    (1, 1000)
    """
    return int(10 ** minor_units(currency))


@cache
def _codes_by_exponent() -> dict[int, tuple[str, ...]]:
    """ISO 4217 codes by minor-unit exponent, for every exponent other than the common 2."""
    out: dict[int, list[str]] = {}
    for code in sorted(known_currencies()):
        exponent = minor_units(code)
        if exponent != 2:
            out.setdefault(exponent, []).append(code)
    return {e: tuple(codes) for e, codes in out.items()}


def minor_per_major_expr(currencies: pl.Series, column: str = "currency") -> pl.Expr:
    """``minor_per_major`` of each row's ``column`` as a Polars expression (Int64), for a frame
    whose currencies are ``currencies``; a code the ISO list lacks counts 100.

    Only the exponents other than the common 2 that the frame holds are spelled out: on the
    real-time path's frames of a few rows, a when/then over every exponent costs more than the
    detector it serves (and a mapping lookup more still).
    """
    # Polars on first use: the records of tactful.domain are imported by the command line, whose
    # start must not pay for a data-frame library (tests/cli/test_startup.py)
    import polars as pl

    present = set(currencies.drop_nulls().unique().to_list())
    expr = pl.lit(100, dtype=pl.Int64)
    for exponent, codes in _codes_by_exponent().items():
        used = sorted(present.intersection(codes))
        if used:
            expr = (
                pl.when(pl.col(column).is_in(used))
                .then(pl.lit(10**exponent, dtype=pl.Int64))
                .otherwise(expr)
            )
    return expr


def to_major(minor: pl.Expr, currencies: pl.Series, column: str = "currency") -> pl.Expr:
    """``minor`` (integer minor units) as a Float64 number of major units of each row's
    currency: a figure for a model or a threshold, never an amount to book.

    >>> import polars as pl
    >>> frame = pl.DataFrame({"amount_minor": [12_345, 1_234], "currency": ["JPY", "BHD"]})
    >>> frame.select(to_major(pl.col("amount_minor"), frame["currency"]))["amount_minor"].to_list()
    [12345.0, 1.234]
    """
    import polars as pl  # on first use, as in minor_per_major_expr

    return minor.cast(pl.Float64) / minor_per_major_expr(currencies, column).cast(pl.Float64)


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
