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

_TREE: Final[dict[str, tuple[str, ...]]] = {
    "INCOME": (
        "DIVIDENDS",
        "INTEREST_EARNED",
        "RETIREMENT_PENSION",
        "TAX_REFUND",
        "UNEMPLOYMENT",
        "WAGES",
        "OTHER_INCOME",
    ),
    "TRANSFER_IN": (
        "CASH_ADVANCES_AND_LOANS",
        "DEPOSIT",
        "INVESTMENT_AND_RETIREMENT_FUNDS",
        "SAVINGS",
        "ACCOUNT_TRANSFER",
        "OTHER_TRANSFER_IN",
    ),
    "TRANSFER_OUT": (
        "INVESTMENT_AND_RETIREMENT_FUNDS",
        "SAVINGS",
        "WITHDRAWAL",
        "ACCOUNT_TRANSFER",
        "OTHER_TRANSFER_OUT",
    ),
    "LOAN_PAYMENTS": (
        "CAR_PAYMENT",
        "CREDIT_CARD_PAYMENT",
        "PERSONAL_LOAN_PAYMENT",
        "MORTGAGE_PAYMENT",
        "STUDENT_LOAN_PAYMENT",
        "OTHER_PAYMENT",
    ),
    "BANK_FEES": (
        "ATM_FEES",
        "FOREIGN_TRANSACTION_FEES",
        "INSUFFICIENT_FUNDS",
        "INTEREST_CHARGE",
        "OVERDRAFT_FEES",
        "OTHER_BANK_FEES",
    ),
    "ENTERTAINMENT": (
        "CASINOS_AND_GAMBLING",
        "MUSIC_AND_AUDIO",
        "SPORTING_EVENTS_AMUSEMENT_PARKS_AND_MUSEUMS",
        "TV_AND_MOVIES",
        "VIDEO_GAMES",
        "OTHER_ENTERTAINMENT",
    ),
    "FOOD_AND_DRINK": (
        "BEER_WINE_AND_LIQUOR",
        "COFFEE",
        "FAST_FOOD",
        "GROCERIES",
        "RESTAURANT",
        "VENDING_MACHINES",
        "OTHER_FOOD_AND_DRINK",
    ),
    "GENERAL_MERCHANDISE": (
        "BOOKSTORES_AND_NEWSSTANDS",
        "CLOTHING_AND_ACCESSORIES",
        "CONVENIENCE_STORES",
        "DEPARTMENT_STORES",
        "DISCOUNT_STORES",
        "ELECTRONICS",
        "GIFTS_AND_NOVELTIES",
        "OFFICE_SUPPLIES",
        "ONLINE_MARKETPLACES",
        "PET_SUPPLIES",
        "SPORTING_GOODS",
        "SUPERSTORES",
        "TOBACCO_AND_VAPE",
        "OTHER_GENERAL_MERCHANDISE",
    ),
    "HOME_IMPROVEMENT": (
        "FURNITURE",
        "HARDWARE",
        "REPAIR_AND_MAINTENANCE",
        "SECURITY",
        "OTHER_HOME_IMPROVEMENT",
    ),
    "MEDICAL": (
        "DENTAL_CARE",
        "EYE_CARE",
        "NURSING_CARE",
        "PHARMACIES_AND_SUPPLEMENTS",
        "PRIMARY_CARE",
        "VETERINARY_SERVICES",
        "OTHER_MEDICAL",
    ),
    "PERSONAL_CARE": (
        "GYMS_AND_FITNESS_CENTERS",
        "HAIR_AND_BEAUTY",
        "LAUNDRY_AND_DRY_CLEANING",
        "OTHER_PERSONAL_CARE",
    ),
    "GENERAL_SERVICES": (
        "ACCOUNTING_AND_FINANCIAL_PLANNING",
        "AUTOMOTIVE",
        "CHILDCARE",
        "CONSULTING_AND_LEGAL",
        "EDUCATION",
        "INSURANCE",
        "POSTAGE_AND_SHIPPING",
        "STORAGE",
        "OTHER_GENERAL_SERVICES",
    ),
    "GOVERNMENT_AND_NON_PROFIT": (
        "DONATIONS",
        "GOVERNMENT_DEPARTMENTS_AND_AGENCIES",
        "TAX_PAYMENT",
        "OTHER_GOVERNMENT_AND_NON_PROFIT",
    ),
    "TRANSPORTATION": (
        "BIKES_AND_SCOOTERS",
        "GAS",
        "PARKING",
        "PUBLIC_TRANSIT",
        "TAXIS_AND_RIDE_SHARES",
        "TOLLS",
        "OTHER_TRANSPORTATION",
    ),
    "TRAVEL": ("FLIGHTS", "LODGING", "RENTAL_CARS", "OTHER_TRAVEL"),
    "RENT_AND_UTILITIES": (
        "GAS_AND_ELECTRICITY",
        "INTERNET_AND_CABLE",
        "RENT",
        "SEWAGE_AND_WASTE_MANAGEMENT",
        "TELEPHONE",
        "WATER",
        "OTHER_UTILITIES",
    ),
}

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
