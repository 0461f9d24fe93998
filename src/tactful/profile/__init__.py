"""The unified customer profile: the 360-degree view every later layer starts from."""

from tactful.profile.view import (
    BehaviourSummary,
    ConsentState,
    CustomerProfile,
    Holding,
    load_profile,
)

__all__ = ["BehaviourSummary", "ConsentState", "CustomerProfile", "Holding", "load_profile"]
