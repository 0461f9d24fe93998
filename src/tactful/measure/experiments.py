"""Experiments in the store: create, read and stop their definitions.

The definitions and the assignment are pure and live in :mod:`tactful.measure.assignment`
(the decision layer reads only that); this module keeps them in the ``experiments`` table. A
definition is never edited under the customers assigned by it: stop it and create another.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, insert, select, update

from tactful.domain.records import require_aware
from tactful.errors import NotFoundError, ValidationError
from tactful.measure.assignment import (
    HOLDOUT,
    METRICS,
    Arm,
    Experiment,
    arm_channel,
    assign,
    assignments,
    bucket,
    in_holdout,
    parse_arm,
)
from tactful.store import schema
from tactful.store.store import Store

__all__ = [
    "HOLDOUT", "METRICS", "Arm", "Experiment", "arm_channel", "assign", "assignments",
    "bucket", "create", "get", "in_holdout", "load", "load_in", "parse_arm", "stop",
]


def _row(e: Experiment) -> dict[str, Any]:
    return {"name": e.name, "salt": e.salt,
            "arms": [{"name": a.name, "weight": a.weight,
                      "channel": None if a.channel is None else a.channel.value,
                      "variant": a.variant}
                     for a in e.arms],
            "holdout": float(e.holdout), "metric": e.metric_kind.value,
            "starts_at": e.starts_at, "ends_at": e.ends_at, "stopped_at": e.stopped_at,
            "created_at": e.created_at}


def _from_row(r: Any) -> Experiment:
    arms = r.arms if isinstance(r.arms, list) else json.loads(r.arms)
    return Experiment(str(r.name), tuple(Arm(str(a["name"]), float(a["weight"]),
                                             a.get("channel"), a.get("variant"))
                                         for a in arms),
                      r.starts_at, float(r.holdout), str(r.metric), str(r.salt), r.ends_at,
                      r.stopped_at, r.created_at)


def create(store: Store, experiment: Experiment) -> Experiment:
    """Store a new experiment; a name already taken is refused (a definition is never edited
    under the customers assigned by it: stop it and create another)."""
    t = schema.experiments
    with store.transaction() as conn:
        if conn.execute(select(t.c.name).where(t.c.name == experiment.name)).first():
            raise ValidationError(f"experiment {experiment.name!r} already exists")
        conn.execute(insert(t), [_row(experiment)])
    return experiment


@cache
def _load_query() -> Any:
    """Built once: every feed request reads the experiments."""
    t = schema.experiments
    return select(t).order_by(t.c.name)


def load(store: Store) -> list[Experiment]:
    return [_from_row(r) for r in store.rows(_load_query())]


def load_in(conn: Connection) -> list[Experiment]:
    """:func:`load` inside a transaction already open (the outbox's enqueue)."""
    t = schema.experiments
    return [_from_row(r) for r in conn.execute(select(t).order_by(t.c.name))]


def get(store: Store, name: str) -> Experiment:
    t = schema.experiments
    rows = store.rows(select(t).where(t.c.name == name))
    if not rows:
        raise NotFoundError(f"no experiment {name!r} in the store")
    return _from_row(rows[0])


def stop(store: Store, name: str, *, at: datetime | None = None) -> Experiment:
    """Stop ``name`` at ``at`` (now): from then on no decision is assigned to it."""
    current = get(store, name)
    if current.stopped_at is not None:
        raise ValidationError(f"experiment {name!r} was already stopped at "
                              f"{current.stopped_at.isoformat()}")
    when = require_aware(at, "at") if at is not None else datetime.now(UTC)
    t = schema.experiments
    with store.transaction() as conn:
        conn.execute(update(t).where(t.c.name == name).values(stopped_at=when))
    return get(store, name)
