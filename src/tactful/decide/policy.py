"""The decision: for one customer, one placement and one moment, one message or silence.

Pure and replayable: everything a decision reads is in its :class:`DecisionInputs` (logged with
it), randomness comes from a seed derived from the decision's id, so the same inputs under the
same policy version give the same decision. The steps, each of which records why it dropped a
candidate:

1. engagement: the action is in the catalog and its eligibility rules hold (the bank's rule
   language, ``tactful.rules``, over the customer's features); the summaries follow the
   customer's rhythm -- a daily user gets the daily summary, a weekly user the weekly roundup,
   never both;
2. consent (``trust.consent``, the one door), personalization level, and the sensitive filter:
   an offer never rides on sensitive data, a sensitive insight never goes to a lock screen;
3. near-duplicates grouped into one message (three upcoming bills, one reminder);
4. channel: the placement's channels the action allows and the customer accepts; time: now for
   the in-app feed and for urgent or exempt messages, else the customer's usual login hour,
   moved out of quiet hours;
5. the contact policy (``contact.py``) and the attention budget (``attention.py``);
6. arbitration by expected value = P(engage) x value x lever x benefit x relevance, with
   P(engage) from Thompson sampling (``bandit.py``) against silence, worth the customer's
   attention bar. Exempt messages (security, legally required) go first, with certainty.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

import numpy as np

from tactful.decide.attention import AttentionPolicy
from tactful.decide.bandit import DrawPool, arm_key, choose
from tactful.decide.catalog import ActionKind, ActionsCatalog, ActionSpec, RiskClass
from tactful.decide.contact import (
    Blocked,
    ContactHistory,
    ContactPolicy,
    Request,
    check,
    in_quiet_hours,
)
from tactful.decide.placement import Placement as Placement  # re-exported: its old home
from tactful.domain.actions import Decision
from tactful.domain.enums import Channel, PersonalizationLevel
from tactful.domain.records import QuietHours, require_aware
from tactful.insights.spec import LEVEL_ORDER
from tactful.measure.assignment import in_holdout
from tactful.trust import consent

POLICY_NAME: Final = "tactful-decide-1"
DAILY_LOGINS: Final = 4.0
"""Logins a week from which a customer is a daily user (gets the daily summary, not the weekly
roundup): four or more days in seven is "most days"."""
SUMMARIES: Final[Mapping[str, str]] = {"daily_summary": "daily", "weekly_roundup": "weekly"}
_URGENCY: Final = {"high": 0, "normal": 1, "low": 2}


@dataclass(frozen=True, slots=True)
class CustomerContext:
    """What a decision knows of the customer (from the profile and ``trust.consent``)."""

    customer_id: str
    timezone: str
    level: PersonalizationLevel
    channel_preferences: tuple[Channel, ...]
    held: frozenset[str]
    """The consent purposes the customer holds now."""
    quiet_hours: QuietHours | None = None
    segment: str | None = None
    usual_login_hour: int | None = None
    logins_per_week: float = 0.0
    assignments: tuple[tuple[str, str], ...] = ()
    """(experiment, arm) of every experiment running: logged, and a customer in a global
    holdout (``measure.experiments``) hears no marketing."""
    arm_channel: Channel | None = None
    """The channel a channel-test arm puts the customer's messages on, where the customer, the
    action and the placement allow it (else the usual choice: intention to treat)."""
    vulnerable: bool = False
    """The bank flagged the customer vulnerable (``domain.Customer.vulnerable``): a regulated
    credit offer is never explored on them, whatever ``DecisionPolicy.explore`` says, and
    eligibility rules may read it as the feature ``vulnerable``."""

    @property
    def rhythm(self) -> str:
        return "daily" if self.logins_per_week >= DAILY_LOGINS else "weekly"


@dataclass(frozen=True, slots=True)
class Candidate:
    """Something the customer could be told: a live insight, an offer, a service message."""

    action_id: str
    subject: str
    relevance: float = 1.0
    urgency: str = "normal"
    sensitive: bool = False
    """It rests on sensitive data (the insight's detector is sensitive)."""
    insight_ids: tuple[str, ...] = ()
    count: int = 1
    """How many near-duplicates this one message stands for."""

    @property
    def key(self) -> str:
        return f"{self.action_id}:{self.subject}"


@dataclass(frozen=True, slots=True)
class DecisionInputs:
    """Everything one decision reads; logged with it so it can be replayed."""

    decision_id: str
    customer: CustomerContext
    at: datetime
    placement: Placement
    candidates: tuple[Candidate, ...]
    features: Mapping[str, float]
    history: ContactHistory
    outcomes: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    """Arm -> (engaged, not engaged) counts logged so far: the bandit's evidence."""


@dataclass(frozen=True, slots=True)
class Considered:
    """One candidate on one channel, and what became of it."""

    action_id: str
    subject: str
    channel: Channel | None
    dropped: str | None
    """Why it was dropped (a code), None if it reached the arbitration."""
    reason: str
    send_at: datetime | None = None
    expected_value: float | None = None
    """Posterior-mean expected value, in points."""
    probability: float | None = None
    """The probability the policy gave it in the arbitration."""


@dataclass(frozen=True, slots=True)
class DecisionResult:
    decision: Decision
    considered: tuple[Considered, ...]
    inputs: DecisionInputs
    bar: float
    """The attention bar silence was worth (points; inf when the budget is spent)."""
    budget: float


def decision_id(
    customer_id: str, at: datetime, placement: str, served_at: datetime | None = None
) -> str:
    """One decision per customer, moment and placement: deciding again is the same decision,
    so a batch re-run replaces its own log instead of doubling it.

    ``served_at`` names the request a live placement answers. Each request is a decision of its
    own even when the moment stands still (a service on the data's clock): the message a
    customer saw and dismissed must stay in the log beside the silence that followed, or the
    feedback would point at a decision that no longer says what was shown."""
    parts = [customer_id, at.isoformat(), placement]
    if served_at is not None:
        parts.append(served_at.isoformat())
    key = "\x1f".join(parts)
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[8:16], "little")


class DecisionPolicy:
    """The decision policy: a catalog, a contact policy, an attention policy and a bandit.

    ``explore`` says which risk classes may explore (sample from the posterior) rather than
    exploit its mean; regulated credit offers do not by default, and never for a customer
    flagged vulnerable (:meth:`explores`)."""

    def __init__(
        self,
        catalog: ActionsCatalog,
        *,
        contact: ContactPolicy | None = None,
        attention: AttentionPolicy | None = None,
        draws: int = 1000,
        seed: int = 0,
        explore: frozenset[RiskClass] = frozenset(
            {RiskClass.ORDINARY_OFFER, RiskClass.INSIGHT, RiskClass.SERVICE}),
        per_segment: bool = False,
    ) -> None:
        self.catalog = catalog
        self.contact = contact or ContactPolicy()
        self.attention = attention or AttentionPolicy()
        self.pool = DrawPool(draws=draws, seed=seed)
        self.explore = explore
        self.per_segment = per_segment
        self._specs: dict[str, ActionSpec | None] = {}
        self._caps = self.contact.caps()
        self._version: tuple[tuple[Any, ...], str] | None = None

    @property
    def version(self) -> str:
        # hashed once per set of settings, not per decision: the catalog, contact and attention
        # settings are frozen, so the same objects (held here, compared by identity) and the
        # same plain values beside them make the same version
        key = (self.catalog, self.contact, self.attention, self.pool.draws, self.pool.seed,
               self.explore, self.per_segment)
        held = self._version
        if held is not None and all(
                a is b or a == b for a, b in zip(held[0][3:], key[3:], strict=True)) and all(
                a is b for a, b in zip(held[0][:3], key[:3], strict=True)):
            return held[1]
        explore = ",".join(sorted(r.value for r in self.explore))
        digest = hashlib.sha256(
            f"{self.contact.version}|{self.attention.version}|{self.pool.draws}|"
            f"{self.pool.seed}|{explore}|{self.per_segment}".encode()).hexdigest()[:8]
        version = f"{POLICY_NAME}+{self.catalog.version}.{digest}"
        self._version = (key, version)
        return version

    def spec(self, action_id: str) -> ActionSpec | None:
        """The catalog entry of ``action_id``; an offer bound to a product is
        ``<offer id>.<product id>``."""
        if action_id in self._specs:
            return self._specs[action_id]
        spec = self.catalog.actions.get(action_id)
        if spec is None and "." in action_id:
            base, product = action_id.split(".", 1)
            offer = self.catalog.actions.get(base)
            if offer is not None and offer.kind is ActionKind.OFFER:
                spec = replace(offer, id=action_id, product_id=product)
        self._specs[action_id] = spec
        return spec

    def explores(self, spec: ActionSpec, customer: CustomerContext) -> bool:
        """Whether ``spec``'s arm may sample from its posterior for ``customer``: its risk class
        explores, and it is not a regulated credit offer to a vulnerable customer (for them
        the posterior mean decides, so no draw of luck ever puts credit in front of them)."""
        if customer.vulnerable and spec.risk is RiskClass.REGULATED_CREDIT_OFFER:
            return False
        return spec.risk in self.explore

    # -- the decision ---------------------------------------------------------------------------

    def decide(self, inputs: DecisionInputs) -> DecisionResult:
        at = require_aware(inputs.at, "at")
        customer = inputs.customer
        considered: list[Considered] = []
        kept: list[tuple[Candidate, ActionSpec]] = []
        for candidate in inputs.candidates:
            spec = self.spec(candidate.action_id)
            why = self._engagement(candidate, spec, inputs)
            if spec is None or why is not None:
                refused = why or Blocked("unknown_action", "not in the actions catalog")
                considered.append(Considered(candidate.action_id, candidate.subject, None,
                                             refused.code, refused.reason))
                continue
            kept.append((candidate, spec))
        grouped, merged = group(kept)
        considered += merged
        dismissed = len(inputs.history.dismissed)
        ignored = sum(inputs.history.ignores.values())
        capacity = self.attention.capacity_for(dismissed, ignored)
        budget = self.attention.level(inputs.history.sends, at, capacity=capacity)
        open_: list[tuple[Candidate, ActionSpec, Channel, datetime]] = []
        peaks: dict[tuple[str, datetime], int] = {}
        for candidate, spec in grouped:
            channels = self._channels(spec, candidate, customer, inputs.placement)
            if not channels:
                considered.append(Considered(
                    spec.id, candidate.subject, None, "no_channel",
                    f"none of its channels ({', '.join(c.value for c in spec.channels)}) is "
                    f"open to this customer on the {inputs.placement.value} placement"))
                continue
            for channel in channels:
                send_at = self._when(spec, candidate, customer, channel, at)
                blocked = check(
                    self.contact,
                    Request(spec.id, candidate.key, channel, send_at,
                            marketing=spec.is_marketing, cap_exempt=spec.cap_exempt,
                            consent=spec.consent.value if spec.consent else None),
                    inputs.history, timezone=customer.timezone,
                    quiet_hours=customer.quiet_hours, held=customer.held, caps=self._caps,
                    peaks=peaks)
                if blocked is None and not spec.cap_exempt and \
                        math.isinf(self.attention.bar(budget, capacity, channel)):
                    blocked = Blocked("attention", f"attention budget {budget:.2f} cannot pay "
                                                   f"the {channel.value} cost "
                                                   f"{self.attention.cost[channel]:g}")
                if blocked is not None:
                    considered.append(Considered(spec.id, candidate.subject, channel,
                                                 blocked.code, blocked.reason, send_at))
                    continue
                open_.append((candidate, spec, channel, send_at))
        bar = self.attention.bar(budget, capacity, Channel.IN_APP)
        return self._arbitrate(inputs, open_, considered, bar, budget)

    def _engagement(self, candidate: Candidate, spec: ActionSpec | None,
                    inputs: DecisionInputs) -> Blocked | None:
        customer = inputs.customer
        if spec is None:
            return Blocked("unknown_action", "not in the actions catalog")
        features = inputs.features
        for condition in spec.eligible:
            if condition.field == "vulnerable" and "vulnerable" not in features:
                features = {**features, "vulnerable": float(customer.vulnerable)}
            if condition.field not in features:
                return Blocked("not_eligible", f"feature {condition.field} is unknown for "
                                               "this customer")
            if not condition.holds(features):
                value = features[condition.field]
                return Blocked("not_eligible", f"needs {condition.describe()} (is {value:g})")
        rhythm = SUMMARIES.get(spec.detector or "")
        if rhythm is not None and rhythm != customer.rhythm:
            own = "daily summary" if customer.rhythm == "daily" else "weekly roundup"
            return Blocked("rhythm", f"a {customer.rhythm} user "
                                     f"({customer.logins_per_week:g} logins a week) gets the "
                                     f"{own}")
        holdout = in_holdout(customer.assignments)
        if holdout is not None and spec.is_marketing:
            return Blocked("holdout", f"in the global holdout of experiment {holdout}: no "
                                      "marketing")
        purpose = spec.consent.value if spec.consent else None
        if not consent.allows(customer.held, purpose):
            return Blocked("no_consent", f"the customer has not granted {purpose}")
        if LEVEL_ORDER[customer.level] < LEVEL_ORDER[spec.min_level]:
            return Blocked("level", f"needs personalization level {spec.min_level.value}, the "
                                    f"customer chose {customer.level.value}")
        if candidate.sensitive and spec.kind is ActionKind.OFFER:
            return Blocked("sensitive", "an offer never rests on sensitive data")
        return None

    def _channels(self, spec: ActionSpec, candidate: Candidate, customer: CustomerContext,
                  placement: Placement) -> list[Channel]:
        accepted = set(customer.channel_preferences) | {Channel.IN_APP}
        private = {Channel.IN_APP, Channel.EMAIL}
        usual = [c for c in placement.channels
                 if c in spec.channels and c in accepted
                 and (not candidate.sensitive or c in private)]
        return [c for c in usual if c is customer.arm_channel] or usual

    def _when(self, spec: ActionSpec, candidate: Candidate, customer: CustomerContext,
              channel: Channel, at: datetime) -> datetime:
        """Now for the feed (it waits for the next session) and for urgent or exempt messages;
        else the customer's usual login hour in the next 24 hours; either moved to the end of
        quiet hours when it falls inside them (exempt messages excepted)."""
        if channel is Channel.IN_APP or spec.cap_exempt:
            return at
        zone = ZoneInfo(customer.timezone)
        when = at
        if candidate.urgency != "high" and customer.usual_login_hour is not None:
            local = at.astimezone(zone)
            target = local.replace(hour=customer.usual_login_hour, minute=0, second=0,
                                   microsecond=0)
            if target < local:
                target = (target.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=zone)
            when = target.astimezone(at.tzinfo)
        quiet = customer.quiet_hours
        if quiet is not None and in_quiet_hours(quiet, when, customer.timezone):
            local = when.astimezone(zone)
            end = local.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0,
                                microsecond=0)
            if end <= local:
                end = (end.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=zone)
            when = end.astimezone(at.tzinfo)
        return when

    def _arbitrate(
        self,
        inputs: DecisionInputs,
        open_: Sequence[tuple[Candidate, ActionSpec, Channel, datetime]],
        considered: list[Considered],
        bar: float,
        budget: float,
    ) -> DecisionResult:
        customer = inputs.customer
        seed = _seed(inputs.decision_id)
        exempt = [o for o in open_ if o[1].cap_exempt]
        if exempt:
            best = min(exempt, key=lambda o: (_URGENCY.get(o[0].urgency, 3), -o[1].value,
                                              o[1].id, o[2].value))
            for o in open_:
                won = o is best
                considered.append(Considered(
                    o[1].id, o[0].subject, o[2], None if won else "outranked",
                    "exempt message: sent with certainty" if won else
                    f"a {best[1].id} security or legal message goes first",
                    o[3], None, 1.0 if won else 0.0))
            return self._result(inputs, best, 1.0, considered, bar, budget,
                                f"{best[1].id} is a security or legally required message, "
                                "sent ahead of everything else")
        arms = []
        weights = np.empty(len(open_))
        means = []
        for k, (candidate, spec, channel, _) in enumerate(open_):
            arm = arm_key(spec.id, channel.value, customer.segment if self.per_segment else None)
            engaged, missed = inputs.outcomes.get(arm, (0, 0))
            alpha, beta = spec.prior[0] + engaged, spec.prior[1] + missed
            arms.append((arm, alpha, beta, self.explores(spec, customer)))
            weights[k] = spec.value * spec.lever * spec.benefit * candidate.relevance
            means.append(float(alpha / (alpha + beta) * weights[k]))
        floor = None if math.isinf(bar) else bar
        if not open_:
            return self._silence(inputs, considered, 1.0, bar, budget, None)
        if floor is None:
            for (candidate, spec, channel, send_at), mean in zip(open_, means, strict=True):
                considered.append(Considered(spec.id, candidate.subject, channel, "attention",
                                             "the attention budget is spent", send_at, mean, 0.0))
            return self._silence(inputs, considered, 1.0, bar, budget, None)
        picked = choose(self.pool, arms, weights, floor=floor, row_seed=seed)
        chosen = None if picked.index == len(open_) else open_[picked.index]
        for k, ((candidate, spec, channel, send_at), mean) in enumerate(
                zip(open_, means, strict=True)):
            won = chosen is not None and k == picked.index
            share = float(picked.shares[k])
            considered.append(Considered(
                spec.id, candidate.subject, channel, None if won else "outranked",
                "chosen" if won else ("silence won" if chosen is None else
                                      f"outranked by {chosen[1].id} on {chosen[2].value}"),
                send_at, mean, share))
        if chosen is None:
            top = max(means) if means else 0.0
            return self._silence(inputs, considered, picked.pscore, bar, budget, top)
        mean = means[picked.index]
        why = (f"its expected value ({mean:.1f} points: P(engage) x value x lever x benefit) "
               f"cleared the attention bar of {bar:.1f}")
        return self._result(inputs, chosen, picked.pscore, considered, bar, budget, why)

    def _result(self, inputs: DecisionInputs,
                chosen: tuple[Candidate, ActionSpec, Channel, datetime], pscore: float,
                considered: list[Considered], bar: float, budget: float, why: str) -> (
        DecisionResult
    ):
        candidate, spec, channel, send_at = chosen
        dropped = sum(1 for c in considered if c.dropped is not None)
        local = send_at.astimezone(ZoneInfo(inputs.customer.timezone))
        many = f" (one message for {candidate.count})" if candidate.count > 1 else ""
        text = (f"Chose {spec.id}{many} by {channel.value} at {local:%Y-%m-%d %H:%M} local "
                f"because {why}; {dropped} other option(s) were dropped or outranked.")
        decision = Decision(
            inputs.decision_id, inputs.customer.customer_id, spec.action(), channel, send_at,
            pscore, self.version, text,
            relevance={"subject": candidate.subject, "relevance": candidate.relevance,
                       "insight_ids": list(candidate.insight_ids), "count": candidate.count},
        )
        return DecisionResult(decision, tuple(considered), inputs, bar, budget)

    def _silence(self, inputs: DecisionInputs, considered: list[Considered], pscore: float,
                 bar: float, budget: float, best: float | None) -> DecisionResult:
        n = len(inputs.candidates)
        if best is not None:
            text = (f"Stayed silent: drawing P(engage) from what is known, none of {n} "
                    f"candidate(s) cleared the customer's attention bar of {bar:.1f} points "
                    f"(silence's probability {pscore:.0%}; the best expected value was "
                    f"{best:.1f}).")
        elif math.isinf(bar) and any(c.dropped == "attention" for c in considered):
            text = (f"Stayed silent: the customer's attention budget ({budget:.2f}) is spent; "
                    f"{n} candidate(s) wait.")
        elif n == 0:
            text = "Stayed silent: there is nothing to say."
        else:
            codes = sorted({c.dropped for c in considered if c.dropped})
            text = (f"Stayed silent: all {n} candidate(s) were dropped "
                    f"({', '.join(codes)}).")
        decision = Decision(inputs.decision_id, inputs.customer.customer_id, None, None,
                            inputs.at, pscore, self.version, text)
        return DecisionResult(decision, tuple(considered), inputs, bar, budget)


def group(kept: Sequence[tuple[Candidate, ActionSpec]]) -> (
    tuple[list[tuple[Candidate, ActionSpec]], list[Considered]]
):
    """Near-duplicates -- candidates whose actions share a catalog ``group`` -- become one
    message: the most urgent and relevant leads and stands for the others."""
    out: list[tuple[Candidate, ActionSpec]] = []
    merged: list[Considered] = []
    groups: dict[str, list[tuple[Candidate, ActionSpec]]] = {}
    for candidate, spec in kept:
        if spec.group is None:
            out.append((candidate, spec))
        else:
            groups.setdefault(spec.group, []).append((candidate, spec))
    for name, members in groups.items():
        members.sort(key=lambda m: (_URGENCY.get(m[0].urgency, 3), -m[0].relevance, m[1].id,
                                    m[0].subject))
        lead, spec = members[0]
        ids = tuple(i for m in members for i in m[0].insight_ids)
        out.append((replace(lead, insight_ids=ids, count=sum(m[0].count for m in members)),
                    spec))
        for other, other_spec in members[1:]:
            merged.append(Considered(other_spec.id, other.subject, None, "grouped",
                                     f"folded into one {name} message led by {spec.id} "
                                     f"({lead.subject})"))
    return out, merged
