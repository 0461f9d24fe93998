"""One attention budget per customer, shared by insights, offers and service messages.

Every message spends some of the customer's attention (a push more than an in-app card); the
budget refills over time up to a capacity. A message must clear a threshold that rises as the
budget empties: with a full budget, anything worth ``threshold`` points may speak; with half of
it left, twice that. When nothing clears it, the decision is silence.

The budget is replayed from the log of sends (pure: the same sends give the same budget), and it
shrinks with what the customer shows: each dismissed item and each run of ignored messages
lowers the capacity, so a customer who swats messages away hears fewer.

>>> from datetime import UTC, datetime, timedelta
>>> from tactful.decide.contact import Send
>>> from tactful.domain.enums import Channel
>>> policy = AttentionPolicy()
>>> now = datetime(2026, 3, 2, 9, tzinfo=UTC)
>>> policy.level([], now)
3.0
>>> sends = [Send(now - timedelta(hours=1), Channel.PUSH, "spending_spike", decided_at=now)]
>>> policy.level(sends, now)
2.0
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from tactful.decide.contact import Send
from tactful.domain.enums import Channel
from tactful.errors import ConfigError

DEFAULT_COST: Final[Mapping[Channel, float]] = {
    Channel.IN_APP: 0.5, Channel.EMAIL: 0.75, Channel.PUSH: 1.0, Channel.SMS: 1.0,
}


def _costs() -> dict[Channel, float]:
    return dict(DEFAULT_COST)


@dataclass(frozen=True, slots=True)
class AttentionPolicy:
    """``capacity`` and ``threshold`` are in message points (the catalog's ``value`` unit times
    P(engage)); ``refill_per_day`` in budget units."""

    capacity: float = 3.0
    refill_per_day: float = 1.0
    threshold: float = 2.0
    cost: Mapping[Channel, float] = field(default_factory=_costs)
    dismissal_weight: float = 0.25
    """Capacity lost per dismissed item (capacity / (1 + weight x dismissals + ...))."""
    ignore_weight: float = 0.1
    """Capacity lost per ignored message in a row."""

    def __post_init__(self) -> None:
        for name in ("capacity", "refill_per_day", "threshold", "dismissal_weight",
                     "ignore_weight"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0 or (
                    name == "capacity" and value == 0):
                raise ConfigError(f"attention policy: {name} must be a number "
                                  f"{'> 0' if name == 'capacity' else '>= 0'}; got {value!r}")
        for channel in Channel:
            if self.cost.get(channel, -1.0) < 0:
                raise ConfigError(f"attention policy: cost.{channel.value} must be a number "
                                  ">= 0")

    @property
    def version(self) -> str:
        data = [self.capacity, self.refill_per_day, self.threshold, self.dismissal_weight,
                self.ignore_weight, {str(k): v for k, v in sorted(self.cost.items())}]
        return hashlib.sha256(json.dumps(data).encode()).hexdigest()[:8]

    def capacity_for(self, dismissed: int, ignored: int) -> float:
        return self.capacity / (1 + self.dismissal_weight * dismissed
                                + self.ignore_weight * ignored)

    def level(self, sends: Iterable[Send], at: datetime, *, capacity: float | None = None) -> (
        float
    ):
        """The budget left at ``at``: full at first, each send decided before ``at`` spends its
        channel's cost when it is decided, time refills it up to the capacity (it may go below
        zero: an exempt message spends too)."""
        top = self.capacity if capacity is None else capacity
        level, last = top, None
        for send in sorted((s for s in sends if (s.decided_at or s.at) <= at),
                           key=lambda s: s.decided_at or s.at):
            when = send.decided_at or send.at
            if last is not None:
                level = min(top, level + self.refill_per_day * (when - last).total_seconds()
                            / 86_400)
            level -= self.cost[send.channel]
            last = when
        if last is not None:
            level = min(top, level + self.refill_per_day * (at - last).total_seconds() / 86_400)
        return level

    def bar(self, level: float, capacity: float, channel: Channel) -> float:
        """The expected value a message on ``channel`` must reach: infinite when the budget
        cannot pay for it, else ``threshold`` scaled by how empty the budget is."""
        cost = self.cost[channel]
        if level < cost or level <= 0:
            return math.inf
        return self.threshold * capacity / level
