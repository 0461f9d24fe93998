"""The demo's closed loop: an experiment on the wording of the messages, the decisions that run
under it, their delivery through the outbox, the customers' answers, and the measurement page.

One round: a message-variant experiment (:data:`WORDING`: the plain wording, a friendly tone and
a short format, assigned by the salted hash and logged on each decision) is created if the
store lacks it; every customer gets an outbound decision; the outbox worker enqueues the
messages (the wording applied per arm, ``deliver/variants.py``) and delivers them with the
send-time checks, its clock stepped through the send times the decisions chose: push and SMS
over the signed webhook to the reference receiver in this process (a bank's endpoint stands
there), in-app and e-mail to the in-app feed (the demo has no SMTP relay); each message sent
leaves its ``delivered`` outcome. The customers' side -- impressions, opens, clicks,
conversions, dismissals, opt-outs -- comes from ``respond``, which the caller supplies (the
simulator, which the application layer may not import), and is recorded like any outcome. The
page (``measure/page.py``) is the engagement report and the experiment's result: per-arm rates
with Wilson intervals, the difference with the control, and the sample-ratio-mismatch check.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from pydantic import SecretStr
from sqlalchemy import select

from tactful.domain.actions import Action, Decision, Outcome, OutcomeKind
from tactful.domain.enums import Channel
from tactful.store import schema
from tactful.store.store import Store

if TYPE_CHECKING:
    from tactful.measure.results import ExperimentResult

__all__ = ["WORDING", "LoopReport", "Respond", "run_closed_loop"]

Respond = Callable[[Sequence[Decision]], Sequence[Outcome]]

WORDING: Final = "message_wording"
"""The demo's experiment: arms ``plain`` (control), ``friendly`` (tone) and ``short``
(format), judged by clicks."""

_STEP: Final = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class LoopReport:
    """What the round did and where its page is."""

    page: Path
    at: datetime
    customers: int
    messages: int
    delivery: dict[str, int]
    """Outbox messages per final state (sent, cancelled, failed, pending)."""
    outcomes: dict[str, int]
    """Outcomes recorded per kind, ``delivered`` included."""
    experiment: ExperimentResult
    """Per-arm rates with intervals, differences with the control, the SRM check."""


def _experiment(store: Store, at: datetime) -> Any:
    from tactful.measure import experiments
    from tactful.measure.assignment import Arm, Experiment

    if any(e.name == WORDING for e in experiments.load(store)):
        return experiments.get(store, WORDING)
    return experiments.create(store, Experiment(
        WORDING, arms=(Arm("plain"), Arm("friendly", variant="friendly"),
                       Arm("short", variant="short")),
        starts_at=at - timedelta(seconds=1), metric=OutcomeKind.CLICK))


def _decisions(store: Store, ids: Sequence[str], window_end: datetime | None) -> (
    list[Decision]
):
    """The round's decisions to send, as the customers' side sees them (those whose send time
    falls after ``window_end`` have no world to answer them and are left out)."""
    d = schema.decisions
    out = []
    wanted = set(ids)
    for r in store.rows(select(d.c.decision_id, d.c.customer_id, d.c.action_id, d.c.family,
                               d.c.product_id, d.c.channel, d.c.send_at, d.c.pscore,
                               d.c.policy_version).where(d.c.silent.is_(False))):
        if str(r.decision_id) not in wanted:
            continue
        if window_end is not None and r.send_at >= window_end:
            continue
        out.append(Decision(str(r.decision_id), str(r.customer_id),
                            Action(str(r.action_id), r.family, product_id=r.product_id),
                            Channel(r.channel), r.send_at, float(r.pscore),
                            str(r.policy_version)))
    return out


def _deliver(store: Store, start: datetime, until: datetime) -> dict[str, int]:
    """Run the outbox with its clock stepped hourly from ``start`` to ``until``."""
    from tactful.deliver import outbox
    from tactful.deliver.receiver import WebhookReceiver
    from tactful.deliver.settings import DeliverySettings
    from tactful.deliver.worker import Worker

    secret = secrets.token_hex(24)
    receiver = WebhookReceiver(secret.encode()).start()
    moment = [start]
    routes = {"in_app": "in_app", "email": "in_app", "push": "webhook", "sms": "webhook"}
    worker = Worker(store, DeliverySettings(routes=routes, webhook_url=receiver.url,
                                            webhook_secret=SecretStr(secret)),
                    clock=lambda: moment[0], name="demo")
    try:
        while moment[0] <= until:
            worker.drain()
            moment[0] += _STEP
    finally:
        worker.close()
        receiver.stop()
    return {k: v for k, v in outbox.counts(store).items() if v}


def run_closed_loop(store: Store, *, respond: Respond, out: Path, at: datetime | None = None,
                    window_end: datetime | None = None) -> LoopReport:
    """One round of the loop at ``at`` (default: right after the latest insights), its page
    written to ``out``. ``window_end``: when the world behind ``respond`` ends."""
    from tactful.decide.placement import Placement
    from tactful.decide.repository import default_moment
    from tactful.measure import page, results
    from tactful.measure.outcomes import record_outcomes
    from tactful.service.decisions import decide_all

    moment = at or default_moment(store)
    experiment = _experiment(store, moment)
    batch = decide_all(store, placement=Placement.OUTBOUND, at=moment)
    sends = _decisions(store, batch.decision_ids, window_end)
    last = max((s.send_at for s in sends), default=moment)
    delivery = _deliver(store, moment, last + timedelta(days=1))
    answers = [o for o in respond(sends) if o.kind is not OutcomeKind.DELIVERED]
    record_outcomes(store, answers, source="simulator")
    o = schema.outcomes
    kinds: Counter[str] = Counter()
    ids = list(batch.decision_ids)
    for part in range(0, len(ids), 2_000):
        for (kind,) in store.rows(select(o.c.kind).where(
                o.c.decision_id.in_(ids[part:part + 2_000]))):
            kinds[str(kind)] += 1
    outcome_end = max((x.at for x in answers), default=last) + timedelta(seconds=1)
    result = results.analyse(experiment, results.units(store, experiment, at=outcome_end))
    page.write_store_page(store, out, at=outcome_end)
    return LoopReport(out, moment, batch.customers, batch.messages, delivery,
                      dict(sorted(kinds.items())), result)
