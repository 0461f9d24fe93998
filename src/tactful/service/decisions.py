"""The decision use cases as the command line runs them: one customer's decision, every
customer's (progress by callback), and the replay of a logged decision. The policy itself is
``tactful.decide``; a face comes here, so choosing the default policy and the moment is done once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from tactful.decide.placement import Placement
from tactful.decide.policy import Considered, DecisionResult
from tactful.decide.service import BatchReport, Replay
from tactful.store.store import Store

__all__ = [
    "BatchReport", "Considered", "DecisionResult", "Replay", "decide_all", "decide_one", "replay",
]


def decide_one(store: Store, *, customer_id: str, placement: Placement = Placement.FEED,
               at: datetime | None = None) -> DecisionResult:
    """The decision for one customer (logged), at ``at`` or just after the latest insights."""
    from tactful.decide.service import decide_customer

    return decide_customer(store, customer_id=customer_id, placement=placement, at=at)


def decide_all(store: Store, *, placement: Placement = Placement.OUTBOUND,
               at: datetime | None = None,
               progress_total: Callable[[int], Any] | None = None,
               progress: Callable[[int], Any] | None = None) -> BatchReport:
    """A decision for every customer, logged shard by shard."""
    from tactful.decide.service import decide_all as run

    return run(store, placement=placement, at=at, progress_total=progress_total,
               progress=progress)


def replay(store: Store, *, decision_id: str) -> Replay:
    """A logged decision made again from its logged inputs."""
    from tactful.decide.service import explain

    return explain(store, decision_id=decision_id)
