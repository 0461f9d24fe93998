from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tactful.domain import Money, to_minor
from tactful.domain.money import from_minor, minor_units
from tactful.errors import ValidationError


@pytest.mark.parametrize(("currency", "digits"), [("EUR", 2), ("JPY", 0), ("KWD", 3), ("CZK", 2)])
def test_minor_units_follow_iso_4217(currency: str, digits: int) -> None:
    assert minor_units(currency) == digits


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("1.005", "EUR", "has more decimal places than EUR allows (2)"),
        ("12.5", "JPY", "has more decimal places than JPY allows (0)"),
        ("abc", "EUR", "is not a number"),
        ("NaN", "EUR", "is not a finite number"),
        ("1", "XYZ", "unknown ISO 4217 currency code 'XYZ'"),
    ],
)
def test_to_minor_refuses_what_would_round(amount: str, currency: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        to_minor(amount, currency)


def test_money_refuses_floats_and_mixed_currencies() -> None:
    with pytest.raises(ValidationError, match="must be an int"):
        Money(12.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="cannot add GBP to EUR"):
        Money(1, "EUR") + Money(1, "GBP")


@given(
    st.integers(min_value=-(10**15), max_value=10**15),
    st.sampled_from(["EUR", "USD", "JPY", "KWD", "GBP"]),
)
def test_minor_units_round_trip_exactly(minor: int, currency: str) -> None:
    assert to_minor(from_minor(minor, currency), currency) == minor
    assert Money(minor, currency).decimal == Decimal(minor).scaleb(-minor_units(currency))


@given(st.lists(st.integers(min_value=-(10**12), max_value=10**12), max_size=30))
def test_sums_are_exact(values: list[int]) -> None:
    total = Money(0, "EUR")
    for v in values:
        total = total + Money(v, "EUR")
    assert total.minor == sum(values)
