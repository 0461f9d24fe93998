"""An insight's life: live -> shown -> acted on / dismissed, or expired, or retracted (the
customer withdrew the consent it needed; ``trust.consent`` does it); and the rule that the
same thing is not said again while it is live or in cooldown.

Pure functions over frames: the store keeps the rows, this module decides.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import polars as pl

from tactful.errors import ValidationError

LIVE: Final = "live"
SHOWN: Final = "shown"
ACTED_ON: Final = "acted_on"
DISMISSED: Final = "dismissed"
EXPIRED: Final = "expired"
RETRACTED: Final = "retracted"
STATES: Final = (LIVE, SHOWN, ACTED_ON, DISMISSED, EXPIRED, RETRACTED)
OPEN: Final = (LIVE, SHOWN)
"""States in which an insight is still in front of the customer."""

TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    LIVE: frozenset({SHOWN, ACTED_ON, DISMISSED, EXPIRED, RETRACTED}),
    SHOWN: frozenset({ACTED_ON, DISMISSED, EXPIRED, RETRACTED}),
    ACTED_ON: frozenset(),
    DISMISSED: frozenset(),
    EXPIRED: frozenset(),
    RETRACTED: frozenset(),
}

EXISTING: Final = {
    "insight_id": pl.String(),
    "customer_id": pl.String(),
    "detector": pl.String(),
    "subject": pl.String(),
    "state": pl.String(),
    "expires_at": pl.Datetime("us", "UTC"),
    "cooldown_until": pl.Datetime("us", "UTC"),
}


def check_transition(current: str, new: str, *, insight_id: str) -> None:
    if new not in STATES:
        raise ValidationError(f"unknown insight state {new!r} (known: {', '.join(STATES)})")
    if new not in TRANSITIONS[current]:
        raise ValidationError(f"insight {insight_id} is {current}; it cannot become {new}")


def fresh(found: pl.DataFrame, existing: pl.DataFrame | None, at: datetime) -> pl.DataFrame:
    """The findings (with ``insight_id``) that are news at ``at``.

    Dropped: an insight already stored under the same id (whatever its state -- a dismissed
    insight stays dismissed), and any finding on a subject that has a live, unexpired insight or
    one still in cooldown from the same detector.
    """
    if existing is None or existing.height == 0 or found.height == 0:
        return found
    stamp = pl.lit(at).cast(pl.Datetime("us", "UTC"))
    blocking = existing.filter(
        (pl.col("state").is_in(OPEN) & (pl.col("expires_at") > stamp))
        | (pl.col("cooldown_until") > stamp)
    ).select("customer_id", "detector", "subject").unique()
    return (
        found.join(existing.select("insight_id"), on="insight_id", how="anti")
        .join(blocking, on=["customer_id", "detector", "subject"], how="anti")
    )


def due_to_expire(existing: pl.DataFrame, at: datetime) -> list[str]:
    """Ids of insights still open whose expiry has passed."""
    stamp = pl.lit(at).cast(pl.Datetime("us", "UTC"))
    return existing.filter(
        pl.col("state").is_in(OPEN) & (pl.col("expires_at") <= stamp)
    ).get_column("insight_id").to_list()
