"""The closed-loop records validate at construction and name the offending field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tactful.domain.actions import (
    Action,
    ActionFamily,
    Decision,
    MessageKind,
    Outcome,
    OutcomeKind,
)
from tactful.domain.enums import Channel
from tactful.errors import ValidationError

AT = datetime(2024, 3, 1, 9, tzinfo=UTC)
OFFER = Action("offer-sav", ActionFamily.PRODUCT_OFFER, product_id="P-SAV-HY")


def _decision(**kw: Any) -> Decision:
    base: dict[str, Any] = dict(
        decision_id="d1",
        customer_id="CUS-00000001",
        action=OFFER,
        channel=Channel.PUSH,
        send_at=AT,
        pscore=0.5,
        policy_version="v1",
    )
    base.update(kw)
    return Decision(**base)


def test_message_kind_follows_family() -> None:
    assert OFFER.message_kind is MessageKind.OFFER
    assert Action("a", "budget").message_kind is MessageKind.INSIGHT  # type: ignore[arg-type]
    assert Action("s", ActionFamily.SERVICE_MESSAGE).message_kind is MessageKind.SERVICE


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Action("", ActionFamily.BUDGET), "action id must be a non-empty string"),
        (lambda: Action("a", "nonsense"), "action family must be one of spending_spike"),
        (
            lambda: Action("a", ActionFamily.PRODUCT_OFFER),
            "action a: product_id is required for a product offer",
        ),
        (
            lambda: Action("a", ActionFamily.BUDGET, channel="fax"),
            "action channel must be one of in_app, email, sms, push; got 'fax'",
        ),
        (lambda: _decision(pscore=0.0), "pscore must be in (0, 1], got 0.0"),
        (lambda: _decision(pscore=1.5), "pscore must be in (0, 1], got 1.5"),
        (lambda: _decision(pscore="high"), "pscore must be a number in (0, 1], got 'high'"),
        (lambda: _decision(send_at=datetime(2024, 3, 1)), "send_at must be timezone-aware"),
        (lambda: _decision(channel=None), "decision d1: channel is required unless silent"),
        (lambda: _decision(customer_id=""), "customer_id must be a non-empty string"),
        (
            lambda: _decision(action=Action("b", ActionFamily.BUDGET, channel=Channel.EMAIL)),
            "decision d1: channel push differs from the action's channel email",
        ),
        (
            lambda: Outcome("d1", "c", OutcomeKind.RATING, AT),
            "outcome of decision d1: a rating needs a value",
        ),
        (lambda: Outcome("d1", "c", "wink", AT),
         "outcome kind must be one of delivered, impression"),
        (
            lambda: Outcome("d1", "c", OutcomeKind.OPEN, datetime(2024, 1, 1)),
            "outcome time must be timezone-aware",
        ),
    ],
)
def test_invalid_records(make: Any, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        make()
    assert str(err.value).startswith(message)


def test_silence_needs_no_channel() -> None:
    d = _decision(action=None, channel=None)
    assert d.is_silence
