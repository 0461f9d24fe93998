"""The engine's two-level spending taxonomy: primary / detailed, Plaid "personal finance" style.

Every detailed code starts with its primary (``FOOD_AND_DRINK_COFFEE`` belongs to
``FOOD_AND_DRINK``), so the primary of a code is a lookup, never a guess. ``UNCATEGORIZED`` is the
one code outside the tree: what a transaction gets when no user correction, rule, merchant
directory entry, MCC or confident model says anything.

Some categories reveal special-category data in the GDPR sense (health, religion, political
opinion) or a vulnerability (gambling). They are flagged ``sensitive`` with the reason, so the
insight and decision layers can refuse to personalize on them.

>>> primary_of("FOOD_AND_DRINK_GROCERIES")
'FOOD_AND_DRINK'
>>> is_sensitive("ENTERTAINMENT_CASINOS_AND_GAMBLING")
True
>>> primary_of(UNCATEGORIZED)
'UNCATEGORIZED'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from tactful.domain.categories import CATEGORY_TREE
from tactful.errors import ValidationError

__all__ = [
    "DETAILED",
    "PRIMARY",
    "SENSITIVE",
    "TAXONOMY",
    "UNCATEGORIZED",
    "Category",
    "category",
    "is_sensitive",
    "primary_of",
    "sensitive_reason",
]

UNCATEGORIZED: Final = "UNCATEGORIZED"

_TREE: Final[dict[str, tuple[str, ...]]] = CATEGORY_TREE

TAXONOMY: Final[dict[str, tuple[str, ...]]] = {
    primary: tuple(f"{primary}_{d}" for d in details) for primary, details in _TREE.items()
}
"""primary -> its detailed codes, in display order."""

PRIMARY: Final[frozenset[str]] = frozenset(TAXONOMY)
DETAILED: Final[frozenset[str]] = frozenset(d for ds in TAXONOMY.values() for d in ds)
"""Every detailed code of the tree (``UNCATEGORIZED`` is not one of them)."""

_PRIMARY_OF: Final[dict[str, str]] = {d: p for p, ds in TAXONOMY.items() for d in ds}

SENSITIVE: Final[dict[str, str]] = {
    **{d: "health data (GDPR art. 9)" for d in TAXONOMY["MEDICAL"]},
    "MEDICAL_VETERINARY_SERVICES": "may reveal a pet's illness; treated like health data",
    "ENTERTAINMENT_CASINOS_AND_GAMBLING": "gambling: a vulnerability marker",
    "GOVERNMENT_AND_NON_PROFIT_DONATIONS": (
        "donations can reveal religious or political beliefs (GDPR art. 9)"
    ),
    "GOVERNMENT_AND_NON_PROFIT_OTHER_GOVERNMENT_AND_NON_PROFIT": (
        "religious organisations, political parties and unions (GDPR art. 9)"
    ),
    "INCOME_UNEMPLOYMENT": "benefit receipt: a vulnerability marker",
    "BANK_FEES_INSUFFICIENT_FUNDS": "financial difficulty: a vulnerability marker",
    "GENERAL_MERCHANDISE_TOBACCO_AND_VAPE": "health-related behaviour",
}
"""Detailed code -> why personalization must not use it (adult content has no code of its own;
MCCs 5967 / 7273 map to ``UNCATEGORIZED`` and are listed in ``mcc.SENSITIVE_MCC``)."""


@dataclass(frozen=True, slots=True)
class Category:
    """One detailed category with its primary and its sensitivity."""

    detailed: str
    primary: str
    sensitive: bool
    reason: str | None


def primary_of(detailed: str) -> str:
    """The primary of ``detailed``; ``UNCATEGORIZED`` is its own primary.

    Raises ``ValidationError`` naming the code when it is not in the taxonomy.
    """
    if detailed == UNCATEGORIZED:
        return UNCATEGORIZED
    try:
        return _PRIMARY_OF[detailed]
    except KeyError:
        raise ValidationError(f"unknown detailed category {detailed!r}") from None


def is_sensitive(detailed: str) -> bool:
    """Whether ``detailed`` is special-category or vulnerability data."""
    primary_of(detailed)
    return detailed in SENSITIVE


def sensitive_reason(detailed: str) -> str | None:
    """Why ``detailed`` is sensitive, or ``None``."""
    primary_of(detailed)
    return SENSITIVE.get(detailed)


def category(detailed: str) -> Category:
    """The ``Category`` record of ``detailed``."""
    return Category(
        detailed=detailed,
        primary=primary_of(detailed),
        sensitive=detailed in SENSITIVE,
        reason=SENSITIVE.get(detailed),
    )
