"""Counterparties of transfers: employers, platforms, pension and benefit payers, landlords.

Employers and landlords are fictional names built from word lists by index arithmetic (so they
are deterministic and need no randomness); public payers are the real agencies that pay pensions
and benefits in each country (US SSA, UK DWP, Deutsche Rentenversicherung, CNAV, INSS, SVB ...)
because their descriptors are among the most recognisable lines on a statement. The names are
data (``data/payers.toml``); the arithmetic that composes them is here.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Final

from tactful.simulate.base import data

COUNTRIES: Final = ("DE", "FR", "ES", "NL", "GB", "US")
N_EMPLOYERS: Final = 120


def _names() -> dict[str, Any]:
    return data.toml("payers.toml")


def _per_country(table: str) -> dict[str, tuple[str, ...]]:
    return {str(c): tuple(str(n) for n in names) for c, names in _names()[table].items()}


@cache
def employers(country: str) -> tuple[str, ...]:
    """Fictional employers of ``country`` plus a few public-sector payrolls."""
    words_a, words_b = _names()["employer_first"], _names()["employer_second"]
    suffix = _names()["employer_suffix"][country]
    names = []
    for i in range(N_EMPLOYERS - 3):
        a = words_a[(i * 7) % len(words_a)]
        b = words_b[(i * 11 + i // len(words_a)) % len(words_b)]
        s = suffix[i % 3]
        names.append(f"{a} {b} {s}")
    return (*names, *_names()["public_employers"][country])


GIG_PLATFORMS: Final[dict[str, tuple[str, ...]]] = _per_country("gig_platforms")
PENSION_PAYERS: Final[dict[str, tuple[str, ...]]] = _per_country("pension_payers")
"""(state pension, occupational or private pension) per country."""
UNEMPLOYMENT_PAYERS: Final[dict[str, str]] = {
    str(c): str(n) for c, n in _names()["unemployment_payers"].items()
}
CHILD_BENEFIT_PAYERS: Final[dict[str, tuple[str, int]]] = {
    str(c): (str(p["payer"]), int(p["per_child_minor"]))
    for c, p in _names()["child_benefit_payers"].items()
}
"""(payer, amount per child per month, minor units); the US and Spain pay no universal monthly
child benefit (the US Child Tax Credit arrives with the tax refund)."""
TAX_REFUND_PAYERS: Final[dict[str, str]] = {
    str(c): str(n) for c, n in _names()["tax_refund_payers"].items()
}


@cache
def landlords(country: str) -> tuple[str, ...]:
    """Private landlords (initial and surname) followed by property managers."""
    first, last = _names()["landlord_initials"][country], _names()["landlord_surnames"][country]
    people = tuple(f"{first[i % len(first)]} {last[(i * 3) % len(last)]}" for i in range(40))
    return (*people, *_names()["property_managers"][country])


MORTGAGE_LENDERS: Final[dict[str, tuple[str, ...]]] = _per_country("mortgage_lenders")
"""Lenders of customers whose mortgage is held at another bank."""
