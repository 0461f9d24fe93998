"""The decision use cases, one keyword-only function each, for the CLI (and later the API) to
call: decide for one customer, decide for every customer (progress by callback, no printing),
and replay a logged decision.

>>> Placement("outbound").channels[0].value
'in_app'
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tactful.decide.catalog import ActionsCatalog
from tactful.decide.evidence import learned_now
from tactful.decide.features import cache_for
from tactful.decide.log import considered_from_json, inputs_from_json
from tactful.decide.policy import Considered, DecisionPolicy, DecisionResult, Placement
from tactful.decide.repository import (
    customer_ids,
    default_moment,
    features_source,
    gather,
    inputs_for,
    learned,
    read_decision,
    stored_run,
    write_decisions,
)
from tactful.domain.records import require_aware
from tactful.errors import NotFoundError, ValidationError
from tactful.store.store import Store
from tactful.trust.privacy import mask

SHARD = 500


def default_policy(catalog: ActionsCatalog | None = None) -> DecisionPolicy:
    return DecisionPolicy(catalog or ActionsCatalog.default())


def decide_customer(
    store: Store,
    *,
    customer_id: str,
    placement: Placement = Placement.FEED,
    at: datetime | None = None,
    policy: DecisionPolicy | None = None,
    save: bool = True,
    consent_at: datetime | None = None,
    served_at: datetime | None = None,
    fresh_for: float = 0.0,
) -> DecisionResult:
    """The decision for one customer now (or at ``at``), logged unless ``save`` is False;
    consent as it stands at ``consent_at`` (default: the decision's moment). ``served_at``
    makes the decision one request's own (``policy.decision_id``); ``fresh_for``: how many
    seconds the bandit's evidence read last may serve (``decide.evidence``). Its reads share
    one connection (``Store.reading``); ``NotFoundError`` for a customer not in the store."""
    chosen = policy or default_policy()
    moment = require_aware(at, "at") if at is not None else default_moment(store)
    if not save:
        with store.reading():
            return _decide_one(store, customer_id, moment, chosen, placement, consent_at,
                               served_at, fresh_for)
    # read, decide and log as one step per customer: two requests at once would each miss the
    # other's message in the contact history and pass a cap together
    with store.exclusive(f"decide:{customer_id}"):
        with store.reading():
            result = _decide_one(store, customer_id, moment, chosen, placement, consent_at,
                                 served_at, fresh_for)
        write_decisions(store, [result])
    return result


def _decide_one(store: Store, customer_id: str, moment: datetime, policy: DecisionPolicy,
                placement: Placement, consent_at: datetime | None,
                served_at: datetime | None, fresh_for: float) -> DecisionResult:
    g = gather(store, [customer_id], at=moment, policy=policy,
               outcomes=learned_now(store, at=moment, fresh_for=fresh_for),
               placement=placement, consent_at=consent_at, cache=cache_for(store),
               served_at=served_at)
    if customer_id not in g.contexts:  # the customers' row read by gather: no lookup of its own
        raise NotFoundError(f"customer {mask(customer_id)} is not in the store")
    return policy.decide(inputs_for(g, customer_id, at=moment, placement=placement,
                                    served_at=served_at))


@dataclass(frozen=True, slots=True)
class BatchReport:
    at: datetime
    placement: Placement
    customers: int
    messages: int
    silent: int
    seconds: float
    decision_ids: tuple[str, ...]
    features: str = ""
    """Where the rule features came from: the nightly insight run's table, or computed."""


def decide_all(
    store: Store,
    *,
    placement: Placement = Placement.OUTBOUND,
    at: datetime | None = None,
    policy: DecisionPolicy | None = None,
    shard: int = SHARD,
    progress_total: Callable[[int], Any] | None = None,
    progress: Callable[[int], Any] | None = None,
) -> BatchReport:
    """A decision for every customer, shard by shard, each shard logged in one transaction.

    The customers' rule features are the ones the nightly insight run stored
    (:func:`~tactful.decide.repository.stored_run`; holdings read live), else computed shard by
    shard -- the same decisions, slower; the report says which (``features``)."""
    chosen = policy or default_policy()
    moment = require_aware(at, "at") if at is not None else default_moment(store)
    started = clock.perf_counter()
    ids = customer_ids(store)
    if progress_total:
        progress_total(len(ids))
    outcomes = learned(store, at=moment, policy=chosen)
    stored = stored_run(store, moment)
    messages = silent = 0
    done: list[str] = []
    for start in range(0, len(ids), shard):
        part = ids[start:start + shard]
        g = gather(store, part, at=moment, policy=chosen, outcomes=outcomes,
                   placement=placement, stored=stored)
        results = [chosen.decide(inputs_for(g, cid, at=moment, placement=placement))
                   for cid in part]
        write_decisions(store, results)
        silent += sum(r.decision.is_silence for r in results)
        messages += sum(not r.decision.is_silence for r in results)
        done += [r.decision.decision_id for r in results]
        if progress:
            progress(len(part))
    return BatchReport(moment, placement, len(ids), messages, silent,
                       clock.perf_counter() - started, tuple(done), features_source(stored))


@dataclass(frozen=True, slots=True)
class Replay:
    """A logged decision and the same decision made again from its logged inputs."""

    logged: dict[str, Any]
    considered: tuple[Considered, ...]
    replayed: DecisionResult

    @property
    def same(self) -> bool:
        d = self.replayed.decision
        log = self.logged
        return (
            (d.action.id if d.action else None) == log["action_id"]
            and (d.channel.value if d.channel else None) == log["channel"]
            and d.send_at == log["send_at"]
            and abs(d.pscore - log["pscore"]) < 1e-12
            and d.explanation == log["explanation"]
            and self.replayed.considered == self.considered
        )


def explain(store: Store, *, decision_id: str, policy: DecisionPolicy | None = None) -> Replay:
    """Replay ``decision_id`` from its logged inputs under the policy it was made with."""
    chosen = policy or default_policy()
    row = read_decision(store, decision_id)
    if row is None:
        raise NotFoundError(f"no decision {decision_id!r} in the store")
    if row["policy_version"] != chosen.version:
        raise ValidationError(
            f"decision {decision_id} was made by policy {row['policy_version']}; this engine "
            f"runs {chosen.version}, so a replay would not be the same decision")
    inputs = inputs_from_json(row["inputs"])
    return Replay(row, considered_from_json(row["candidates"]), chosen.decide(inputs))
