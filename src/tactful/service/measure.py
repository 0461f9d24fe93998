"""The measuring use cases as the command line runs them: the engagement report (and its HTML
page), outcomes recorded one by one or read from the bank's notification events, experiments
defined, analysed and stopped, and a policy's value estimated from the decisions log before it
is launched. The work is ``tactful.measure``; a face comes here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tactful.measure.engagement import EngagementReport
from tactful.measure.experiments import Experiment
from tactful.measure.offline import OfflineValue
from tactful.measure.outcomes import FromEvents, Recorded
from tactful.measure.results import ExperimentResult, fmt
from tactful.store.store import Store

__all__ = [
    "EngagementReport",
    "Experiment",
    "ExperimentResult",
    "ExperimentStatus",
    "FromEvents",
    "OfflineValue",
    "Recorded",
    "create_experiment",
    "engagement_report",
    "experiment_status",
    "fmt",
    "outcomes_from_events",
    "policy_value",
    "record_outcome",
    "stop_experiment",
    "write_engagement_page",
]


def engagement_report(store: Store, *, since: datetime | None = None,
                      until: datetime | None = None, min_volume: int = 100) -> EngagementReport:
    """Engagement per action and channel of the messages sent in [since, until), and the
    actions to modify or retire (judged after ``min_volume`` messages)."""
    from tactful.measure import engagement

    messages, outcomes = engagement.messages_and_outcomes(store, since=since, until=until)
    return engagement.engagement(messages, outcomes,
                                 engagement.Thresholds(min_volume=min_volume))


def write_engagement_page(store: Store, *, out: Path, since: datetime | None = None,
                          until: datetime | None = None, min_volume: int = 100) -> Path:
    """The engagement report and the experiments as one HTML page with plots."""
    from tactful.measure import engagement, page

    page.write_store_page(store, out, at=until, since=since,
                          thresholds=engagement.Thresholds(min_volume=min_volume))
    return out


def outcomes_from_events(store: Store) -> FromEvents:
    """Outcomes from the notification events ingested (idempotent)."""
    from tactful.measure.outcomes import outcomes_from_events as run

    return run(store)


def record_outcome(store: Store, *, decision_id: str, kind: str, at: datetime | None = None,
                   reason: str | None = None, rating: float | None = None) -> Recorded:
    """One outcome of a decision, at ``at`` (default now); recording it again changes nothing."""
    from tactful.measure.outcomes import OutcomeIn, record_outcomes

    return record_outcomes(store, [OutcomeIn(decision_id, kind, at or datetime.now(UTC),
                                             reason=reason, rating=rating)])


def create_experiment(
    store: Store,
    *,
    name: str,
    arms: list[str],
    holdout: float = 0.0,
    metric: str = "click",
    salt: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Experiment:
    """Define an experiment from ``NAME[:WEIGHT[:CHANNEL]]`` arms (the first is the control);
    it starts at ``start`` (default now)."""
    from tactful.measure import experiments

    parsed = tuple(experiments.parse_arm(a) for a in arms)
    return experiments.create(store, experiments.Experiment(
        name, parsed, start or datetime.now(UTC), holdout, metric, salt or "", end))


@dataclass(frozen=True)
class ExperimentStatus:
    experiment: Experiment
    state: str
    """running, not started, ended or stopped."""
    result: ExperimentResult


def experiment_status(store: Store, *, name: str | None = None) -> list[ExperimentStatus]:
    """Each experiment (or the one named) with its per-arm results as of now."""
    from tactful.measure import experiments, results

    chosen = [experiments.get(store, name)] if name else experiments.load(store)
    now = datetime.now(UTC)
    out = []
    for e in chosen:
        end = e.end()
        state = ("stopped" if e.stopped_at else "ended" if end and end <= now
                 else "running" if e.is_active(now) else "not started")
        out.append(ExperimentStatus(e, state, results.analyse(e, results.units(store, e, at=now))))
    return out


def stop_experiment(store: Store, *, name: str) -> Experiment:
    """Stop an experiment now: later decisions are not assigned to it."""
    from tactful.measure import experiments

    return experiments.stop(store, name)


def policy_value(store: Store, *, catalog: Path | None = None, reward: list[str] | None = None,
                 since: datetime | None = None) -> OfflineValue:
    """The value of the policy over ``catalog``'s actions (default: the built-in catalog, the
    current policy against its own logs), estimated off-policy from the decisions logged."""
    from tactful.decide.catalog import ActionsCatalog
    from tactful.decide.policy import DecisionPolicy
    from tactful.measure.offline import policy_value as estimate

    target = DecisionPolicy(ActionsCatalog.load(catalog) if catalog else ActionsCatalog.default())
    return estimate(store, target, reward=reward or ["click", "convert"], since=since)
