"""Everything about a living world that changes as it is stepped, in one copyable record.

The plan (the baseline future) is immutable and shared; this state holds the edits to it --
balance offsets, rows to insert, accounts opened or closed, budgets, fatigue, opt-outs -- and the
truth of what happened. A fork is a deep copy of this record, so two arms share every customer and
every random draw and differ only by what their policies did.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.base.calendar import NEVER

I64 = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Insert:
    """A transaction the world adds to a day (a transfer, a sweep, a disbursement)."""

    g: int
    slot: int
    amount: int
    description: str
    channel: str = "transfer"
    counterparty: str = ""


@dataclass(frozen=True, slots=True)
class AccountChange:
    """An account opened or closed by the world on a day."""

    g: int
    slot: int
    product_id: str
    closed: bool = False
    credit_limit: int | None = None


@dataclass(frozen=True, slots=True)
class WorldEvent:
    """A line of the world's truth: something a customer did or had happen, and why.

    ``cause`` is the decision id when a message caused it, ``""`` when it happened on its own.
    """

    customer_id: str
    day: int
    kind: str
    detail: str
    cause: str = ""


@dataclass(frozen=True, slots=True)
class MessageTruth:
    """A delivered message and whether it helped the customer (hidden from the engine)."""

    decision_id: str
    customer_id: str
    day: int
    helps: bool
    converted: bool


@dataclass(slots=True)
class WorldState:
    n: int
    """Customers including joiners (arrays are indexed by global index)."""
    clock: int = 0
    offset: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    last_balance: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    holds: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    seq: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    cut_day: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    opted_out: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 4), bool))
    budget_primary: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    budget_until: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    fee_free_until: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    messages: dict[int, list[int]] = field(default_factory=dict)
    tiring: dict[int, list[int]] = field(default_factory=dict)
    inserts: dict[int, list[Insert]] = field(default_factory=lambda: defaultdict(list))
    accounts: dict[int, list[AccountChange]] = field(default_factory=lambda: defaultdict(list))
    events: list[WorldEvent] = field(default_factory=list)
    delivered: list[MessageTruth] = field(default_factory=list)

    @classmethod
    def empty(cls, n: int) -> WorldState:
        return cls(
            n=n,
            offset=np.zeros(n * 6, np.int64),
            last_balance=np.zeros(n * 6, np.int64),
            holds=np.zeros(n * 6, bool),
            seq=np.zeros(n * 6, np.int64),
            cut_day=np.full(n, NEVER, np.int64),
            opted_out=np.zeros((n, 4), bool),
            budget_primary=np.full(n, -1, np.int64),
            budget_until=np.zeros(n, np.int64),
            fee_free_until=np.zeros(n, np.int64),
        )

    def balance(self, g: int, slot: int) -> int:
        """The balance the customer sees now (baseline last balance plus the world's edits)."""
        k = g * 6 + slot
        return int(self.last_balance[k] + self.offset[k])

    def recent(self, log: dict[int, list[int]], g: int, day: int, width: int) -> int:
        return sum(1 for d in log.get(g, ()) if day - width < d <= day)
