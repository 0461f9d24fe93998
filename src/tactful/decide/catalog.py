"""The actions catalog: everything the engine may say, and what each one needs, in one TOML file.

Every insight detector of the catalog, the bank's product offers and its service messages are
declared here with their business value, the channels and treatments they may use, the consent
purpose and personalization level they need, their risk class and whether caps bind them. The
file ships with the package (``actions.toml``); a bank passes its own. Eligibility rules are
written in the bank's one rule language (``tactful.rules``: ``{field, operator, value}``) over
the customer words of its vocabulary, the few only a decision knows included
(:data:`DECISION_FEATURES`).

Loading validates everything before anything is used, and every error names the file, the action
and the field:

>>> load_actions_text('[[actions]]\\nid = "x"', source="b.toml")
Traceback (most recent call last):
...
tactful.errors.ConfigError: b.toml: action 'x': field 'kind': is required (insight, offer, service)
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Final

from tactful.domain.actions import Action, ActionFamily
from tactful.domain.enums import AccountType, Channel, ConsentPurpose, PersonalizationLevel
from tactful.errors import ConfigError
from tactful.rules import Condition, parse_condition


class RiskClass(StrEnum):
    """How much harm a wrong message can do; exploration and caps are set per class."""

    REGULATED_CREDIT_OFFER = "regulated_credit_offer"
    ORDINARY_OFFER = "ordinary_offer"
    INSIGHT = "insight"
    SERVICE = "service"

    @property
    def is_marketing(self) -> bool:
        return self in (RiskClass.REGULATED_CREDIT_OFFER, RiskClass.ORDINARY_OFFER)


class Treatment(StrEnum):
    CARD = "card"
    BANNER = "banner"
    BADGE = "badge"
    PUSH_TEXT = "push_text"
    EMAIL = "email"
    CONVERSATIONAL_PROMPT = "conversational_prompt"


class ActionKind(StrEnum):
    INSIGHT = "insight"
    OFFER = "offer"
    SERVICE = "service"


TREATMENTS_OF: Final[Mapping[Channel, frozenset[Treatment]]] = {
    Channel.IN_APP: frozenset({Treatment.CARD, Treatment.BANNER, Treatment.BADGE,
                               Treatment.CONVERSATIONAL_PROMPT}),
    Channel.PUSH: frozenset({Treatment.PUSH_TEXT}),
    Channel.SMS: frozenset({Treatment.PUSH_TEXT}),
    Channel.EMAIL: frozenset({Treatment.EMAIL}),
}
"""Which treatments can carry a message on each channel: a channel an action allows must have one
of its treatments."""

DECISION_FEATURES: Final = frozenset({"shortfall_forecast", "vulnerable"})
"""Words of the vocabulary a decision computes itself rather than the insight rules'
``features``: a live shortfall or low-balance warning (the cash-flow forecast says the balance
will not cover what is due), and the customer's vulnerable flag (from the profile)."""

SENSITIVE_FEATURES: Final = frozenset({"fees_90d", "monthly_income"})
"""Features that describe money trouble or income: an offer's eligibility may not read them (a
sensitive category never drives an offer). ``spend_30d.<CATEGORY>`` of a sensitive category is
refused the same way."""

_KEYS: Final = frozenset({
    "id", "kind", "detector", "account_type", "family", "value", "channels", "treatments",
    "consent", "min_level", "risk", "cap_exempt", "legal_basis", "eligible", "group", "prior",
    "lever", "benefit", "cost", "description",
})


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One entry of the catalog. An offer entry names an account type and is bound to each of
    the bank's products of that type (:meth:`ActionsCatalog.bind_products`)."""

    id: str
    kind: ActionKind
    family: ActionFamily
    value: float
    """Worth to the bank and customer when the customer engages, in points shared by every
    action (the attention threshold is in the same points)."""
    channels: tuple[Channel, ...]
    treatments: tuple[Treatment, ...]
    consent: ConsentPurpose | None
    min_level: PersonalizationLevel
    risk: RiskClass
    cap_exempt: bool
    eligible: tuple[Condition, ...] = ()
    detector: str | None = None
    account_type: AccountType | None = None
    product_id: str | None = None
    group: str | None = None
    """Candidates of one group (three upcoming bills) become one message."""
    prior: tuple[float, float] = (1.0, 9.0)
    """Beta prior of P(engage) before any outcome is known."""
    lever: float = 1.0
    """The bank's business lever (a campaign push, a product it wants to grow)."""
    benefit: float = 1.0
    """How much engaging helps the customer (a fee avoided beats a cross-sell)."""
    legal_basis: str | None = None
    description: str = ""

    @property
    def is_marketing(self) -> bool:
        return self.risk.is_marketing

    def action(self) -> Action:
        return Action(self.id, self.family, product_id=self.product_id)


@dataclass(frozen=True, slots=True)
class ActionsCatalog:
    """The validated catalog; ``version`` is a digest of its text, part of the policy version,
    so a decision is replayed only against the catalog it was made with."""

    actions: Mapping[str, ActionSpec]
    version: str
    source: str

    @classmethod
    def default(cls) -> ActionsCatalog:
        text = resources.files("tactful.decide").joinpath("actions.toml").read_text("utf-8")
        return load_actions_text(text, source="tactful/decide/actions.toml")

    @classmethod
    def load(cls, path: Path) -> ActionsCatalog:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the actions catalog: {exc}") from exc
        return load_actions_text(text, source=str(path))

    def by_detector(self) -> dict[str, ActionSpec]:
        return {a.detector: a for a in self.actions.values() if a.detector is not None}

    def offers(self) -> list[ActionSpec]:
        return [a for a in self.actions.values() if a.kind is ActionKind.OFFER]

    def features(self) -> frozenset[str]:
        """Every feature an eligibility rule reads."""
        return frozenset(c.field for a in self.actions.values() for c in a.eligible)

    def bind_products(self, products: Iterable[tuple[str, str | None]]) -> ActionsCatalog:
        """Offer entries bound to the bank's products ``(product_id, account_type)``: one action
        ``<offer id>.<product id>`` per product of the offer's account type; an offer the bank
        has no product for is dropped, the other entries kept as they are."""
        out = {k: a for k, a in self.actions.items() if a.kind is not ActionKind.OFFER}
        for product_id, account_type in sorted(products, key=lambda p: p[0]):
            for offer in self.offers():
                if offer.account_type is not None and offer.account_type.value == account_type:
                    bound = replace(offer, id=f"{offer.id}.{product_id}", product_id=product_id)
                    out[bound.id] = bound
        return ActionsCatalog(out, self.version, self.source)


def _fail(source: str, action: str, field: str, why: str) -> ConfigError:
    return ConfigError(f"{source}: action {action!r}: field {field!r}: {why}")


def _enum_value(raw: Mapping[str, Any], key: str, enum: type[StrEnum], fail: Any,
                default: str | None = None) -> Any:
    value = raw.get(key, default)
    if value is None:
        raise fail(key, f"is required ({', '.join(e.value for e in enum)})")
    try:
        return enum(value)
    except ValueError:
        raise fail(key, f"must be one of {', '.join(e.value for e in enum)}; "
                        f"got {value!r}") from None


def _number(raw: Mapping[str, Any], key: str, default: float | None, fail: Any,
            *, low: float = 0.0, low_open: bool = False) -> float:
    value = raw.get(key, default)
    if value is None:
        raise fail(key, "is required (a number)")
    bad = isinstance(value, bool) or not isinstance(value, int | float)
    if bad or value < low or (low_open and value == low):
        sign = ">" if low_open else ">="
        raise fail(key, f"must be a number {sign} {low:g}; got {value!r}")
    return float(value)


def _parse(raw: Any, index: int, source: str) -> ActionSpec:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: action #{index + 1}: must be a table")
    action_id = raw.get("id")
    name = action_id if isinstance(action_id, str) and action_id else f"#{index + 1}"

    def fail(field: str, why: str) -> ConfigError:
        return _fail(source, name, field, why)

    if not isinstance(action_id, str) or not action_id:
        raise fail("id", "is required (a non-empty text)")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown field (known: {', '.join(sorted(_KEYS))})")
    kind = _enum_value(raw, "kind", ActionKind, fail)
    risk = _enum_value(raw, "risk", RiskClass, fail)
    detector = raw.get("detector")
    default_family = {ActionKind.OFFER: "product_offer",
                      ActionKind.SERVICE: "service_message"}.get(kind)
    if isinstance(detector, str) and detector in _detector_families():
        default_family = _detector_families()[detector]
    family = _enum_value(raw, "family", ActionFamily, fail, default_family)
    account_type = None
    if kind is ActionKind.OFFER:
        if not risk.is_marketing:
            raise fail("risk", f"an offer is regulated_credit_offer or ordinary_offer; "
                               f"got {risk.value!r}")
        if family is not ActionFamily.PRODUCT_OFFER:
            raise fail("family", f"an offer's family is product_offer; got {family.value!r}")
        account_type = _enum_value(raw, "account_type", AccountType, fail)
        if detector is not None:
            raise fail("detector", "an offer is not produced by a detector")
    else:
        if risk.is_marketing:
            raise fail("risk", f"only an offer is marketing; a {kind.value} is insight or "
                               "service")
        if kind is ActionKind.INSIGHT and not isinstance(detector, str):
            raise fail("detector", "an insight action names the detector that produces it")
        if "account_type" in raw:
            raise fail("account_type", "only an offer names an account type")
    consent_raw = raw.get("consent")
    if consent_raw is None:
        raise fail("consent", "is required (a purpose, or \"none\" for a legally required "
                              "service message)")
    consent = None if consent_raw == "none" else _enum_value(raw, "consent", ConsentPurpose, fail)
    if consent is None and kind is not ActionKind.SERVICE:
        raise fail("consent", f'"none" is for service messages only; the kind is {kind.value!r}')
    if risk.is_marketing and consent is not ConsentPurpose.MARKETING:
        raise fail("consent", f"an offer needs the marketing purpose; got {consent_raw!r}")
    cap_exempt = raw.get("cap_exempt", False)
    if not isinstance(cap_exempt, bool):
        raise fail("cap_exempt", f"must be true or false; got {cap_exempt!r}")
    basis = raw.get("legal_basis")
    if basis is not None and (not isinstance(basis, str) or not basis.strip()):
        raise fail("legal_basis", "must be a non-empty text naming the law, clause or "
                                  "security reason")
    if cap_exempt and (risk is not RiskClass.SERVICE or basis is None):
        raise fail("cap_exempt", "only a service message with a legal_basis (a legally "
                                 "required or security message) is exempt from caps")
    channels_raw = raw.get("channels")
    if not isinstance(channels_raw, list) or not channels_raw:
        raise fail("channels", "must be a non-empty list of channels")
    channels = tuple(_enum_value({"channels": c}, "channels", Channel, fail)
                     for c in channels_raw)
    treatments_raw = raw.get("treatments")
    if not isinstance(treatments_raw, list) or not treatments_raw:
        raise fail("treatments", "must be a non-empty list of treatments")
    treatments = tuple(_enum_value({"treatments": t}, "treatments", Treatment, fail)
                       for t in treatments_raw)
    for channel in channels:
        if not TREATMENTS_OF[channel] & set(treatments):
            allowed = " or ".join(sorted(t.value for t in TREATMENTS_OF[channel]))
            raise fail("treatments", f"channel {channel.value} needs a {allowed} treatment")
    min_level = _enum_value(raw, "min_level", PersonalizationLevel, fail)
    eligible_raw = raw.get("eligible", [])
    if not isinstance(eligible_raw, list):
        raise fail("eligible", "must be a list of {field, operator, value} conditions")
    where = f"{source}: action {name!r}"
    eligible = tuple(parse_condition(c, where=where, at=f"eligible[{i}]")
                     for i, c in enumerate(eligible_raw))
    if risk.is_marketing:
        for i, c in enumerate(eligible):
            if _sensitive_feature(c.feature):
                raise fail(f"eligible[{i}].field",
                           f"{c.feature!r} describes a sensitive matter; a sensitive category "
                           "never drives an offer")
    prior_raw = raw.get("prior", [1, 9])
    if (not isinstance(prior_raw, list) or len(prior_raw) != 2
            or any(isinstance(p, bool) or not isinstance(p, int | float) or p <= 0
                   for p in prior_raw)):
        raise fail("prior", f"must be two positive numbers [successes, failures]; "
                            f"got {prior_raw!r}")
    group = raw.get("group")
    if group is not None and (not isinstance(group, str) or not group):
        raise fail("group", f"must be a non-empty text; got {group!r}")
    return ActionSpec(
        id=action_id, kind=kind, family=family,
        value=_number(raw, "value", None, fail, low_open=True),
        channels=channels, treatments=treatments, consent=consent, min_level=min_level,
        risk=risk, cap_exempt=cap_exempt, eligible=eligible,
        detector=detector if isinstance(detector, str) else None,
        account_type=account_type, group=group,
        prior=(float(prior_raw[0]), float(prior_raw[1])),
        lever=_number(raw, "lever", 1.0, fail, low_open=True),
        benefit=_number(raw, "benefit", 1.0, fail, low_open=True),
        legal_basis=basis.strip() if isinstance(basis, str) else None,
        description=str(raw.get("description", "")),
    )


def _detector_families() -> dict[str, str]:
    """The family of every registered detector: an insight action takes its detector's."""
    import tactful.insights.detectors  # noqa: F401  (registers the shipped catalog)
    from tactful.insights.spec import detectors

    return {d.spec.id: d.spec.family.value for _, d in detectors}


def _sensitive_feature(feature: str) -> bool:
    """True for a feature describing money trouble, income or a special category: spending in a
    primary category any of whose detailed codes is sensitive (``enrich.taxonomy``)."""
    if feature in SENSITIVE_FEATURES:
        return True
    if feature.startswith("spend_30d."):
        from tactful.enrich.taxonomy import SENSITIVE, TAXONOMY

        return any(d in SENSITIVE for d in TAXONOMY.get(feature.split(".", 1)[1], ()))
    return False


def load_actions_text(text: str, *, source: str) -> ActionsCatalog:
    """A catalog from TOML text; ``source`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - {"actions"})
    if unknown:
        raise ConfigError(f"{source}: unknown top-level key {unknown[0]!r} (expected "
                          "[[actions]] tables)")
    raw = data.get("actions")
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{source}: expected one or more [[actions]] tables")
    specs = [_parse(r, i, source) for i, r in enumerate(raw)]
    out: dict[str, ActionSpec] = {}
    detectors: dict[str, str] = {}
    for spec in specs:
        if spec.id in out:
            raise _fail(source, spec.id, "id", "is used twice")
        if spec.detector is not None:
            if spec.detector in detectors:
                raise _fail(source, spec.id, "detector",
                            f"{spec.detector!r} is already the action {detectors[spec.detector]!r}")
            detectors[spec.detector] = spec.id
        out[spec.id] = spec
    version = hashlib.sha256(text.encode()).hexdigest()[:12]
    return ActionsCatalog(out, version, source)


def check_against_detectors(catalog: ActionsCatalog, specs: Mapping[str, Any]) -> list[str]:
    """What is wrong between ``catalog`` and the insight catalog's detector specs (by id):
    a detector without an action, an action naming an unknown detector, or an action asking
    less consent or a lower level than its detector. Empty when they agree."""
    problems = []
    by_detector = catalog.by_detector()
    for detector_id in sorted(set(specs) - set(by_detector)):
        problems.append(f"detector {detector_id!r} has no action in {catalog.source}")
    for detector_id, action in sorted(by_detector.items()):
        spec = specs.get(detector_id)
        if spec is None:
            problems.append(f"action {action.id!r}: detector {detector_id!r} is not registered")
            continue
        if spec.consent != action.consent:
            problems.append(
                f"action {action.id!r}: consent {action.consent} differs from its detector's "
                f"{spec.consent}")
        if action.min_level.rank < spec.min_level.rank:
            problems.append(f"action {action.id!r}: min_level {action.min_level.value} is below "
                            f"its detector's {spec.min_level.value}")
        if spec.sensitive and set(action.channels) - {Channel.IN_APP, Channel.EMAIL}:
            problems.append(f"action {action.id!r}: detector {detector_id!r} is sensitive; "
                            "private channels only (in_app, email)")
    return problems

