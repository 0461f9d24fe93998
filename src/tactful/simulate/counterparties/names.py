"""One table of every counterparty name, so rows can carry an integer and strings are made late.

Built deterministically from the static catalogs (employers, payers, landlords, billers with
their city-specific names expanded); ``name_id`` maps a name to its index.
"""

from __future__ import annotations

from functools import cache
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.counterparties import payers
from tactful.simulate.counterparties.billers import BILLERS
from tactful.simulate.counterparties.services import SERVICES
from tactful.simulate.people.regions import ALL_PLACES

_INTERNAL: Final = ("",)


def _biller_names(i: int) -> list[str]:
    b = BILLERS[i]
    if "{CITY}" not in b.token:
        return [b.token]
    cities = sorted({p.city for p in ALL_PLACES if p.country == b.country})
    return [b.token.replace("{CITY}", c) for c in cities]


@cache
def _registry() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(statement name, canonical name, MCC of a card payment to it) of every counterparty,
    deduplicated by statement name."""
    out: list[tuple[str, str, str]] = [("", "", "")]

    def add(
        values: tuple[str, ...] | list[str], canonical: str | None = None, mcc: str = ""
    ) -> None:
        for v in values:
            out.append((v, canonical if canonical is not None else _title(v), mcc))

    for c in payers.COUNTRIES:
        add(payers.employers(c))
        add(payers.GIG_PLATFORMS[c])
        add(payers.PENSION_PAYERS[c])
        add([payers.UNEMPLOYMENT_PAYERS[c]])
        add(payers.landlords(c))
        add(payers.MORTGAGE_LENDERS[c])
        if c in payers.CHILD_BENEFIT_PAYERS:
            add([payers.CHILD_BENEFIT_PAYERS[c][0]])
        if c in payers.TAX_REFUND_PAYERS:
            add([payers.TAX_REFUND_PAYERS[c]])
    for i, b in enumerate(BILLERS):
        add(_biller_names(i), b.name, b.mcc)
    for s in SERVICES:
        add([s.token.split("{")[0].strip()], s.name, s.mcc)
    seen: dict[str, tuple[str, str]] = {}
    for statement, canonical, mcc in out:
        seen.setdefault(statement, (canonical, mcc))
    return tuple(seen), tuple(v[0] for v in seen.values()), tuple(v[1] for v in seen.values())


_KEEP: Final = {
    "INC": "Inc",
    "LLC": "LLC",
    "LTD": "Ltd",
    "PLC": "plc",
    "AG": "AG",
    "SA": "SA",
    "SL": "SL",
    "BV": "BV",
    "NV": "NV",
    "KG": "KG",
    "SAS": "SAS",
    "SARL": "SARL",
    "GMBH": "GmbH",
    "UC": "UC",
    "SP": "SP",
    "DWP": "DWP",
    "IRS": "IRS",
    "SSA": "SSA",
    "UWV": "UWV",
    "SVB": "SVB",
    "ABP": "ABP",
    "CAF": "CAF",
    "NHS": "NHS",
    "HMRC": "HMRC",
    "CORP": "Corp",
    "US": "US",
    "UI": "UI",
    "AOW": "AOW",
    "INSS": "INSS",
    "SEPE": "SEPE",
}


def _title(value: str) -> str:
    """A readable canonical form of an upper-case statement name."""
    return " ".join(_KEEP.get(w, w.title()) for w in value.split())


def names() -> tuple[str, ...]:
    """Counterparty names as statements print them."""
    return _registry()[0]


def canonical_names() -> tuple[str, ...]:
    """The same counterparties' canonical names (the truth for merchant normalisation)."""
    return _registry()[1]


def name_mccs() -> tuple[str, ...]:
    """The MCC a card payment to each counterparty carries ('' if it is never paid by card)."""
    return _registry()[2]


@cache
def _index() -> dict[str, int]:
    return {n: i for i, n in enumerate(names())}


def name_id(name: str) -> int:
    return _index()[name]


def name_ids(values: list[str]) -> NDArray[np.int32]:
    idx = _index()
    return np.array([idx[v] for v in values], dtype=np.int32)


@cache
def biller_city_name(biller: int, city: str) -> int:
    """Name index of a biller whose name contains the customer's city."""
    return name_id(BILLERS[biller].token.replace("{CITY}", city))
