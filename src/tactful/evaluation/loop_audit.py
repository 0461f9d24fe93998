"""An auditor of the contact policy that shares no code with it: counts every message an arm
decided that breaks a rule, whatever the arm believed.

The rules are the issue's defaults, re-implemented here from their wording so a bug in
``decide/contact.py`` cannot hide itself: per customer, no more than 3 messages in any 24 hours
and 10 in any 7 days, 2 pushes in any 24 hours, one marketing email and one marketing SMS in any
7 days (security and legally required messages exempt); nothing but the in-app feed (and exempt
messages) in the customer's quiet hours, in their own time zone; no message needing a consent
the customer has not granted. Sends on a channel after the customer opted out of it are counted
apart (``after an opt-out``): re-checking opt-outs at send time is the delivery layer's job
(issue 20), not the contact policy's.

A message over a cap counts once per cap it breaks: the count of messages in the window ending
with it (itself included) exceeds the limit.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from tactful.domain.enums import Channel
from tactful.domain.records import QuietHours
from tactful.evaluation.loop_arms import Sent

OPT_OUT_RULE: Final = "after an opt-out"
DAY: Final = timedelta(hours=24)
WEEK: Final = timedelta(days=7)
Counts = Callable[[Sent], bool]
CAPS: Final[tuple[tuple[str, timedelta, int, Counts], ...]] = (
    ("messages per 24 h > 3", DAY, 3, lambda s: True),
    ("messages per 7 days > 10", WEEK, 10, lambda s: True),
    ("pushes per 24 h > 2", DAY, 2, lambda s: s.decision.channel is Channel.PUSH),
    ("marketing emails per 7 days > 1", WEEK, 1,
     lambda s: s.marketing and s.decision.channel is Channel.EMAIL),
    ("marketing SMS per 7 days > 1", WEEK, 1,
     lambda s: s.marketing and s.decision.channel is Channel.SMS),
)


def violations(sent: Iterable[Sent], *, timezone: str, quiet: QuietHours | None,
               held: frozenset[str],
               opted_out_at: Mapping[Channel, datetime] | None = None) -> Counter[str]:
    """Rule -> messages of one customer that break it."""
    out: Counter[str] = Counter()
    messages = sorted(sent, key=lambda s: s.decision.send_at)
    zone = ZoneInfo(timezone)
    for s in messages:
        channel = s.decision.channel
        if s.consent not in (None, "none") and s.consent not in held:
            out[f"without {s.consent} consent"] += 1
        if opted_out_at and channel is not None and channel in opted_out_at and \
                s.decision.send_at > opted_out_at[channel]:
            out[OPT_OUT_RULE] += 1
        if s.cap_exempt:
            continue
        if channel is not Channel.IN_APP and quiet is not None:
            local = s.decision.send_at.astimezone(zone).time()
            inside = (quiet.start <= local < quiet.end) if quiet.start <= quiet.end else (
                local >= quiet.start or local < quiet.end)
            if inside:
                out["in quiet hours"] += 1
    counted = [s for s in messages if not s.cap_exempt]
    for name, window, limit, counts in CAPS:
        times = [s.decision.send_at for s in counted if counts(s)]
        for k, t in enumerate(times):
            if k + 1 - bisect_left(times, t - window + timedelta(microseconds=1)) > limit:
                out[name] += 1
    return out
