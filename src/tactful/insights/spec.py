"""What an insight detector is: its declaration, the frame of findings it returns, its registry.

A detector is a small plug-in that looks at a shard of customers' data and says, for each
customer, whether something in their financial life is worth telling them. It declares up front
what it needs and what it may touch -- the consent purpose, the minimum personalization level,
whether its content is sensitive, how long it stays true and how long to wait before saying it
again -- so the catalog can apply those rules centrally instead of trusting every detector to.

Detectors are vectorized: ``detect`` takes every customer of a shard at once and returns one row
per finding (``FINDINGS``), because a Python loop over customers would not reach the batch
target, and the same code path serves the real-time case (a shard of one).

A bank adds its own from its own package with an entry point in the ``tactful.detectors`` group
(see ``docs/insights.md``); the conformance suite in ``tests/insights`` runs over every detector
the registry knows, the bank's included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

import polars as pl

from tactful.domain.actions import ActionFamily
from tactful.domain.enums import ConsentPurpose, PersonalizationLevel
from tactful.errors import ConfigError
from tactful.plugins import Registry

if TYPE_CHECKING:
    from tactful.insights.inputs import InsightInputs


class FactKind(StrEnum):
    """How a fact is typed and so how a template formats it for the customer's locale."""

    MONEY = "money"  # integer minor units of the finding's ``currency`` fact
    PERCENT = "percent"  # a ratio: 0.15 is 15 %
    DATE = "date"  # an ISO date, YYYY-MM-DD
    COUNT = "count"  # an integer
    DAYS = "days"  # an integer number of days
    TEXT = "text"  # a merchant, a product name, ...
    CATEGORY = "category"  # a category code, shown by its localized label


class Urgency(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


LEVEL_ORDER: Final[dict[str, int]] = {
    PersonalizationLevel.NONE: 0,
    PersonalizationLevel.BASIC: 1,
    PersonalizationLevel.MODERATE: 2,
    PersonalizationLevel.ADVANCED: 3,
}

_ID = re.compile(r"^[a-z][a-z0-9_]{2,63}$")

FINDINGS: Final[Mapping[str, pl.DataType]] = {
    "customer_id": pl.String(),
    "detector": pl.String(),
    "subject": pl.String(),  # what it is about: a category, a series, a transaction, ...
    "period": pl.String(),  # which occurrence: a month, a due date, a change date, ...
    "relevance": pl.Float64(),  # in [0, 1]: how much this matters to this customer now
    "urgency": pl.String(),
    "facts": pl.String(),  # a JSON object: the typed facts the templates render
}
"""One row per finding. ``(detector, customer_id, subject, period)`` identifies an insight:
producing it again is the same insight, and ``subject`` is what cooldown applies to."""


@dataclass(frozen=True, slots=True)
class DetectorSpec:
    """Everything the catalog must know about a detector before running it."""

    id: str
    family: ActionFamily
    facts: Mapping[str, FactKind]
    """Every fact a finding carries, by name; ``currency`` is implied for MONEY facts."""
    needs: frozenset[str]
    """Which inputs it reads (``InsightInputs`` field names), so a caller can skip loading."""
    consent: ConsentPurpose | None = ConsentPurpose.PERSONALIZATION
    """The purpose the customer must have granted; None for service messages."""
    legal_basis: str | None = None
    """Why a message that needs no consent may be sent anyway (the law or contract clause that
    requires it); every insight of the detector carries it in its facts. A bank's rule may only
    say ``consent = "none"`` with one (``rules.py``)."""
    min_level: PersonalizationLevel = PersonalizationLevel.BASIC
    sensitive: bool = False
    """The content itself is sensitive (money trouble, income): private channels only, never
    an input to an offer."""
    money_critical: bool = False
    """A wrong one costs the customer money or trust: held to precision >= 0.9 in ``make eval``."""
    cooldown_days: int = 30
    expiry_days: int = 7
    realtime: bool = False
    """A new transaction can make it true at once (a duplicate, a large payment, a low balance):
    it runs on every event. The others run in the nightly batch, where their inputs change."""
    realtime_with: str | None = None
    """The ``InsightInputs`` field of a model (``shortfall_risk``) with which the detector runs
    on events too: its probability is cheap to update per customer and moves with the payment
    that just happened. Without the model it stays in the nightly batch (the rule forecast
    costs several times the real-time budget)."""
    action: str = "open_insight"
    """The call to action's machine name (the app maps it to a screen)."""
    description: str = ""
    optional_facts: frozenset[str] = field(default_factory=frozenset)
    """Facts that may be null (a goal without a target date); templates must allow for it."""

    def __post_init__(self) -> None:
        where = f"detector {self.id!r}"
        if not _ID.match(self.id):
            raise ConfigError(f"{where}: id must be lower_snake_case, 3-64 characters")
        if self.cooldown_days < 0 or self.expiry_days < 1:
            raise ConfigError(f"{where}: cooldown_days must be >= 0 and expiry_days >= 1")
        if not self.needs:
            raise ConfigError(f"{where}: needs must name at least one input")
        if any(k is FactKind.MONEY for k in self.facts.values()) and "currency" not in self.facts:
            raise ConfigError(f"{where}: money facts need a 'currency' text fact")
        if self.legal_basis is not None and (
            self.consent is not None or not self.legal_basis.strip()
        ):
            raise ConfigError(f"{where}: legal_basis must be non-empty, and only a detector "
                              "that needs no consent (consent None) has one")
        unknown = self.optional_facts - set(self.facts)
        if unknown:
            raise ConfigError(f"{where}: optional_facts {sorted(unknown)} are not declared facts")

    def allows(self, level: str) -> bool:
        """True if a customer at personalization ``level`` may receive this detector's insights."""
        return LEVEL_ORDER.get(level, 0) >= LEVEL_ORDER[self.min_level]


@runtime_checkable
class Detector(Protocol):
    """A detector: a declaration and a vectorized function over a shard."""

    @property
    def spec(self) -> DetectorSpec: ...

    def detect(self, data: InsightInputs) -> pl.DataFrame:
        """Findings for every customer of ``data`` as of ``data.as_of`` (``FINDINGS`` columns)."""
        ...


@runtime_checkable
class Triggered(Protocol):
    """A real-time detector that can tell from the new transactions alone whether they could
    make it true; the event path runs it only then (a detector without ``triggered_by`` runs on
    every event).

    ``triggered_by`` is a necessary condition, never a guess: if it says False, the detector
    after the event finds nothing it did not find before (the conformance suite replays events
    to hold every detector to this).
    """

    def triggered_by(self, new: Sequence[Mapping[str, Any]], data: InsightInputs) -> bool:
        """True if the enriched new rows ``new`` (``TRANSACTIONS`` columns) might make this
        detector find something for the customer of ``data`` (the inputs before the event)."""
        ...


def day_after(new: Sequence[Mapping[str, Any]], data: InsightInputs) -> date:
    """The customer's day once ``new`` is folded in (``realtime.with_enriched`` advances it to
    the latest local booking day): what a detector that moves with the day compares against."""
    days: list[date] = [data.as_of, *(r["booked_on"] for r in new if r["booked_on"] is not None)]
    return max(days)


detectors: Registry[Detector] = Registry("detectors")
"""Detector instances by id; banks add theirs through the ``tactful.detectors`` entry point."""


_NO_FINDINGS: Final = pl.DataFrame(schema=dict(FINDINGS))


def no_findings() -> pl.DataFrame:
    """The empty ``FINDINGS`` frame: what a detector returns when it has nothing to say (one
    shared instance: Polars frames are not changed in place, and the real-time path returns
    this many times per event)."""
    return _NO_FINDINGS


def findings_of_rows(spec: DetectorSpec, rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """``FINDINGS`` from rows built in Python, the one-customer paths' findings: each row
    carries ``customer_id``, ``subject``, ``period``, ``relevance``, ``urgency`` and the
    declared facts, encoded as ``findings_frame`` encodes them (compact JSON in the declared
    order, days as ISO dates) -- one frame built instead of a select over a frame of one."""
    if not rows:
        return no_findings()
    declared = list(spec.facts)
    for row in rows:
        missing = [name for name in declared if name not in row]
        if missing:
            raise ConfigError(f"detector {spec.id!r}: facts {missing} missing from a finding")
    return pl.DataFrame({
        "customer_id": [r["customer_id"] for r in rows],
        "detector": [spec.id] * len(rows),
        "subject": [str(r["subject"]) for r in rows],
        "period": [str(r["period"]) for r in rows],
        "relevance": [min(max(float(r["relevance"]), 0.0), 1.0) for r in rows],
        "urgency": [str(r["urgency"]) for r in rows],
        "facts": [json.dumps({name: r[name] for name in declared}, separators=(",", ":"),
                             ensure_ascii=False, default=_iso) for r in rows],
    }, schema=dict(FINDINGS))


def _iso(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"a fact of type {type(value).__name__} has no JSON form")


def findings_frame(
    frame: pl.DataFrame, spec: DetectorSpec, facts: Mapping[str, pl.Expr] | None = None
) -> pl.DataFrame:
    """``FINDINGS`` rows from ``frame``: one per row, with the facts encoded as a JSON object.

    ``frame`` must already carry ``customer_id``, ``subject``, ``period``, ``relevance`` and
    ``urgency``; ``facts`` maps each declared fact to the expression computing it (by default
    the column of the same name), so a detector cannot forget one (a missing or undeclared fact
    is a programming error, raised here).
    """
    if facts is None:
        facts = {name: pl.col(name) for name in spec.facts}
    declared = set(spec.facts)
    given = set(facts)
    if given != declared:
        raise ConfigError(
            f"detector {spec.id!r}: facts {sorted(given)} do not match its declaration "
            f"{sorted(declared)}"
        )
    if frame.height == 0:
        return no_findings()
    return frame.select(
        pl.col("customer_id"),
        pl.lit(spec.id).alias("detector"),
        pl.col("subject").cast(pl.String),
        pl.col("period").cast(pl.String),
        pl.col("relevance").cast(pl.Float64).clip(0.0, 1.0),
        pl.col("urgency").cast(pl.String),
        pl.struct([expr.alias(name) for name, expr in facts.items()])
        .struct.json_encode()
        .alias("facts"),
    )
