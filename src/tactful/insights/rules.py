"""Insights without code: a bank's rules file of simple triggers on profile features.

This is the "start small with rules" phase: a product manager writes, in TOML,

    [[rules]]
    id = "savings_tip_high_balance"
    family = "savings_opportunity"
    when = [{ field = "checking_balance_min_30d", operator = "gte", value = 5000 }]
    [rules.messages.en]
    title = "Your money could work harder"
    message = "Your balance has stayed above {{ checking_balance_min_30d|money }} for a month."
    call_to_action = "See savings accounts"
    explanation = "Because your lowest balance in 30 days was {{ checking_balance_min_30d|money }}."

and every customer whose features meet all conditions gets the insight, under the same consent,
level, cooldown and lifecycle rules as the shipped detectors (a rule *is* a detector). The
conditions are the bank's one rule language (``tactful.rules``: ``{field, operator, value}``
over the customer words of its vocabulary; money thresholds in major units of the customer's
currency). Errors name the file, the rule and the field.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import polars as pl

from tactful.domain.actions import ActionFamily
from tactful.domain.enums import ConsentPurpose, PersonalizationLevel
from tactful.errors import ConfigError
from tactful.insights.inputs import InsightInputs
from tactful.insights.render import FIELDS, template_problem
from tactful.insights.spec import DetectorSpec, FactKind, Urgency, findings_frame
from tactful.rules import SPEND_PREFIX, Condition, Kind, Subject, feature, names, parse_condition

FEATURES: Final[tuple[str, ...]] = tuple(
    n for n in names(Subject.CUSTOMER) if n not in ("shortfall_forecast", "vulnerable"))
"""The words :func:`features` computes, plus ``spend_30d.<PRIMARY_CATEGORY>``. The others of the
vocabulary (a live shortfall warning, the vulnerable flag) only a decision knows."""
_RULE_KEYS: Final = frozenset({
    "id", "family", "when", "messages", "min_level", "consent", "cooldown_days",
    "expiry_days", "relevance", "urgency", "action", "description", "legally_required",
    "legal_basis",
})


def features(data: InsightInputs, names: frozenset[str]) -> pl.DataFrame:
    """One row per customer and currency with the requested features (money in minor units)."""
    base = data.checking.group_by("customer_id", "currency").agg(
        pl.col("balance_minor").sum().alias("checking_balance"), pl.col("unit").first())
    lows = data.daily_balances.group_by("customer_id", "currency").agg(
        pl.col("eod_minor").filter(pl.col("day") > data.day(-30)).min()
        .alias("checking_balance_min_30d"),
        pl.col("eod_minor").min().alias("checking_balance_min_90d"),
    )
    acc = data.accounts.filter(pl.col("closed_on").is_null())
    held = acc.group_by("customer_id").agg(
        pl.len().alias("accounts_open"),
        (pl.col("type") == "savings").any().cast(pl.Int64).alias("holds_savings"),
        (pl.col("type") == "credit_card").any().cast(pl.Int64).alias("holds_credit_card"),
        (pl.col("type") == "loan").any().cast(pl.Int64).alias("holds_loan"),
    )
    savings = acc.filter(pl.col("type") == "savings").group_by("customer_id", "currency").agg(
        pl.col("balance_minor").sum().alias("savings_balance"))
    recent = data.spending.filter(pl.col("booked_on") > data.day(-30))
    spend = recent.group_by("customer_id", "currency").agg(
        pl.col("spend_minor").sum().alias("spend_30d"),
        pl.col("channel").is_in(["card", "online"]).sum().cast(pl.Int64)
        .alias("card_payments_30d"),
    )
    fees = data.posted.filter(
        (pl.col("category") == "BANK_FEES") & (pl.col("booked_on") > data.day(-90))
    ).group_by("customer_id", "currency").agg((-pl.col("amount_minor")).sum().alias("fees_90d"))
    login = data.logins.group_by("customer_id").agg(
        (pl.lit(data.as_of) - pl.col("day").max()).dt.total_days().alias("days_since_login"))
    out = (
        base.join(lows, on=["customer_id", "currency"], how="left")
        .join(savings, on=["customer_id", "currency"], how="left")
        .join(data.monthly_income.rename({"monthly_income_minor": "monthly_income"}),
              on=["customer_id", "currency"], how="left")
        .join(spend, on=["customer_id", "currency"], how="left")
        .join(fees, on=["customer_id", "currency"], how="left")
        .join(held, on="customer_id", how="left")
        .join(login, on="customer_id", how="left")
    )
    for name in sorted(n for n in names if n.startswith("spend_30d.")):
        category = name.split(".", 1)[1]
        part = recent.filter(pl.col("category") == category).group_by(
            "customer_id", "currency").agg(pl.col("spend_minor").sum().alias(name))
        out = out.join(part, on=["customer_id", "currency"], how="left")
    zero = [c for c in out.columns if c not in ("customer_id", "currency", "unit",
                                                  "days_since_login")]
    return out.with_columns(
        [pl.col(c).fill_null(0) for c in zero]
        + [pl.col("days_since_login").fill_null(9_999)]
    )


def _kind(name: str) -> FactKind:
    found = feature(name)
    kind = found.kind if found is not None else Kind.COUNT
    return {Kind.MONEY: FactKind.MONEY, Kind.DAYS: FactKind.DAYS}.get(kind, FactKind.COUNT)


@dataclass(frozen=True)
class RuleDetector:
    """A rule from the bank's file, behaving as any other detector."""

    spec: DetectorSpec
    conditions: tuple[Condition, ...]
    messages: Mapping[str, Mapping[str, str]]
    relevance: float
    urgency: Urgency

    def detect(self, data: InsightInputs) -> pl.DataFrame:
        table = features(data, frozenset(c.field for c in self.conditions))
        keep = pl.lit(True)
        for condition in self.conditions:
            keep = keep & condition.expr()
        hits = table.filter(keep).with_columns(
            pl.lit(self.spec.id).alias("subject"),
            pl.lit(data.as_of.strftime("%Y-%m")).alias("period"),
            pl.lit(self.relevance).alias("relevance"),
            pl.lit(self.urgency.value).alias("urgency"),
        )
        return findings_frame(hits, self.spec)


def _fail(where: str, field: str, why: str) -> ConfigError:
    return ConfigError(f"{where}: field {field!r}: {why}")


def _choice(raw: Mapping[str, Any], key: str, allowed: list[str], default: str | None,
            where: str) -> str | None:
    value = raw.get(key, default)
    if value is None or value in allowed:
        return value  # type: ignore[no-any-return]
    raise _fail(where, key, f"must be one of {', '.join(allowed)}; got {value!r}")


def _int(raw: Mapping[str, Any], key: str, default: int, where: str, low: int) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise _fail(where, key, f"must be an integer >= {low}; got {value!r}")
    return value


def parse_rule(raw: Mapping[str, Any], *, source: str, index: int,
               line_of: Callable[[str], int] | None = None) -> RuleDetector:
    """One ``[[rules]]`` table, validated; every error names the rule and the field, and the
    line when ``line_of`` (a field's dotted name -> its line in ``source``) can tell it.

    Message templates may name the rule's facts (the features its conditions read, and
    ``currency``) and nothing else: see ``render.template_problem``."""
    rule_id = raw.get("id")
    at = f"{source}:{line_of('')}" if line_of else source
    where = f"{at}: rule {rule_id!r}" if rule_id else f"{at}: rule #{index + 1}"
    if not isinstance(rule_id, str) or not rule_id:
        raise _fail(where, "id", "is required (lower_snake_case)")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        known = ", ".join(sorted(_RULE_KEYS))
        raise _fail(where, sorted(unknown)[0], f"unknown field (known: {known})")
    family = _choice(raw, "family", [f.value for f in ActionFamily], None, where)
    if family is None:
        raise _fail(where, "family", "is required")
    level = _choice(raw, "min_level", [lv.value for lv in PersonalizationLevel], "basic", where)
    consent = _choice(raw, "consent", [*(p.value for p in ConsentPurpose), "none"],
                      "personalization", where)
    legal_basis = _exemption(raw, consent, family, source=source, rule_id=rule_id,
                             line_of=line_of)
    urgency = _choice(raw, "urgency", [u.value for u in Urgency], "normal", where)
    relevance = raw.get("relevance", 0.5)
    if not isinstance(relevance, int | float) or not 0 <= relevance <= 1:
        raise _fail(where, "relevance", f"must be a number in [0, 1]; got {relevance!r}")
    when = raw.get("when")
    if not isinstance(when, list) or not when:
        raise _fail(where, "when", "must be a non-empty list of {field, operator, value} "
                                   "conditions")
    conditions = [parse_condition(cond, where=where, at=f"when[{i}]")
                  for i, cond in enumerate(when)]
    for i, c in enumerate(conditions):
        if c.field not in FEATURES and not c.field.startswith(SPEND_PREFIX):
            raise _fail(where, f"when[{i}]", f"{c.field!r} is known to a decision only (the "
                                            "actions catalog's eligibility rules), not to "
                                            "an insight rule")
    messages = raw.get("messages")
    if not isinstance(messages, dict) or "en" not in messages:
        raise _fail(where, "messages", "needs at least [rules.messages.en]")
    for language, fields in messages.items():
        missing = [f for f in FIELDS if not isinstance(fields, dict) or f not in fields]
        if missing:
            raise _fail(where, f"messages.{language}", f"lacks {', '.join(missing)}")
    facts: dict[str, FactKind] = {c.field: _kind(c.field) for c in conditions}
    facts["currency"] = FactKind.TEXT
    for language, fields in messages.items():
        for name in FIELDS:
            field = f"messages.{language}.{name}"
            problem = template_problem(str(fields[name]), facts)
            if problem is not None:
                line, why = problem
                at = f"{source}:{line_of(field) + line - 1}" if line_of else source
                raise ConfigError(f"{at}: rule {rule_id!r}: field {field!r}: the template {why}")
    try:
        spec = DetectorSpec(
            id=rule_id, family=ActionFamily(family), facts=facts, needs=frozenset({"accounts"}),
            consent=None if consent == "none" else ConsentPurpose(str(consent)),
            legal_basis=legal_basis,
            min_level=PersonalizationLevel(str(level)),
            cooldown_days=_int(raw, "cooldown_days", 30, where, 0),
            expiry_days=_int(raw, "expiry_days", 7, where, 1),
            action=str(raw.get("action", "open_insight")),
            description=str(raw.get("description", f"bank rule {rule_id}")),
        )
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    return RuleDetector(spec, tuple(conditions),
                        {k: {f: str(v[f]) for f in FIELDS} for k, v in messages.items()},
                        float(relevance), Urgency(str(urgency)))


def _exemption(raw: Mapping[str, Any], consent: str | None, family: str, *, source: str,
               rule_id: str, line_of: Callable[[str], int] | None) -> str | None:
    """The legal basis of a rule that needs no consent, or None for a rule that does.

    ``consent = "none"`` would let a bank's analyst reach every customer, consenting or not; it
    is allowed only for a service message the bank declares legally required
    (``legally_required = true``) and whose ``legal_basis = "..."`` names why, so the exemption
    is a decision someone signed, carried by every insight the rule produces."""
    def fail(field: str, why: str) -> ConfigError:
        at = f"{source}:{line_of(field)}" if line_of else source
        return ConfigError(f"{at}: rule {rule_id!r}: field {field!r}: {why}")

    required = raw.get("legally_required", False)
    if not isinstance(required, bool):
        raise fail("legally_required", f"must be true or false; got {required!r}")
    basis = raw.get("legal_basis")
    if basis is not None and (not isinstance(basis, str) or not basis.strip()):
        raise fail("legal_basis", "must be a non-empty text naming the law or clause that "
                                  "requires the message")
    if consent != "none":
        if required or basis is not None:
            field = "legally_required" if required else "legal_basis"
            raise fail(field, 'only a rule with consent = "none" declares a legal basis')
        return None
    if not required or basis is None:
        raise fail("consent", '"none" exempts the rule from consent, which only a service '
                              "message the bank marks legally_required = true with a "
                              'non-empty legal_basis = "..." may do')
    if family != ActionFamily.SERVICE_MESSAGE.value:
        raise fail("consent", f'"none" is for service messages only; the family is {family!r}')
    return str(basis).strip()


def load_rules(path: Path) -> list[RuleDetector]:
    """Every rule of a TOML rules file, validated before any is used."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the rules file: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    raw = data.get("rules")
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{path}: expected one or more [[rules]] tables")
    lines = text.splitlines()
    heads = [n for n, line in enumerate(lines, 1) if _RULES_HEADER.match(line)]
    rules = [
        parse_rule(r, source=str(path), index=i,
                   line_of=_locator(lines, heads, i) if len(heads) == len(raw) else None)
        for i, r in enumerate(raw)
    ]
    ids = [r.spec.id for r in rules]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ConfigError(f"{path}: rule id(s) used twice: {', '.join(twice)}")
    return rules


_RULES_HEADER: Final = re.compile(r"^\s*\[\[\s*rules\s*\]\]\s*(#.*)?$")


def _locator(lines: list[str], heads: list[int], index: int) -> Callable[[str], int]:
    """Where a field of the ``index``-th rule is written: ``messages.en.title`` is the line of
    ``title =`` below ``[rules.messages.en]`` in that rule's block, ``consent`` the line of
    ``consent =`` above the rule's first sub-table; the rule's own
    ``[[rules]]`` line when the field cannot be found (or for ``""``)."""
    start = heads[index]
    end = heads[index + 1] - 1 if index + 1 < len(heads) else len(lines)

    def line_of(field: str) -> int:
        parts = field.split(".")
        if len(parts) == 1 and field:
            own = re.compile(rf"^\s*{re.escape(field)}\s*=")
            for n in range(start + 1, end + 1):
                if lines[n - 1].lstrip().startswith("["):
                    break
                if own.match(lines[n - 1]):
                    return n
            return start
        if len(parts) != 3:
            return start
        table = re.compile(rf"^\s*\[\s*rules\s*\.\s*{parts[0]}\s*\.\s*"
                           rf"{re.escape(parts[1])}\s*\]")
        key = re.compile(rf"^\s*{re.escape(parts[2])}\s*=")
        inside = False
        for n in range(start, end + 1):
            line = lines[n - 1]
            if line.lstrip().startswith("["):
                inside = bool(table.match(line))
            elif inside and key.match(line):
                return n
        return start

    return line_of
