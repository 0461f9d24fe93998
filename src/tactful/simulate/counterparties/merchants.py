"""The card merchants customers pay, as column arrays, and the world a run draws them from.

Each merchant has a canonical name (the truth an enrichment model should recover), a descriptor
token as it appears on statements (``WHOLEFDS``, ``AMZN Mktp US*{r9}``, ``TESCO STORES {n4}``),
an MCC taken from the ISO 18245 list in ``shared/data/mcc_codes`` (kept in the catalogue so the
simulator runs without that folder) and a detailed category. ``{nK}`` in a token is a K-digit store
number, stable for a store; ``{rK}`` is a K-character reference that changes with every payment.

Which merchants exist depends on the world: ``table_for(seed, unseen)`` draws it
(``merchant_catalog.py``). A run activates its world with ``using(table)``; the generators and
writers then find it with ``merchant_table()``. The table is not passed down as an argument
because the generators of every money flow look merchants up, and one world per run is the
whole of the state: a context variable keeps it out of module globals, and asking for a table
with no world active is an error, never a silent default world.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.base.taxonomy import code as category_code
from tactful.simulate.counterparties.merchant_catalog import world_rows

SPEND_KINDS: Final[tuple[str, ...]] = (
    "groceries",
    "restaurant",
    "fast_food",
    "coffee",
    "bar",
    "fuel",
    "transit",
    "rideshare",
    "parking",
    "clothing",
    "marketplace",
    "superstore",
    "electronics",
    "pharmacy",
    "doctor",
    "dentist",
    "hair_beauty",
    "entertainment",
    "hardware",
    "furniture",
    "flights",
    "lodging",
    "pets",
    "donations",
    "video_games",
    "books",
    "convenience",
    "baby",
    "moving",
)
KIND_INDEX: Final[dict[str, int]] = {k: i for i, k in enumerate(SPEND_KINDS)}

_DEFAULTS: Final[dict[str, tuple[str, str]]] = {
    "groceries": ("5411", "FOOD_AND_DRINK_GROCERIES"),
    "restaurant": ("5812", "FOOD_AND_DRINK_RESTAURANT"),
    "fast_food": ("5814", "FOOD_AND_DRINK_FAST_FOOD"),
    "coffee": ("5814", "FOOD_AND_DRINK_COFFEE"),
    "bar": ("5813", "FOOD_AND_DRINK_BEER_WINE_AND_LIQUOR"),
    "fuel": ("5541", "TRANSPORTATION_GAS"),
    "transit": ("4111", "TRANSPORTATION_PUBLIC_TRANSIT"),
    "rideshare": ("4121", "TRANSPORTATION_TAXIS_AND_RIDE_SHARES"),
    "parking": ("7523", "TRANSPORTATION_PARKING"),
    "clothing": ("5651", "GENERAL_MERCHANDISE_CLOTHING_AND_ACCESSORIES"),
    "marketplace": ("5399", "GENERAL_MERCHANDISE_ONLINE_MARKETPLACES"),
    "superstore": ("5310", "GENERAL_MERCHANDISE_SUPERSTORES"),
    "electronics": ("5732", "GENERAL_MERCHANDISE_ELECTRONICS"),
    "pharmacy": ("5912", "MEDICAL_PHARMACIES_AND_SUPPLEMENTS"),
    "doctor": ("8011", "MEDICAL_PRIMARY_CARE"),
    "dentist": ("8021", "MEDICAL_DENTAL_CARE"),
    "hair_beauty": ("7230", "PERSONAL_CARE_HAIR_AND_BEAUTY"),
    "entertainment": ("7832", "ENTERTAINMENT_TV_AND_MOVIES"),
    "hardware": ("5200", "HOME_IMPROVEMENT_HARDWARE"),
    "furniture": ("5712", "HOME_IMPROVEMENT_FURNITURE"),
    "flights": ("4511", "TRAVEL_FLIGHTS"),
    "lodging": ("7011", "TRAVEL_LODGING"),
    "pets": ("5995", "GENERAL_MERCHANDISE_PET_SUPPLIES"),
    "donations": ("8398", "GOVERNMENT_AND_NON_PROFIT_DONATIONS"),
    "video_games": ("5816", "ENTERTAINMENT_VIDEO_GAMES"),
    "books": ("5942", "GENERAL_MERCHANDISE_BOOKSTORES_AND_NEWSSTANDS"),
    "convenience": ("5499", "GENERAL_MERCHANDISE_CONVENIENCE_STORES"),
    "baby": ("5641", "GENERAL_MERCHANDISE_CLOTHING_AND_ACCESSORIES"),
    "moving": ("4214", "GENERAL_SERVICES_OTHER_GENERAL_SERVICES"),
}

_PLACEHOLDER = re.compile(r"\{([nr])(\d+)\}")


@dataclass(frozen=True, slots=True, eq=False)
class MerchantTable:
    """Column arrays of a world's catalogue, for vectorised lookups by merchant index."""

    name: tuple[str, ...]
    token_head: tuple[str, ...]
    token_tail: tuple[str, ...]
    placeholder: NDArray[np.int8]
    """0 none, 1 store number, 2 per-payment reference."""
    width: NDArray[np.int8]
    online: tuple[str, ...]
    is_online: NDArray[np.bool_]
    mcc: tuple[str, ...]
    category: NDArray[np.int16]
    kind: NDArray[np.int16]
    weight: NDArray[np.float64]
    countries: tuple[tuple[str, ...], ...]
    city_suffix: NDArray[np.bool_]
    """The processor appends the city after the name."""
    truncate: int
    """Characters of the printed name kept (0: all), the world's card network field width."""

    def __len__(self) -> int:
        return len(self.name)


@lru_cache(maxsize=8)
def table_for(seed: int, unseen: bool = False) -> MerchantTable:
    """The catalogue of the world ``seed`` (``unseen``: names the engine was never given)."""
    rows, style = world_rows(seed, unseen)
    heads, tails, ph, width = [], [], [], []
    for row in rows:
        token = row.token
        m = _PLACEHOLDER.search(token)
        if m:
            heads.append(token[: m.start()])
            tails.append(token[m.end() :])
            ph.append(1 if m.group(1) == "n" else 2)
            width.append(int(m.group(2)))
        else:
            heads.append(token)
            tails.append("")
            ph.append(0)
            width.append(0)
    return MerchantTable(
        name=tuple(r.name for r in rows),
        token_head=tuple(heads),
        token_tail=tuple(tails),
        placeholder=np.array(ph, dtype=np.int8),
        width=np.array(width, dtype=np.int8),
        online=tuple(r.online for r in rows),
        is_online=np.array([bool(r.online) for r in rows]),
        mcc=tuple(r.mcc or _DEFAULTS[r.kind][0] for r in rows),
        category=np.array(
            [category_code(r.category_detailed or _DEFAULTS[r.kind][1]) for r in rows],
            dtype=np.int16,
        ),
        kind=np.array([KIND_INDEX[r.kind] for r in rows], dtype=np.int16),
        weight=np.array([r.weight for r in rows], dtype=np.float64),
        countries=tuple(r.countries for r in rows),
        city_suffix=np.array([r.city_suffix for r in rows], dtype=np.bool_),
        truncate=style.truncate,
    )


_ACTIVE: ContextVar[MerchantTable | None] = ContextVar("merchant_world", default=None)


@contextmanager
def using(table: MerchantTable) -> Iterator[MerchantTable]:
    """Make ``table`` the world of the code inside the block."""
    token = _ACTIVE.set(table)
    try:
        yield table
    finally:
        _ACTIVE.reset(token)


def merchant_table() -> MerchantTable:
    """The active world's catalogue (see ``using``)."""
    table = _ACTIVE.get()
    if table is None:
        raise RuntimeError(
            "no merchant world is active: wrap the call in "
            "merchants.using(merchants.table_for(seed, unseen))"
        )
    return table


@dataclass(frozen=True, slots=True)
class KindChoices:
    """For one (country, kind): the merchants available and their cumulative weights."""

    merchants: NDArray[np.int32]
    cum_weight: NDArray[np.float64]


def choices(country: str, kind: str) -> KindChoices:
    return _choices(merchant_table(), country, kind)


@cache
def _choices(t: MerchantTable, country: str, kind: str) -> KindChoices:
    k = KIND_INDEX[kind]
    idx = [i for i in range(len(t)) if t.kind[i] == k and country in t.countries[i]]
    if not idx:
        raise ValueError(f"no merchant of kind {kind!r} in {country}")
    w = t.weight[idx]
    return KindChoices(np.array(idx, dtype=np.int32), np.cumsum(w) / w.sum())


def pick(
    country_codes: NDArray[np.int64], kind: str, u: NDArray[np.float64], countries: tuple[str, ...]
) -> NDArray[np.int32]:
    """Merchant index per row: the home country of the row and a uniform draw, by weight."""
    out = np.empty(u.shape, dtype=np.int32)
    for ci, country in enumerate(countries):
        sel = country_codes == ci
        if not np.any(sel):
            continue
        ch = choices(country, kind)
        j = np.searchsorted(ch.cum_weight, u[sel], side="right")
        out[sel] = ch.merchants[np.minimum(j, len(ch.merchants) - 1)]
    return out
