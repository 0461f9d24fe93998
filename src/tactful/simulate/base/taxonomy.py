"""The two-level spending taxonomy the simulator's truth is written in.

Modelled on Plaid's "personal finance categories" (primary / detailed, detailed codes prefixed by
their primary), because it is public, widely used by banks' data teams and fine enough to score
an enrichment model. The codes themselves are ``tactful.domain.categories``, shared with the
engine; this module adds the simulator's dense integer codes.

>>> primary_of("FOOD_AND_DRINK_GROCERIES")
'FOOD_AND_DRINK'
"""

from __future__ import annotations

from typing import Final

from tactful.domain.categories import CATEGORY_TREE

_PLAID_STYLE: Final[dict[str, tuple[str, ...]]] = CATEGORY_TREE

TAXONOMY: Final[dict[str, tuple[str, ...]]] = {
    primary: tuple(f"{primary}_{d}" for d in details) for primary, details in _PLAID_STYLE.items()
}
"""primary -> its detailed codes (each detailed code starts with its primary). Reconstructed from
Plaid's public list of personal finance categories (v2); subscriptions are not a category there
(Netflix is ENTERTAINMENT_TV_AND_MOVIES) but a property of a recurring series, and so here."""

DETAILED: Final[tuple[str, ...]] = tuple(d for ds in TAXONOMY.values() for d in ds)
DETAILED_INDEX: Final[dict[str, int]] = {d: i for i, d in enumerate(DETAILED)}
PRIMARY_OF_DETAILED: Final[tuple[str, ...]] = tuple(p for p, ds in TAXONOMY.items() for _ in ds)


def primary_of(detailed: str) -> str:
    """The primary category of a detailed code (``KeyError`` if unknown)."""
    return PRIMARY_OF_DETAILED[DETAILED_INDEX[detailed]]


def code(detailed: str) -> int:
    """Dense integer code used inside the simulator's arrays."""
    return DETAILED_INDEX[detailed]
