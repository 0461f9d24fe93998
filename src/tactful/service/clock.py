"""When "now" is for the service.

A bank's service decides at the wall clock (``NOW``). The demo and the tests serve a simulated
bank whose data lie in the past, where the wall clock would find every insight expired: there
"now" is the data's own latest moment (``DATA``: just after the latest insight, or the latest
real-time transaction). Consent is always read at the wall clock whatever the clock says, so a
withdrawal binds the very next request either way (``feed.feed``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from tactful.store.store import Store


class Clock(StrEnum):
    NOW = "now"
    DATA = "data"


def moment(store: Store, clock: Clock) -> datetime:
    """The moment a request is served at under ``clock``."""
    if clock is Clock.NOW:
        return datetime.now(UTC)
    from tactful.decide.repository import default_moment

    return default_moment(store)
