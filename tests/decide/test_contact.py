"""The contact policy: table-driven cases of each rule, and a property: no sequence of requests,
clocks and time zones ever exceeds a cap, breaks quiet hours or sends marketing without consent."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tactful.decide.contact import (
    DAY,
    WEEK,
    Blocked,
    ContactHistory,
    ContactPolicy,
    Request,
    Send,
    SensitiveEvent,
    check,
    in_quiet_hours,
    window_peak,
)
from tactful.domain.enums import Channel
from tactful.domain.records import QuietHours
from tactful.errors import ConfigError

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)
QUIET = QuietHours(time(22), time(7))
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Pacific/Auckland",
         "America/Los_Angeles", "Australia/Lord_Howe"]


def _req(channel: Channel = Channel.PUSH, at: datetime = T0, *, marketing: bool = False,
         exempt: bool = False, action: str = "spending_spike") -> Request:
    return Request(action, f"{action}:x", channel, at, marketing=marketing, cap_exempt=exempt,
                   consent="marketing" if marketing else "personalization")


NOTHING = ContactHistory()
DEFAULTS = ContactPolicy()


def _check(request: Request, history: ContactHistory = NOTHING, *,
           tz: str = "UTC", quiet: QuietHours | None = QUIET,
           held: frozenset[str] = frozenset({"personalization", "marketing"}),
           policy: ContactPolicy = DEFAULTS) -> Blocked | None:
    return check(policy, request, history, timezone=tz, quiet_hours=quiet, held=held)


def _sends(channel: Channel, *hours: float, marketing: bool = False) -> ContactHistory:
    return ContactHistory(sends=tuple(
        Send(T0 + timedelta(hours=h), channel, "spending_spike", marketing) for h in hours))


@pytest.mark.parametrize(("request_", "history", "code"), [
    (_req(), ContactHistory(), None),
    (_req(), _sends(Channel.PUSH, -1, -2), "cap"),
    (_req(), _sends(Channel.PUSH, -25, -26), None),
    (_req(), _sends(Channel.PUSH, 3, 5), "cap"),  # two already queued for later today
    (_req(Channel.EMAIL, marketing=True), _sends(Channel.EMAIL, -24 * 6, marketing=True), "cap"),
    (_req(Channel.EMAIL, marketing=True), _sends(Channel.EMAIL, -24 * 7, marketing=True), None),
    (_req(Channel.EMAIL), _sends(Channel.EMAIL, -24, marketing=True), None),  # not marketing
    (_req(Channel.SMS, marketing=True), _sends(Channel.SMS, -30, marketing=True), "cap"),
    (_req(Channel.IN_APP), _sends(Channel.IN_APP, -1, -2, -3), "cap"),  # 3 a day overall
    (_req(Channel.IN_APP), _sends(Channel.IN_APP, *(-15 * k for k in range(1, 11))), "cap"),
    (_req(exempt=True), _sends(Channel.PUSH, -1, -2, -3), None),
    (_req(at=T0.replace(hour=23)), ContactHistory(), "quiet_hours"),
    (_req(Channel.IN_APP, at=T0.replace(hour=23)), ContactHistory(), None),
    (_req(at=T0.replace(hour=23), exempt=True), ContactHistory(), None),
    (_req(), ContactHistory(dismissed=frozenset({"spending_spike:x"})), "dismissed"),
    (_req(Channel.EMAIL, marketing=True),
     ContactHistory(events=((SensitiveEvent.DECLINED_CARD, T0 - timedelta(days=2)),)),
     "suppressed"),
    (_req(Channel.EMAIL, marketing=True),
     ContactHistory(events=((SensitiveEvent.DECLINED_CARD, T0 - timedelta(days=8)),)), None),
    (_req(Channel.EMAIL),
     ContactHistory(events=((SensitiveEvent.FRAUD_ALERT, T0 - timedelta(days=2)),)), None),
    (_req(), ContactHistory(sends=_sends(Channel.IN_APP, -24 * 6).sends,
                            ignores={"spending_spike": 2}), "backoff"),
    (_req(), ContactHistory(sends=_sends(Channel.IN_APP, -24 * 8).sends,
                            ignores={"spending_spike": 2}), None),
    (_req(), ContactHistory(sends=_sends(Channel.IN_APP, -24 * 8).sends,
                            ignores={"spending_spike": 3}), "backoff"),  # doubled: 14 days
    (_req(Channel.IN_APP), ContactHistory(opted_out={Channel.IN_APP: T0 - timedelta(days=1)}),
     "opted_out"),  # the feed too: the closed loop's in-app sends after an opt-out
    (_req(Channel.PUSH), ContactHistory(opted_out={Channel.IN_APP: T0 - timedelta(days=1)}),
     None),  # another channel
    (_req(Channel.IN_APP, exempt=True),
     ContactHistory(opted_out={Channel.IN_APP: T0 - timedelta(days=1)}), None),  # security
])
def test_each_rule(request_: Request, history: ContactHistory, code: str | None) -> None:
    verdict = _check(request_, history)
    assert (verdict.code if verdict else None) == code


def test_marketing_without_the_marketing_purpose_is_refused_whatever_else_holds() -> None:
    verdict = _check(_req(Channel.IN_APP, marketing=True), held=frozenset({"personalization"}))
    assert verdict == Blocked("no_consent", "the customer has not granted marketing")


def test_quiet_hours_are_the_customers_own() -> None:
    # 23:00 UTC is midnight in Paris (quiet) and 18:00 in New York (not)
    late = T0.replace(hour=23)
    assert _check(_req(at=late), tz="Europe/Paris") is not None
    assert _check(_req(at=late), tz="America/New_York") is None
    assert in_quiet_hours(QUIET, datetime(2026, 3, 2, 6, 59, tzinfo=UTC), "UTC")
    assert not in_quiet_hours(QUIET, datetime(2026, 3, 2, 7, tzinfo=UTC), "UTC")


def test_the_window_peak_counts_the_fullest_window_holding_the_new_send() -> None:
    times = [T0 - timedelta(hours=20), T0 + timedelta(hours=20)]
    assert window_peak(times, T0, DAY) == 2  # never both with T0: they are 40 h apart
    assert window_peak([T0 + timedelta(hours=23, minutes=59)], T0, DAY) == 2
    assert window_peak([T0 + DAY], T0, DAY) == 1  # half-open


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"push_per_day": -1}, "contact policy: push_per_day must be an integer >= 0; got -1"),
    ({"overall_per_week": 2.5}, "contact policy: overall_per_week must be an integer >= 0; "
                                "got 2.5"),
    ({"backoff_days": -1.0}, "contact policy: backoff_days must be >= 0; got -1.0"),
    ({"suppression_days": {SensitiveEvent.FRAUD_ALERT: -3}},
     "contact policy: suppression_days.fraud_alert must be >= 0; got -3"),
])
def test_a_bad_policy_is_refused_naming_the_setting(kwargs: dict[str, object],
                                                    message: str) -> None:
    with pytest.raises(ConfigError) as err:
        ContactPolicy(**kwargs)  # type: ignore[arg-type]
    assert str(err.value) == message


step = st.fixed_dictionaries({
    "advance_min": st.integers(0, 36 * 60),
    "delay_min": st.integers(0, 48 * 60),
    "channel": st.sampled_from(list(Channel)),
    "kind": st.sampled_from(["marketing", "insight", "exempt"]),
    "zone": st.sampled_from(ZONES),
    "marketing_consent": st.booleans(),
})
quiet = st.one_of(st.none(), st.builds(
    QuietHours, st.builds(time, st.integers(0, 23), st.sampled_from([0, 30])),
    st.builds(time, st.integers(0, 23), st.sampled_from([0, 30]))))
policies = st.builds(
    ContactPolicy, marketing_email_per_week=st.integers(0, 2),
    marketing_sms_per_week=st.integers(0, 2), push_per_day=st.integers(0, 3),
    overall_per_day=st.integers(0, 4), overall_per_week=st.integers(0, 12))


@settings(max_examples=300, deadline=None)
@given(policy=policies, quiet_hours=quiet, steps=st.lists(step, min_size=1, max_size=60))
def test_no_sequence_exceeds_a_cap_breaks_quiet_hours_or_markets_without_consent(
    policy: ContactPolicy, quiet_hours: QuietHours | None, steps: list[dict[str, object]]
) -> None:
    now = T0
    sent: list[tuple[Send, str, bool]] = []
    for s in steps:
        now += timedelta(minutes=int(s["advance_min"]))  # type: ignore[call-overload]
        at = now + timedelta(minutes=int(s["delay_min"]))  # type: ignore[call-overload]
        kind = s["kind"]
        request = Request(f"a_{kind}", f"a_{kind}:x", s["channel"], at,  # type: ignore[arg-type]
                          marketing=kind == "marketing", cap_exempt=kind == "exempt",
                          consent={"marketing": "marketing", "insight": "personalization",
                                   "exempt": "none"}[str(kind)])
        held = frozenset({"personalization"} | ({"marketing"} if s["marketing_consent"]
                                                 else set()))
        history = ContactHistory(sends=tuple(x for x, _, _ in sent))
        zone = str(s["zone"])
        verdict = check(policy, request, history, timezone=zone, quiet_hours=quiet_hours,
                        held=held)
        # the shortcut a decision takes (caps once, window peaks shared) answers the same
        assert check(policy, request, history, timezone=zone, quiet_hours=quiet_hours,
                     held=held, caps=policy.caps(), peaks={}) == verdict
        if verdict is None:
            sent.append((request.send(now), zone, bool(s["marketing_consent"])))
    capped = [x for x, _, _ in sent if not x.cap_exempt]
    for cap in policy.caps():
        times = sorted(x.at for x in capped if cap.counts(x))
        for start in times:  # the fullest window starts at a send
            assert sum(1 for t in times if start <= t < start + cap.window) <= cap.limit
    for x, zone, marketing_ok in sent:
        assert not (x.marketing and not marketing_ok)
        if not x.cap_exempt and x.channel is not Channel.IN_APP:
            assert not in_quiet_hours(quiet_hours, x.at, zone)
    assert WEEK > DAY
