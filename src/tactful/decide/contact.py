"""The contact policy: whether one message may reach a customer on a channel at a moment.

Pure: given the policy, the request, what was already sent and what the customer did, it answers
"yes" (None) or "no, because ..." (a :class:`Blocked`). It enforces

- consent: marketing only with the marketing purpose granted, asked through ``trust.consent``
  (the one door), never re-implemented here;
- opt-outs: nothing on a channel the customer opted out of through a message's outcome (an
  opt-out withdraws marketing everywhere, see ``measure.outcomes``, and closes the channel it
  came from for everything but exempt messages -- the in-app feed included: a customer who
  opted out in the app is not shown the next insight card there);
- no repeat of a dismissed item, and back-off after repeated ignores (each further ignore
  doubles the wait);
- suppression windows after sensitive events (a declined card, a fraud alert, an overdraft fee,
  a missed income): no marketing for a configurable time;
- quiet hours in the customer's own time zone, for every channel that interrupts (all but the
  in-app feed, which waits for the customer to open the app);
- caps per channel and overall, per day and per week.

A "day" and a "week" are *rolling* windows of 24 and 168 hours, not calendar days: no window of
that length anywhere on the time line holds more than the cap. That is stricter than a calendar
day in any zone, so a customer who flies across time zones, or a clock change, cannot open a
gap in which the cap is met twice.

Messages the catalog marks ``cap_exempt`` (legally required and security messages) pass the caps,
the quiet hours and the attention budget, but never consent: their purpose is ``none``.

>>> from datetime import UTC, datetime
>>> policy = ContactPolicy()
>>> r = Request("offer_savings.P-SAV-HY", "offer_savings.P-SAV-HY:P-SAV-HY", Channel.EMAIL,
...             datetime(2026, 3, 2, 9, tzinfo=UTC), marketing=True, consent="marketing")
>>> check(policy, r, ContactHistory(), timezone="Europe/Paris", quiet_hours=None,
...       held=frozenset()).code
'no_consent'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

from tactful.domain.enums import Channel
from tactful.domain.records import QuietHours, require_aware
from tactful.errors import ConfigError
from tactful.trust import consent

DAY: Final = timedelta(hours=24)
WEEK: Final = timedelta(days=7)


class SensitiveEvent(StrEnum):
    DECLINED_CARD = "declined_card"
    FRAUD_ALERT = "fraud_alert"
    OVERDRAFT_FEE = "overdraft_fee"
    MISSED_INCOME = "missed_income"


def _default_suppression() -> dict[SensitiveEvent, float]:
    return {
        SensitiveEvent.DECLINED_CARD: 7.0,
        SensitiveEvent.FRAUD_ALERT: 14.0,
        SensitiveEvent.OVERDRAFT_FEE: 7.0,
        SensitiveEvent.MISSED_INCOME: 14.0,
    }


@dataclass(frozen=True, slots=True)
class ContactPolicy:
    """The bank's contact rules. Every count is a maximum in a rolling window; days are
    fractional days."""

    marketing_email_per_week: int = 1
    marketing_sms_per_week: int = 1
    push_per_day: int = 2
    overall_per_day: int = 3
    overall_per_week: int = 10
    suppression_days: Mapping[SensitiveEvent, float] = field(
        default_factory=_default_suppression)
    """After each sensitive event, no marketing for this many days."""
    ignores_before_backoff: int = 2
    backoff_days: float = 7.0
    """After ``ignores_before_backoff`` ignored sends of an action, wait this long since its
    last send, doubling with every further ignore."""

    def __post_init__(self) -> None:
        for name in ("marketing_email_per_week", "marketing_sms_per_week", "push_per_day",
                     "overall_per_day", "overall_per_week", "ignores_before_backoff"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"contact policy: {name} must be an integer >= 0; "
                                  f"got {value!r}")
        if self.backoff_days < 0:
            raise ConfigError(f"contact policy: backoff_days must be >= 0; "
                              f"got {self.backoff_days!r}")
        for event, days in self.suppression_days.items():
            SensitiveEvent(event)
            if days < 0:
                raise ConfigError(f"contact policy: suppression_days.{event} must be >= 0; "
                                  f"got {days!r}")

    @property
    def version(self) -> str:
        """A digest of every setting: part of the policy version a decision logs."""
        data = {
            "email": self.marketing_email_per_week, "sms": self.marketing_sms_per_week,
            "push": self.push_per_day, "day": self.overall_per_day,
            "week": self.overall_per_week, "ignores": self.ignores_before_backoff,
            "backoff": self.backoff_days,
            "suppression": {str(k): v for k, v in sorted(self.suppression_days.items())},
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:8]

    def caps(self) -> tuple[Cap, ...]:
        return (
            Cap("marketing email per week", WEEK, self.marketing_email_per_week,
                lambda s: s.marketing and s.channel is Channel.EMAIL),
            Cap("marketing SMS per week", WEEK, self.marketing_sms_per_week,
                lambda s: s.marketing and s.channel is Channel.SMS),
            Cap("push per day", DAY, self.push_per_day, lambda s: s.channel is Channel.PUSH),
            Cap("messages per day", DAY, self.overall_per_day, lambda _s: True),
            Cap("messages per week", WEEK, self.overall_per_week, lambda _s: True),
        )


@dataclass(frozen=True, slots=True)
class Send:
    """A message already decided for the customer: ``at`` is when it goes (or went) out,
    ``decided_at`` when it was decided."""

    at: datetime
    channel: Channel
    action_id: str
    marketing: bool = False
    cap_exempt: bool = False
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ContactHistory:
    """What the contact policy needs to know of the past."""

    sends: tuple[Send, ...] = ()
    dismissed: frozenset[str] = frozenset()
    """Keys (``action:subject``) of items the customer dismissed."""
    ignores: Mapping[str, int] = field(default_factory=dict)
    """Action id -> how many of its latest sends in a row the customer ignored."""
    events: tuple[tuple[SensitiveEvent, datetime], ...] = ()
    opted_out: Mapping[Channel, datetime] = field(default_factory=dict)
    """Channel -> when the customer first opted out on it (an ``opt_out`` outcome of a message
    sent there): from then on only exempt messages go on that channel."""


@dataclass(frozen=True, slots=True)
class Request:
    """One message the decision would like to send."""

    action_id: str
    key: str
    """``action:subject``: what a dismissal refers to."""
    channel: Channel
    send_at: datetime
    marketing: bool = False
    cap_exempt: bool = False
    consent: str | None = None
    """The consent purpose it needs (``None`` or ``"none"``: none)."""

    def send(self, decided_at: datetime | None = None) -> Send:
        return Send(self.send_at, self.channel, self.action_id, self.marketing,
                    self.cap_exempt, decided_at)


@dataclass(frozen=True, slots=True)
class Blocked:
    """Why a request may not go: a machine code and a sentence for the audit log."""

    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class Cap:
    name: str
    window: timedelta
    limit: int
    counts: Callable[[Send], bool]


def window_peak(times: Collection[datetime], at: datetime, window: timedelta) -> int:
    """The most sends of ``times`` any window of length ``window`` holding ``at`` contains,
    ``at`` included. Windows are half-open ``[start, start + window)``; the fullest one holding
    ``at`` starts at ``at`` or at a send in ``(at - window, at]`` (sliding a window's start
    forward to its first send never loses one)."""
    near = sorted(t for t in times if at - window < t < at + window)
    starts = [t for t in near if t <= at] + [at]
    best = 0
    for start in starts:
        end = start + window
        best = max(best, sum(1 for t in near if start <= t < end))
    return best + 1


def in_quiet_hours(quiet: QuietHours | None, at: datetime, timezone: str) -> bool:
    if quiet is None:
        return False
    return quiet.contains(at.astimezone(ZoneInfo(timezone)).time())


def check(
    policy: ContactPolicy,
    request: Request,
    history: ContactHistory,
    *,
    timezone: str,
    quiet_hours: QuietHours | None,
    held: Collection[str],
    caps: Sequence[Cap] | None = None,
    peaks: dict[tuple[str, datetime], int] | None = None,
) -> Blocked | None:
    """None if ``request`` may go, else why not (the first rule it breaks, in the order of the
    module docstring).

    A caller checking many requests against one history may pass ``policy.caps()`` once and a
    ``peaks`` dict it keeps for that history: the fullest window of a cap at a moment is the
    same for every request counted by the cap, so it is computed once."""
    at = require_aware(request.send_at, "send_at")
    if not consent.allows(held, request.consent):
        return Blocked("no_consent", f"the customer has not granted {request.consent}")
    since = history.opted_out.get(request.channel)
    if since is not None and not request.cap_exempt:
        return Blocked("opted_out", f"the customer opted out of {request.channel.value} "
                                    f"messages on {since:%Y-%m-%d}")
    if request.key in history.dismissed:
        return Blocked("dismissed", "the customer dismissed this item")
    if request.marketing:
        for event, when in history.events:
            days = policy.suppression_days.get(event, 0.0)
            if when <= at < when + timedelta(days=days):
                return Blocked("suppressed", f"no marketing for {days:g} days after "
                                             f"{event.value.replace('_', ' ')} on {when:%Y-%m-%d}")
    ignored = history.ignores.get(request.action_id, 0)
    if ignored >= policy.ignores_before_backoff > 0:
        wait = timedelta(days=policy.backoff_days * 2 ** (ignored - policy.ignores_before_backoff))
        last = max((s.at for s in history.sends if s.action_id == request.action_id),
                   default=None)
        if last is not None and at < last + wait:
            return Blocked("backoff", f"ignored {ignored} times in a row: waiting until "
                                      f"{last + wait:%Y-%m-%d}")
    if request.cap_exempt:
        return None
    if (request.channel is not Channel.IN_APP and quiet_hours is not None
            and in_quiet_hours(quiet_hours, at, timezone)):
        return Blocked("quiet_hours", f"{at.astimezone(ZoneInfo(timezone)):%H:%M} is within "
                                      f"the customer's quiet hours {quiet_hours.start:%H:%M}-"
                                      f"{quiet_hours.end:%H:%M}")
    sent = request.send()
    for cap in policy.caps() if caps is None else caps:
        if not cap.counts(sent):
            continue
        peak = None if peaks is None else peaks.get((cap.name, at))
        if peak is None:
            times = [s.at for s in history.sends if not s.cap_exempt and cap.counts(s)]
            peak = window_peak(times, at, cap.window)
            if peaks is not None:
                peaks[(cap.name, at)] = peak
        if peak > cap.limit:
            return Blocked("cap", f"cap reached: {cap.limit} {cap.name}")
    return None
