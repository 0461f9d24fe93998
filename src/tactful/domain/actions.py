"""Typed records of the closed loop: what the engine decides and what customers do about it.

A ``Decision`` is one choice for one customer at one moment -- an ``Action`` on a channel, or
silence (``action is None``) -- logged with the probability its policy gave that choice
(``pscore``), without which no off-policy estimate is possible. An ``Outcome`` is something the
customer did about a decision (saw it, opened it, clicked, converted, dismissed it, opted out,
rated it). Records validate themselves at construction and name the offending field.

>>> from datetime import datetime, timezone
>>> a = Action("save-1", ActionFamily.PRODUCT_OFFER, product_id="P-SAV-HY", channel=Channel.PUSH)
>>> d = Decision("d-1", "CUS-00000001", a, Channel.PUSH,
...              datetime(2024, 3, 1, 9, tzinfo=timezone.utc), 0.25, "policy-v1", "idle cash")
>>> d.is_silence
False
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from tactful.domain.enums import Channel
from tactful.domain.records import require_aware, require_id
from tactful.errors import ValidationError


class ActionFamily(StrEnum):
    """What a message is about; insight families first, then offers and service messages."""

    SPENDING_SPIKE = "spending_spike"
    BUDGET = "budget"
    UPCOMING_BILL = "upcoming_bill"
    PRICE_INCREASE = "price_increase"
    SHORTFALL = "shortfall"
    LOW_BALANCE = "low_balance"
    FEES = "fees"
    SAVINGS_OPPORTUNITY = "savings_opportunity"
    INCOME_CHANGE = "income_change"
    PERIODIC_SUMMARY = "periodic_summary"
    NEW_RECURRING = "new_recurring"
    DUPLICATE_CHARGE = "duplicate_charge"
    UNUSUAL_TRANSACTION = "unusual_transaction"
    PRODUCT_OFFER = "product_offer"
    SERVICE_MESSAGE = "service_message"


class MessageKind(StrEnum):
    INSIGHT = "insight"
    OFFER = "offer"
    SERVICE = "service"


class OutcomeKind(StrEnum):
    DELIVERED = "delivered"
    IMPRESSION = "impression"
    OPEN = "open"
    CLICK = "click"
    DISMISS = "dismiss"
    CONVERT = "convert"
    OPT_OUT = "opt_out"
    RATING = "rating"


def default_message_kind(family: ActionFamily) -> MessageKind:
    if family is ActionFamily.PRODUCT_OFFER:
        return MessageKind.OFFER
    if family is ActionFamily.SERVICE_MESSAGE:
        return MessageKind.SERVICE
    return MessageKind.INSIGHT


def _enum(value: Any, enum: type[StrEnum], name: str) -> Any:
    try:
        return enum(value)
    except ValueError as exc:
        allowed = ", ".join(e.value for e in enum)
        raise ValidationError(f"{name} must be one of {allowed}; got {value!r}") from exc


@dataclass(frozen=True, slots=True)
class Action:
    """A message the engine can send. ``channel``, when set, restricts it to that channel;
    ``product_id`` is required for product offers."""

    id: str
    family: ActionFamily
    product_id: str | None = None
    channel: Channel | None = None
    message_kind: MessageKind | None = None

    def __post_init__(self) -> None:
        require_id(self.id, "action id")
        object.__setattr__(self, "family", _enum(self.family, ActionFamily, "action family"))
        if self.channel is not None:
            object.__setattr__(self, "channel", _enum(self.channel, Channel, "action channel"))
        if self.message_kind is None:
            object.__setattr__(self, "message_kind", default_message_kind(self.family))
        else:
            object.__setattr__(
                self, "message_kind", _enum(self.message_kind, MessageKind, "message_kind")
            )
        if self.family is ActionFamily.PRODUCT_OFFER and not self.product_id:
            raise ValidationError(f"action {self.id}: product_id is required for a product offer")
        if self.product_id is not None:
            require_id(self.product_id, "product_id")


@dataclass(frozen=True, slots=True)
class Decision:
    """One decision for one customer: an action on a channel at ``send_at``, or silence."""

    decision_id: str
    customer_id: str
    action: Action | None
    channel: Channel | None
    send_at: datetime
    pscore: float
    policy_version: str
    explanation: str = ""
    relevance: dict[str, Any] = field(default_factory=dict)
    """The facts the engine believed made the action relevant (logged, never trusted)."""

    def __post_init__(self) -> None:
        require_id(self.decision_id, "decision_id")
        require_id(self.customer_id, "customer_id")
        require_aware(self.send_at, "send_at")
        if isinstance(self.pscore, bool) or not isinstance(self.pscore, int | float):
            raise ValidationError(f"pscore must be a number in (0, 1], got {self.pscore!r}")
        if not 0.0 < float(self.pscore) <= 1.0:
            raise ValidationError(f"pscore must be in (0, 1], got {self.pscore}")
        require_id(self.policy_version, "policy_version")
        if self.action is not None and not isinstance(self.action, Action):
            raise ValidationError(
                f"action must be an Action or None, got {type(self.action).__name__}"
            )
        if self.channel is not None:
            object.__setattr__(self, "channel", _enum(self.channel, Channel, "channel"))
        if self.action is not None:
            if self.channel is None:
                raise ValidationError(
                    f"decision {self.decision_id}: channel is required unless silent"
                )
            if self.action.channel is not None and self.action.channel != self.channel:
                raise ValidationError(
                    f"decision {self.decision_id}: channel {self.channel} differs from the "
                    f"action's "
                    f"channel {self.action.channel}"
                )

    @property
    def is_silence(self) -> bool:
        return self.action is None


@dataclass(frozen=True, slots=True)
class Outcome:
    """Something a customer did about a decision, at ``at``; ``value`` carries a rating."""

    decision_id: str
    customer_id: str
    kind: OutcomeKind
    at: datetime
    value: float | None = None

    def __post_init__(self) -> None:
        require_id(self.decision_id, "decision_id")
        require_id(self.customer_id, "customer_id")
        object.__setattr__(self, "kind", _enum(self.kind, OutcomeKind, "outcome kind"))
        require_aware(self.at, "outcome time")
        if self.kind is OutcomeKind.RATING and self.value is None:
            raise ValidationError(f"outcome of decision {self.decision_id}: a rating needs a value")
        if self.value is not None and (
            isinstance(self.value, bool) or not isinstance(self.value, int | float)
        ):
            raise ValidationError(f"outcome value must be a number, got {self.value!r}")
