"""The policies the closed loop compares, each deciding from the engine's view of its own fork.

- ``none``: never says anything (the counterfactual every uplift is measured against);
- ``random``: at each scan, silence with probability one half, else one of the live findings
  and offers on one of its channels the customer accepts, uniformly -- the randomized logging
  policy whose exact ``pscore`` makes off-policy estimates possible;
- ``rules``: today's behaviour -- every new finding goes out at once, on its first channel (the
  in-app feed), first come first served, with no offers, caps or arbitration;
- ``tactful``: the engine's :class:`~tactful.decide.policy.DecisionPolicy`, learning P(engage)
  from what the world answers: a message opened (or clicked) and not dismissed engaged, any
  other delivered message did not -- the catalog's priors (10-30%) are of that order, where a
  click (2-3% of deliveries here) would put nearly every message under the attention bar;
- ``oracle``: reads the world's hidden needs (``latent.help_probability``) and the customer's
  true channel affinity, and sends only the message most likely to convert when it probably
  helps, on the channel most likely to be read; it keeps the contact policy (via the engine's
  check) so it is a bound on what *knowing the customer* is worth, not on breaking rules.

Every arm keeps its memory of the past in an :class:`ArmLog` (what it sent, what was
dismissed, ignored or opted out of), fed only by the outcomes its own fork answered.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Protocol
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from tactful.decide.bandit import arm_key
from tactful.decide.catalog import ActionsCatalog, ActionSpec
from tactful.decide.contact import ContactHistory, ContactPolicy, Request, SensitiveEvent, check
from tactful.decide.placement import Placement
from tactful.decide.policy import Candidate, DecisionInputs, DecisionPolicy, decision_id
from tactful.domain.actions import Decision, MessageKind, Outcome, OutcomeKind
from tactful.domain.enums import Channel
from tactful.evaluation.loop_view import Person, View, channel_index
from tactful.simulate.truth.response import BASE_OPEN
from tactful.simulate.world.latent import PRODUCT_GROUP, help_probability
from tactful.simulate.world.respond import BASE_CONVERT, LIFT, REPEAT_DECAY

HISTORY_DAYS: Final = 35
RANDOM_SILENCE: Final = 0.5
ORACLE_HELP: Final = 0.2
"""The oracle speaks only when the message helps with at least this probability."""


@dataclass(frozen=True, slots=True)
class Sent:
    """A message an arm decided, with what the auditor needs to judge it."""

    decision: Decision
    day: int
    key: str
    marketing: bool
    cap_exempt: bool
    consent: str | None


@dataclass(frozen=True, slots=True)
class Logged:
    """One decision of a randomized arm as an off-policy log row: the options it had, the one
    it took (``None``: silence) and its probability."""

    customer_id: str
    day: int
    options: tuple[tuple[str, str], ...]
    """(action id, channel) of every option, in the order the arm drew from."""
    chosen: int
    """Index into ``options``; ``len(options)`` is silence."""
    pscore: float
    decision_id: str | None


@dataclass(slots=True)
class ArmLog:
    """An arm's memory: what it sent and what the customers did about it."""

    sent: dict[str, list[Sent]] = field(default_factory=lambda: defaultdict(list))
    dismissed: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    ignores: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    opted_out: dict[str, set[Channel]] = field(default_factory=lambda: defaultdict(set))
    opted_out_at: dict[tuple[str, Channel], datetime] = field(default_factory=dict)
    shown: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    moments: int = 0
    silent: int = 0
    by_id: dict[str, Sent] = field(default_factory=dict)
    outcomes: dict[str, set[OutcomeKind]] = field(default_factory=lambda: defaultdict(set))
    rows: list[Logged] = field(default_factory=list)

    def record(self, sent: Sent) -> None:
        self.sent[sent.decision.customer_id].append(sent)
        self.by_id[sent.decision.decision_id] = sent

    def history(self, view: View, person: Person, catalog: DecisionPolicy, day: int,
                at: datetime) -> ContactHistory:
        cid = person.customer_id
        since = at - timedelta(days=HISTORY_DAYS)
        sends = tuple(
            Request(s.decision.action.id if s.decision.action else "", s.key,
                    s.decision.channel or Channel.IN_APP, s.decision.send_at, s.marketing,
                    s.cap_exempt).send(decided_at=s.decision.send_at)
            for s in self.sent.get(cid, []) if s.decision.send_at >= since)
        zone = ZoneInfo(person.timezone)
        start = view.world.config.start
        events = tuple(
            (SensitiveEvent.OVERDRAFT_FEE,
             datetime.combine(start + timedelta(days=d), datetime.min.time(), zone)
             + timedelta(hours=23))
            for d in view.overdrawn_days(person, day))
        del catalog
        opted = {ch: when for (c, ch), when in self.opted_out_at.items() if c == cid}
        return ContactHistory(sends, frozenset(self.dismissed.get(cid, set())),
                              dict(self.ignores.get(cid, {})), events, opted)

    def learn(self, outcomes: list[Outcome]) -> dict[str, tuple[int, int]]:
        """File the outcomes; returns the bandit evidence they add (arm -> engaged, missed)."""
        seen: dict[str, set[OutcomeKind]] = defaultdict(set)
        for o in outcomes:
            seen[o.decision_id].add(o.kind)
            self.outcomes[o.decision_id].add(o.kind)
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for did, kinds in seen.items():
            s = self.by_id.get(did)
            if s is None or s.decision.action is None or s.decision.channel is None:
                continue
            cid, action = s.decision.customer_id, s.decision.action.id
            if OutcomeKind.DISMISS in kinds:
                self.dismissed[cid].add(s.key)
            if OutcomeKind.OPT_OUT in kinds:
                self.opted_out[cid].add(s.decision.channel)
                self.opted_out_at.setdefault((cid, s.decision.channel), s.decision.send_at)
            streak = self.ignores[cid]
            if kinds & {OutcomeKind.OPEN, OutcomeKind.CLICK}:
                streak.pop(action, None)
            else:
                streak[action] = streak.get(action, 0) + 1
            engaged = bool(kinds & {OutcomeKind.OPEN, OutcomeKind.CLICK}) and \
                OutcomeKind.DISMISS not in kinds
            counts[arm_key(action, s.decision.channel.value)][0 if engaged else 1] += 1
        return {k: (v[0], v[1]) for k, v in counts.items()}


class Arm(Protocol):
    name: str
    log: ArmLog

    def decide(self, view: View, person: Person, day: int, at: datetime) -> list[Decision]: ...

    def learn(self, outcomes: list[Outcome]) -> None: ...


def _sent(spec: ActionSpec, d: Decision, day: int, subject: str) -> Sent:
    return Sent(d, day, f"{spec.id}:{subject}", spec.is_marketing, spec.cap_exempt,
                spec.consent.value if spec.consent else None)


class _Base:
    name = "base"

    def __init__(self, catalog: ActionsCatalog, seed: int) -> None:
        self.catalog = catalog
        self.policy = DecisionPolicy(catalog)
        self.seed = seed
        self.log = ArmLog()

    def learn(self, outcomes: list[Outcome]) -> None:
        self.log.learn(outcomes)

    def _spec(self, action_id: str) -> ActionSpec:
        spec = self.policy.spec(action_id)
        if spec is None:
            raise KeyError(action_id)
        return spec

    def _decision(self, person: Person, spec: ActionSpec, candidate: Candidate,
                  channel: Channel, at: datetime, pscore: float, day: int, n: int = 0) -> (
        Decision
    ):
        did = f"{self.name}-{person.customer_id}-{day}-{n}"
        d = Decision(did, person.customer_id, spec.action(), channel, at, pscore, self.name,
                     relevance={"subject": candidate.subject})
        self.log.record(_sent(spec, d, day, candidate.subject))
        return d


class NoMessages(_Base):
    name = "none"

    def decide(self, view: View, person: Person, day: int, at: datetime) -> list[Decision]:
        self.log.moments += 1
        self.log.silent += 1
        return []


class RulesOnly(_Base):
    name = "rules"

    def decide(self, view: View, person: Person, day: int, at: datetime) -> list[Decision]:
        self.log.moments += 1
        candidates, _ = view.scan(person, day)
        shown = self.log.shown[person.customer_id]
        out: list[Decision] = []
        if "personalization" in person.held:
            for candidate in candidates:
                spec = self._spec(candidate.action_id)
                if spec.kind.value == "offer" or candidate.key in shown:
                    continue
                shown.add(candidate.key)
                out.append(self._decision(person, spec, candidate, spec.channels[0], at, 1.0,
                                          day, len(out)))
        self.log.silent += not out
        return out


class RandomPolicy(_Base):
    name = "random"

    def decide(self, view: View, person: Person, day: int, at: datetime) -> list[Decision]:
        self.log.moments += 1
        candidates, _ = view.scan(person, day)
        options = random_options(self, person, candidates)
        key = f"{self.seed}|{person.customer_id}|{day}"
        u = _uniform(key + "|silence")
        v = int.from_bytes(hashlib.sha256(key.encode()).digest()[8:16], "little")
        names = tuple((c.action_id, ch.value) for c, ch in options)
        if u < RANDOM_SILENCE or not options:
            self.log.silent += 1
            self.log.rows.append(Logged(person.customer_id, day, names, len(options),
                                        RANDOM_SILENCE if options else 1.0, None))
            return []
        k = v % len(options)
        p = (1 - RANDOM_SILENCE) / len(options)
        candidate, channel = options[k]
        d = self._decision(person, self._spec(candidate.action_id), candidate, channel, at, p,
                           day)
        self.log.rows.append(Logged(person.customer_id, day, names, k, p, d.decision_id))
        return [d]


class Tactful(_Base):
    name = "tactful"

    def __init__(self, catalog: ActionsCatalog, seed: int,
                 policy: DecisionPolicy | None = None) -> None:
        super().__init__(catalog, seed)
        if policy is not None:
            self.policy = policy
        self.counts: dict[str, tuple[int, int]] = {}

    def decide(self, view: View, person: Person, day: int, at: datetime) -> list[Decision]:
        self.log.moments += 1
        candidates, features = view.scan(person, day)
        context = view.context(person, frozenset(self.log.opted_out.get(person.customer_id,
                                                                        set())))
        inputs = DecisionInputs(
            decision_id(person.customer_id, at, Placement.OUTBOUND.value), context, at,
            Placement.OUTBOUND, tuple(candidates), features,
            self.log.history(view, person, self.policy, day, at), self.counts)
        result = self.policy.decide(inputs)
        d = result.decision
        if d.is_silence or d.action is None:
            self.log.silent += 1
            return []
        spec = self._spec(d.action.id)
        subject = str(d.relevance.get("subject", ""))
        self.log.record(_sent(spec, d, day, subject))
        return [d]

    def learn(self, outcomes: list[Outcome]) -> None:
        for arm, (engaged, missed) in self.log.learn(outcomes).items():
            e, m = self.counts.get(arm, (0, 0))
            self.counts[arm] = (e + engaged, m + missed)


class ValueFirst(_Base):
    """The off-policy target: silent as often as the random policy, otherwise an option drawn
    with probability proportional to its catalog value (twice that in the app) -- a policy
    that favours what the bank values, close enough to the logging policy for its logs to
    speak for it."""

    name = "value_first"

    def decide(self, view: View, person: Person, day: int, at: datetime) -> list[Decision]:
        self.log.moments += 1
        candidates, _ = view.scan(person, day)
        options = random_options(self, person, candidates)
        probs = value_first([(c.action_id, ch.value) for c, ch in options], self.policy)
        u = _uniform(f"{self.seed}|value|{person.customer_id}|{day}")
        if not options or u < probs[-1]:
            self.log.silent += 1
            return []
        k = int(np.searchsorted(np.cumsum(probs[:-1]), u - probs[-1], side="right"))
        k = min(k, len(options) - 1)
        candidate, channel = options[k]
        return [self._decision(person, self._spec(candidate.action_id), candidate, channel, at,
                               float(probs[k]), day)]


def _uniform(key: str) -> float:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little") / 2**64


def random_options(arm: _Base, person: Person, candidates: list[Candidate]) -> (
    list[tuple[Candidate, Channel]]
):
    """What the random policy draws from: every candidate on every channel of its action the
    customer accepts (and has not opted out of)."""
    accepted = set(person.preferences) | {Channel.IN_APP}
    accepted -= arm.log.opted_out.get(person.customer_id, set())
    return [(c, ch) for c in candidates for ch in arm._spec(c.action_id).channels
            if ch in accepted]


def value_first(options: list[tuple[str, str]], policy: DecisionPolicy) -> (
    npt.NDArray[np.float64]
):
    """The target policy's probabilities over ``options`` and silence (last): silence with the
    random policy's probability, the rest in proportion to catalog value, doubled in the app."""
    if not options:
        return np.array([1.0])
    w = np.array([_worth(policy, a) * (2.0 if ch == Channel.IN_APP.value else 1.0)
                  for a, ch in options])
    return np.append((1 - RANDOM_SILENCE) * w / w.sum(), RANDOM_SILENCE)


def _worth(policy: DecisionPolicy, action_id: str) -> float:
    spec = policy.spec(action_id)
    return float(spec.value) if spec is not None else 0.0


class Oracle(_Base):
    name = "oracle"

    def __init__(self, catalog: ActionsCatalog, seed: int) -> None:
        super().__init__(catalog, seed)
        self.contact = ContactPolicy()

    def decide(self, view: View, person: Person, day: int, at: datetime) -> list[Decision]:
        self.log.moments += 1
        candidates, _ = view.scan(person, day)
        c, lat = view.plan_of(person)
        i, g, st = person.pos, person.g, view.world.state
        n30 = st.recent(st.messages, g, day, 30)
        history = self.log.history(view, person, self.policy, day, at)
        best: tuple[float, Candidate, ActionSpec, Channel, datetime] | None = None
        for candidate in candidates:
            spec = self._spec(candidate.action_id)
            if spec.consent is not None and spec.consent.value not in ("none",) and \
                    spec.consent.value not in person.held:
                continue
            group = PRODUCT_GROUP.get(spec.product_id or "")
            holds = group is not None and group < 5 and bool(
                st.holds[g * 6 + {0: 1, 1: 2, 2: 3, 3: 4, 4: 5}[group]])
            helps = help_probability(lat, c, i, day, spec.family, group, holds)
            if helps < ORACLE_HELP:
                continue
            kind = spec.action().message_kind or MessageKind.INSIGHT
            p_conv = BASE_CONVERT[kind] * (1 + (LIFT - 1) * helps) / (1 + REPEAT_DECAY * n30)
            for channel in spec.channels:
                ch = channel_index(channel)
                if st.opted_out[g, ch] or c.affinity[i, ch] <= 0 or (
                        channel not in person.preferences and channel is not Channel.IN_APP):
                    continue
                when = at if channel is Channel.IN_APP else _read_time(at, person)
                score = min(0.95, BASE_OPEN[channel.value] * float(c.affinity[i, ch])) * p_conv
                if best is not None and score <= best[0]:
                    continue
                if check(self.contact, Request(spec.id, candidate.key, channel, when,
                                               spec.is_marketing, spec.cap_exempt,
                                               spec.consent.value if spec.consent else None),
                         history, timezone=person.timezone, quiet_hours=person.quiet,
                         held=person.held) is None:
                    best = (score, candidate, spec, channel, when)
        if best is None:
            self.log.silent += 1
            return []
        _, candidate, spec, channel, when = best
        return [self._decision(person, spec, candidate, channel, when, 1.0, day)]


def _read_time(at: datetime, person: Person) -> datetime:
    """The customer's reading hour on the scan day (or the next, if it has passed)."""
    local = at.astimezone(ZoneInfo(person.timezone))
    target = local.replace(hour=person.read_hour, minute=0)
    if target < local:
        target = target + timedelta(days=1)
    return target
