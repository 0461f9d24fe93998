"""Decisions as the log keeps them: inputs and candidates as JSON, and back.

The round trip is exact for everything a decision reads -- times keep their offset, floats their
value, enums their text -- so :func:`inputs_from_json` of :func:`inputs_to_json` replays to the
same decision (``tests/decide/test_replay.py`` holds that for every decision of a batch).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from tactful.decide.contact import ContactHistory, Send, SensitiveEvent
from tactful.decide.policy import (
    Candidate,
    Considered,
    CustomerContext,
    DecisionInputs,
    Placement,
)
from tactful.domain.enums import Channel, PersonalizationLevel
from tactful.domain.records import QuietHours


def _t(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _need(value: str | None) -> datetime:
    out = _dt(value)
    if out is None:
        raise ValueError("a logged time is missing")
    return out


def inputs_to_json(inputs: DecisionInputs) -> dict[str, Any]:
    c = inputs.customer
    h = inputs.history
    return {
        "decision_id": inputs.decision_id,
        "customer": {
            "customer_id": c.customer_id, "timezone": c.timezone, "level": c.level.value,
            "channel_preferences": [ch.value for ch in c.channel_preferences],
            "held": sorted(c.held),
            "quiet_hours": None if c.quiet_hours is None else [
                c.quiet_hours.start.isoformat(), c.quiet_hours.end.isoformat()],
            "segment": c.segment, "usual_login_hour": c.usual_login_hour,
            "logins_per_week": c.logins_per_week,
            "assignments": [list(a) for a in c.assignments],
            "arm_channel": None if c.arm_channel is None else c.arm_channel.value,
            "vulnerable": c.vulnerable,
        },
        "at": inputs.at.isoformat(),
        "placement": inputs.placement.value,
        "candidates": [
            {"action_id": k.action_id, "subject": k.subject, "relevance": k.relevance,
             "urgency": k.urgency, "sensitive": k.sensitive,
             "insight_ids": list(k.insight_ids), "count": k.count}
            for k in inputs.candidates
        ],
        "features": dict(sorted(inputs.features.items())),
        "history": {
            "sends": [
                {"at": s.at.isoformat(), "channel": s.channel.value, "action_id": s.action_id,
                 "marketing": s.marketing, "cap_exempt": s.cap_exempt,
                 "decided_at": _t(s.decided_at)}
                for s in h.sends
            ],
            "dismissed": sorted(h.dismissed),
            "ignores": dict(sorted(h.ignores.items())),
            "events": [[e.value, at.isoformat()] for e, at in h.events],
            "opted_out": {ch.value: at.isoformat() for ch, at in sorted(h.opted_out.items())},
        },
        "outcomes": {k: list(v) for k, v in sorted(inputs.outcomes.items())},
    }


def inputs_from_json(data: dict[str, Any]) -> DecisionInputs:
    c = data["customer"]
    quiet = c["quiet_hours"]
    h = data["history"]
    return DecisionInputs(
        decision_id=data["decision_id"],
        customer=CustomerContext(
            customer_id=c["customer_id"], timezone=c["timezone"],
            level=PersonalizationLevel(c["level"]),
            channel_preferences=tuple(Channel(ch) for ch in c["channel_preferences"]),
            held=frozenset(c["held"]),
            quiet_hours=None if quiet is None else QuietHours(
                time.fromisoformat(quiet[0]), time.fromisoformat(quiet[1])),
            segment=c["segment"], usual_login_hour=c["usual_login_hour"],
            logins_per_week=float(c["logins_per_week"]),
            assignments=tuple((str(e), str(a)) for e, a in c.get("assignments", [])),
            arm_channel=Channel(c["arm_channel"]) if c.get("arm_channel") else None,
            vulnerable=bool(c.get("vulnerable", False)),
        ),
        at=_need(data["at"]),
        placement=Placement(data["placement"]),
        candidates=tuple(
            Candidate(k["action_id"], k["subject"], float(k["relevance"]), k["urgency"],
                      bool(k["sensitive"]), tuple(k["insight_ids"]), int(k["count"]))
            for k in data["candidates"]
        ),
        features={k: v for k, v in data["features"].items()},
        history=ContactHistory(
            sends=tuple(
                Send(_need(s["at"]), Channel(s["channel"]), s["action_id"],
                     bool(s["marketing"]), bool(s["cap_exempt"]), _dt(s["decided_at"]))
                for s in h["sends"]
            ),
            dismissed=frozenset(h["dismissed"]),
            ignores={k: int(v) for k, v in h["ignores"].items()},
            events=tuple((SensitiveEvent(e), _need(at)) for e, at in h["events"]),
            opted_out={Channel(ch): _need(at) for ch, at in h.get("opted_out", {}).items()},
        ),
        outcomes={k: (int(v[0]), int(v[1])) for k, v in data["outcomes"].items()},
    )


def considered_to_json(considered: tuple[Considered, ...]) -> list[dict[str, Any]]:
    return [
        {"action_id": c.action_id, "subject": c.subject,
         "channel": None if c.channel is None else c.channel.value, "dropped": c.dropped,
         "reason": c.reason, "send_at": _t(c.send_at), "expected_value": c.expected_value,
         "probability": c.probability}
        for c in considered
    ]


def considered_from_json(rows: list[dict[str, Any]]) -> tuple[Considered, ...]:
    return tuple(
        Considered(r["action_id"], r["subject"],
                   None if r["channel"] is None else Channel(r["channel"]), r["dropped"],
                   r["reason"], _dt(r["send_at"]), r["expected_value"], r["probability"])
        for r in rows
    )
