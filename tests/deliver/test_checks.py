"""The send-time checks, table-driven: consent, opt-outs, quiet hours, erasure."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from tactful.deliver.checks import CustomerState, verdict
from tactful.domain.records import QuietHours

NOON = datetime(2026, 3, 2, 11, tzinfo=UTC)  # 12:00 in Paris
NIGHT = datetime(2026, 3, 2, 22, 30, tzinfo=UTC)  # 23:30 in Paris
PARIS = CustomerState(frozenset({"personalization"}), frozenset({"in_app", "push"}),
                      "Europe/Paris", QuietHours(time(22), time(7)))


@pytest.mark.parametrize(("channel", "purpose", "exempt", "now", "expected"), [
    ("push", "personalization", False, NOON, "go"),
    ("push", "marketing", False, NOON,
     "cancel: consent withdrawn: the customer no longer holds marketing"),
    ("push", None, True, NOON, "go"),
    ("email", "personalization", False, NOON,
     "cancel: opted out: the customer no longer accepts email"),
    ("push", "personalization", False, NIGHT, "defer: 2026-03-03T07:00:00+01:00"),
    ("push", "personalization", True, NIGHT, "go"),  # a security message ignores quiet hours
    ("in_app", "personalization", False, NIGHT, "go"),  # the feed waits for the customer
    ("in_app", "marketing", False, NIGHT,
     "cancel: consent withdrawn: the customer no longer holds marketing"),
])
def test_verdicts(channel: str, purpose: str | None, exempt: bool, now: datetime,
                  expected: str) -> None:
    v = verdict(channel=channel, consent_purpose=purpose, cap_exempt=exempt, customer=PARIS,
                now=now)
    got = ("go" if v.go else f"cancel: {v.cancel}" if v.cancel
           else f"defer: {v.defer_until.isoformat() if v.defer_until else None}")
    assert got == expected


def test_an_erased_customer_gets_nothing() -> None:
    v = verdict(channel="in_app", consent_purpose=None, cap_exempt=True, customer=None, now=NOON)
    assert v.cancel == "the customer is no longer in the store"
