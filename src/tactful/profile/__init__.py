"""The unified customer profile: the 360-degree view every later layer starts from."""

from tactful.profile.view import (
    BehaviourSummary,
    CategorySpend,
    ConsentState,
    CustomerProfile,
    Holding,
    IncomeItem,
    InsightLine,
    RecurringItem,
    load_profile,
)

__all__ = [
    "BehaviourSummary",
    "CategorySpend",
    "ConsentState",
    "CustomerProfile",
    "Holding",
    "IncomeItem",
    "InsightLine",
    "RecurringItem",
    "load_profile",
]
