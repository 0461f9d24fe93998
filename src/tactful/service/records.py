"""The typed records the use cases take and return.

Pydantic models, frozen, with ``extra="forbid"`` on what comes in: the API serves them as its
schemas (one definition, not a copy per face) and the CLI prints them. Money is integer minor
units beside an ISO 4217 code; every timestamp is timezone-aware (a naive one is refused).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tactful.decide.placement import Placement as Placement  # re-exported for the faces
from tactful.domain.enums import (
    Channel,
    ConsentPurpose,
    EventKind,
    PersonalizationLevel,
    TransactionChannel,
    TransactionStatus,
)
from tactful.service.scopes import Scope as Scope  # re-exported for the faces

Id = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f]+$")]
"""An identifier as the store keeps it: printable, at most 128 characters."""


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


# -- ingest ---------------------------------------------------------------------------------------


class TransactionIn(_In):
    """A transaction as the bank's systems post it. ``transaction_id`` is the bank's own id: with
    it a re-post is recognised whatever else changed; without it the content makes the key."""

    account_id: Id
    transaction_id: Id | None = None
    booked_at: AwareDatetime
    amount_minor: int = Field(ge=-(10**15), le=10**15)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    description: str = Field(default="", max_length=500)
    counterparty: str | None = Field(default=None, max_length=200)
    mcc: str | None = Field(default=None, pattern=r"^\d{4}$")
    channel: TransactionChannel = TransactionChannel.OTHER
    status: TransactionStatus = TransactionStatus.POSTED


class EventIn(_In):
    """A behavioural event (a login, a feature used, a notification opened)."""

    event_id: Id | None = None
    customer_id: Id
    kind: EventKind
    occurred_at: AwareDatetime
    session_id: Id | None = None
    duration_s: float | None = Field(default=None, ge=0, le=86_400 * 7)
    feature: str | None = Field(default=None, max_length=64)
    channel: Channel | None = None
    attributes: dict[str, str | int | float | bool | None] | None = None


class TransactionBatch(_In):
    transactions: list[TransactionIn] = Field(min_length=1, max_length=5_000)


class EventBatch(_In):
    events: list[EventIn] = Field(min_length=1, max_length=5_000)


class Rejected(_Out):
    index: int
    """The record's position in the request (0 for a single record)."""
    field: str | None
    reason: str


class NewInsight(_Out):
    insight_id: str
    customer_id: str
    detector: str
    title: str


class IngestAnswer(_Out):
    """What a post stored: new rows, rows already held (a retry, an overlap), rejects, and the
    insights the real-time path produced from new transactions."""

    received: int
    inserted: int
    duplicates: int
    rejected: list[Rejected] = Field(default_factory=list)
    ids: list[str] = Field(default_factory=list)
    """The stored id of every accepted record, in request order."""
    insights: list[NewInsight] = Field(default_factory=list)


# -- the feed and why -----------------------------------------------------------------------------


class FeedMessage(_Out):
    action_id: str
    family: str
    channel: Channel
    title: str | None = None
    message: str | None = None
    call_to_action: str | None = None
    insight_ids: list[str] = Field(default_factory=list)


class FeedAnswer(_Out):
    """What the customer sees on a placement now: one message, or silence; either way the one
    sentence that says why, and the decision id feedback and "why" refer to."""

    decision_id: str
    customer_id: str
    placement: Placement
    decided_at: datetime
    silent: bool
    message: FeedMessage | None
    explanation: str
    pscore: float
    policy_version: str


class Candidate(_Out):
    action_id: str
    subject: str
    channel: Channel | None
    outcome: str
    """``chosen``, or the code of why it was dropped (``no_consent``, ``outranked``...)."""
    reason: str


class WhyAnswer(_Out):
    """A logged decision, replayed from its inputs: what was chosen, why, and every candidate."""

    decision_id: str
    customer_id: str
    placement: str
    decided_at: datetime
    action_id: str | None
    channel: str | None
    explanation: str
    pscore: float
    policy_version: str
    candidates: list[Candidate]
    replays_identically: bool


# -- feedback -------------------------------------------------------------------------------------


class FeedbackKind(StrEnum):
    IMPRESSION = "impression"
    CLICK = "click"
    DISMISS = "dismiss"
    CONVERT = "convert"
    RATING = "rating"
    OPT_OUT = "opt_out"


class FeedbackIn(_In):
    decision_id: Id
    kind: FeedbackKind
    reason: str | None = Field(default=None, max_length=200)
    """Why it was dismissed or opted out of, in the app's words."""
    rating: int | None = Field(default=None, ge=1, le=5)
    at: AwareDatetime | None = None


class FeedbackAnswer(_Out):
    decision_id: str
    kind: FeedbackKind
    recorded: bool
    """False when the same feedback was already recorded (a retry)."""
    insights_moved: int
    """Insights of the message whose state changed (shown, acted on, dismissed)."""


# -- the customer ---------------------------------------------------------------------------------

HHMM = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class Preferences(_Out):
    customer_id: str
    personalization_level: PersonalizationLevel
    channels: list[Channel]
    quiet_hours_start: str | None
    quiet_hours_end: str | None


class PreferencesIn(_In):
    """A change of preferences; a field left out keeps its value."""

    personalization_level: PersonalizationLevel | None = None
    channels: list[Channel] | None = Field(default=None, max_length=4)
    quiet_hours_start: HHMM | None = None
    quiet_hours_end: HHMM | None = None


class ConsentIn(_In):
    purpose: ConsentPurpose
    action: Literal["grant", "withdraw"]
    source: str = Field(default="api", max_length=64)


class ConsentAnswer(_Out):
    customer_id: str
    purpose: ConsentPurpose
    status: str
    at: datetime
    retracted: int
    """Open insights the change retracted in the same transaction."""
    held: list[str]
    """Every purpose the customer holds after the change."""


class ProfileAnswer(_Out):
    customer_id: str
    region: str
    locale: str
    timezone: str
    personalization_level: str
    channels: list[str]
    accounts: int
    balances: dict[str, int]
    """Total balance per currency, minor units."""
    consents: dict[str, str]
    """Purpose -> status of the record in force."""
    live_insights: int
    usual_login_hour: int | None


class ExportAnswer(_Out):
    customer_id: str
    exported_at: datetime
    rows: int
    tables: dict[str, list[dict[str, Any]]]
    products: list[dict[str, Any]]


class ErasureAnswer(_Out):
    customer: str
    """The customer's id, masked."""
    erased_at: datetime
    rows_deleted: int
    tables: dict[str, int]


# -- API keys -------------------------------------------------------------------------------------


class KeyInfo(_Out):
    key_id: str
    scope: Scope
    customer_id: str | None
    name: str
    created_at: datetime
    revoked_at: datetime | None


class NewKey(_Out):
    """A key just made: ``token`` is shown this once and never stored."""

    info: KeyInfo
    token: str


class Principal(_Out):
    """Who is calling: an authenticated key."""

    key_id: str
    scope: Scope
    customer_id: str | None
