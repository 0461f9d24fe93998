"""The catalog: every detector run over a shard, behind the rules no detector may bend.

Consent, personalization level and sensitivity are applied here, once, for every detector --
the bank's own included -- so a detector cannot forget them: a customer who has not granted the
purpose a detector needs, or whose chosen level is below its minimum, gets nothing from it.
Which purposes a customer holds is ``trust.consent``'s answer (``InsightInputs.consents``);
this module only asks it.
Then the lifecycle drops what is already live or in cooldown, and only what survives is
rendered (rendering is the per-row part; doing it last keeps the batch fast).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from tactful.errors import ConfigError
from tactful.insights import lifecycle
from tactful.insights.inputs import InsightInputs, frame_rows
from tactful.insights.render import Renderer
from tactful.insights.spec import FINDINGS, Detector, DetectorSpec, detectors, no_findings
from tactful.trust import consent

_FINDING_COLUMNS = list(FINDINGS)


@dataclass(frozen=True, slots=True)
class Insight:
    """One insight as stored and shown."""

    insight_id: str
    customer_id: str
    detector: str
    family: str
    subject: str
    period: str
    relevance: float
    urgency: str
    facts: dict[str, Any]
    locale: str
    title: str
    message: str
    call_to_action: str
    action: str
    explanation: str
    consent_purpose: str
    min_level: str
    sensitive: bool
    as_of: date
    produced_at: datetime
    expires_at: datetime
    cooldown_until: datetime
    state: str = lifecycle.LIVE

    def row(self) -> dict[str, Any]:
        out = {f: getattr(self, f) for f in self.__slots__}
        out["state_changed_at"] = self.produced_at
        return out


def insight_id(detector: str, customer_id: str, subject: str, period: str) -> str:
    """The same finding always gets the same id: producing it twice is one insight."""
    key = "\x1f".join((detector, customer_id, subject, period))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass
class Catalog:
    """The detectors a run uses and the renderer of their messages."""

    detectors: Sequence[Detector]
    renderer: Renderer = field(default_factory=Renderer.default)

    @classmethod
    def default(
        cls,
        *,
        rules: Path | None = None,
        messages: Path | None = None,
        only: Iterable[str] | None = None,
    ) -> Catalog:
        """Every registered detector (shipped and installed), plus a bank's rules file."""
        import tactful.insights.detectors  # noqa: F401  (registers the shipped catalog)

        chosen = [d for _, d in detectors]
        renderer = Renderer.default(messages)
        if rules is not None:
            from tactful.insights.rules import load_rules

            for rule in load_rules(rules):
                chosen.append(rule)
                for language, fields in rule.messages.items():
                    renderer.add(rule.spec.id, language, fields)
        if only is not None:
            wanted = set(only)
            unknown = wanted - {d.spec.id for d in chosen}
            if unknown:
                raise ConfigError(f"unknown detector(s): {', '.join(sorted(unknown))}")
            chosen = [d for d in chosen if d.spec.id in wanted]
        ids = [d.spec.id for d in chosen]
        duplicated = {i for i in ids if ids.count(i) > 1}
        if duplicated:
            raise ConfigError(f"detector id(s) used twice: {', '.join(sorted(duplicated))}")
        return cls(chosen, renderer)

    @property
    def specs(self) -> dict[str, DetectorSpec]:
        return {d.spec.id: d.spec for d in self.detectors}

    # -- the pure steps ---------------------------------------------------------------------

    def findings(self, data: InsightInputs) -> pl.DataFrame:
        """Every detector's findings for the shard, after consent and personalization level."""
        parts = []
        gates: dict[tuple[str, str | None], pl.DataFrame | bool] = {}
        one = _one_customer(data)
        for detector in self.detectors:
            spec = detector.spec
            gate = (spec.min_level.value, spec.consent.value if spec.consent else None)
            if gate not in gates:
                gates[gate] = _allowed(one, spec) if one else _eligible(data, spec)
            allowed = gates[gate]
            if allowed is False or (isinstance(allowed, pl.DataFrame) and allowed.height == 0):
                continue
            found = detector.detect(data)
            if found.height:
                if found.columns != _FINDING_COLUMNS:  # a bank's detector may carry more
                    found = found.select(_FINDING_COLUMNS)
                if isinstance(allowed, pl.DataFrame):
                    found = found.join(allowed, on="customer_id", how="semi")
                parts.append(found)
        if len(parts) > 1:
            return pl.concat(parts)
        return parts[0] if parts else no_findings()

    def insights(
        self,
        data: InsightInputs,
        *,
        at: datetime,
        existing: pl.DataFrame | None = None,
    ) -> list[Insight]:
        """The new insights of the shard at ``at``: findings, less what is live or cooling down
        in ``existing`` (the store's insights of these customers), rendered."""
        found = self.findings(data)
        if found.height == 0:  # most events: nothing to say, and nothing to stamp
            return []
        fresh = lifecycle.fresh(with_ids(found), existing, at)
        return self.render(fresh, data, at)

    def render(self, fresh: pl.DataFrame, data: InsightInputs, at: datetime) -> list[Insight]:
        if fresh.height == 0:
            return []
        locales = dict(data.customers.select("customer_id", "locale").iter_rows())
        specs = self.specs
        out: list[Insight] = []
        for row in fresh.iter_rows(named=True):
            spec = specs[row["detector"]]
            locale = locales.get(row["customer_id"]) or "en_GB"
            facts = json.loads(row["facts"])
            text = self.renderer.render(spec.id, facts, locale)
            if spec.legal_basis is not None:
                facts = {**facts, "legal_basis": spec.legal_basis}
            out.append(Insight(
                insight_id=row["insight_id"], customer_id=row["customer_id"], detector=spec.id,
                family=spec.family.value, subject=row["subject"], period=row["period"],
                relevance=float(row["relevance"]), urgency=row["urgency"], facts=facts,
                locale=locale, title=text.title, message=text.message,
                call_to_action=text.call_to_action, action=spec.action,
                explanation=text.explanation,
                consent_purpose=spec.consent.value if spec.consent else "none",
                min_level=spec.min_level.value, sensitive=spec.sensitive, as_of=data.as_of,
                produced_at=at, expires_at=at + timedelta(days=spec.expiry_days),
                cooldown_until=at + timedelta(days=spec.cooldown_days),
            ))
        return out


def with_ids(found: pl.DataFrame) -> pl.DataFrame:
    ids = [insight_id(*r) for r in
           frame_rows(found, ("detector", "customer_id", "subject", "period"))]
    return found.hstack([pl.Series("insight_id", ids, dtype=pl.String)])


@dataclass(frozen=True, slots=True)
class _Customer:
    level: str
    granted: frozenset[str]


def _one_customer(data: InsightInputs) -> _Customer | None:
    """The real-time case, a shard of one, answered in Python: a frame join per gate costs more
    than the detectors it guards."""
    if data.customers.height != 1:
        return None
    customer_id = str(data.customers.item(0, "customer_id"))
    return _Customer(str(data.customers.item(0, "personalization_level")),
                     consent.purposes_of(data.consents, customer_id))


def _allowed(customer: _Customer, spec: DetectorSpec) -> bool:
    return spec.allows(customer.level) and consent.allows(customer.granted, spec.consent)


def _eligible(data: InsightInputs, spec: DetectorSpec) -> pl.DataFrame:
    """The customers of ``data`` this detector may speak to."""
    levels = [lvl for lvl in ("none", "basic", "moderate", "advanced") if spec.allows(lvl)]
    customers = data.customers.filter(pl.col("personalization_level").is_in(levels))
    holding = consent.holders(data.consents, spec.consent)
    if holding is not None:
        customers = customers.join(holding, on="customer_id", how="semi")
    return customers.select("customer_id")
