"""The send-time checks: may this message still go now, to this customer, on this channel?

A decision is taken at one moment and its message may go hours later. Between the two the
customer may withdraw a consent, drop a channel from their preferences or enter their quiet
hours. So the worker asks again, at the moment of sending, with the customer's state as it is
then: a missing consent or an opted-out channel cancels the message (for good: the decision was
made on a premise that no longer holds), quiet hours defer it to their end. The consent rule is
asked of ``trust.consent`` (the one door), the quiet hours of the contact policy's own
``in_quiet_hours``; nothing is re-implemented here.

Pure: :func:`verdict` takes the message and the customer's state and returns a :class:`Verdict`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tactful.decide.contact import in_quiet_hours
from tactful.domain.enums import Channel
from tactful.domain.records import QuietHours
from tactful.trust import consent

__all__ = ["CustomerState", "Verdict", "quiet_hours_end", "verdict"]


@dataclass(frozen=True, slots=True)
class CustomerState:
    """What the checks read of a customer, as of the moment of sending."""

    held: frozenset[str]
    """The consent purposes the customer holds now."""
    channels: frozenset[str]
    """The channels the customer accepts (their preferences)."""
    timezone: str
    quiet_hours: QuietHours | None


@dataclass(frozen=True, slots=True)
class Verdict:
    """``go``; or ``cancel`` with the reason; or ``defer_until`` a moment."""

    go: bool
    cancel: str | None = None
    defer_until: datetime | None = None


GO = Verdict(go=True)


def quiet_hours_end(quiet: QuietHours, at: datetime, timezone: str) -> datetime:
    """The first moment after ``at`` outside ``quiet`` (the end of the window ``at`` is in), as
    an aware UTC-comparable time; a clock change on the way is the zone's to resolve."""
    zone = ZoneInfo(timezone)
    local = at.astimezone(zone)
    end = local.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.replace(tzinfo=None).replace(tzinfo=zone)


def verdict(*, channel: str, consent_purpose: str | None, cap_exempt: bool,
            customer: CustomerState | None, now: datetime,
            opt_out_exempt: Collection[str] = (Channel.IN_APP.value,)) -> Verdict:
    """Whether a message may go ``now``.

    >>> from datetime import UTC, time
    >>> c = CustomerState(frozenset({"personalization"}), frozenset({"in_app", "push"}),
    ...                   "Europe/Paris", QuietHours(time(22), time(7)))
    >>> verdict(channel="push", consent_purpose="marketing", cap_exempt=False, customer=c,
    ...         now=datetime(2026, 3, 2, 12, tzinfo=UTC)).cancel
    'consent withdrawn: the customer no longer holds marketing'
    >>> verdict(channel="push", consent_purpose="personalization", cap_exempt=False,
    ...         customer=c, now=datetime(2026, 3, 2, 22, tzinfo=UTC)).defer_until.isoformat()
    '2026-03-03T07:00:00+01:00'
    """
    if customer is None:
        return Verdict(go=False, cancel="the customer is no longer in the store")
    if not consent.allows(customer.held, consent_purpose):
        return Verdict(go=False, cancel=f"consent withdrawn: the customer no longer holds "
                                        f"{consent_purpose}")
    if channel not in opt_out_exempt and channel not in customer.channels:
        return Verdict(go=False, cancel=f"opted out: the customer no longer accepts {channel}")
    if (not cap_exempt and channel != Channel.IN_APP.value and customer.quiet_hours is not None
            and in_quiet_hours(customer.quiet_hours, now, customer.timezone)):
        return Verdict(go=False, defer_until=quiet_hours_end(customer.quiet_hours, now,
                                                             customer.timezone))
    return GO
