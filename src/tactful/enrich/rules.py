"""Bank rules, in the spirit of Firefly III's rule engine: all conditions hold -> set a category.

A ``Rule`` is a conjunction of ``Condition(field, operator, value)``; a ``RuleSet`` is an ordered
list of rules (ascending ``priority``, then file order) and the first enabled rule that matches a
transaction wins. Text comparisons ignore case. ``contains`` takes one string or a list (any of
them). ``direction`` is derived: ``in`` for credits, ``out`` for debits.

Rules are checked once, when the set is built, with pydantic models (``extra="forbid"``); every
error names the rule and the offending key, e.g.
``rule 'rent-landlord': field 'amout' is not one of account_type, amount_minor, ...``.

Each rule becomes one Polars expression and the set one ``pl.when`` chain. A rule that names its
channels (``channel equals`` / ``channel in``) is only evaluated on rows of those channels, which
is what keeps a hundred description rules cheap on a million card rows.

A ``regex`` is Rust's ``regex`` crate syntax, the engine Polars runs: matching takes time linear
in the text, whatever the pattern (no look-around, no backreferences). A pattern is compiled by
that very engine when the rule is built, so a rule that could not run is refused then, naming
it; the one-row path asks the same engine. A rule that still fails when the rules run (one
stored by an older version) is skipped with a ``SkippedRuleWarning`` naming it, and the other
rules apply: one bad rule never stops a run.

>>> rules = RuleSet.from_records([{"id": "gym", "category_detailed":
...     "PERSONAL_CARE_GYMS_AND_FITNESS_CENTERS", "conditions": [
...     {"field": "merchant_key", "operator": "contains", "value": "FITNESS"}]}])
>>> rules.rules[0].id
'gym'
"""

from __future__ import annotations

import tomllib
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, reduce
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError

from tactful.enrich.taxonomy import DETAILED
from tactful.errors import ConfigError
from tactful.rules import VOCABULARY, Condition, Kind, Subject, names, regex_error
from tactful.rules.conditions import NUMBER_OPERATORS as NUMERIC_OPERATORS
from tactful.rules.conditions import (
    OPERATORS,
    TEXT_OPERATORS,
    pattern,
    regex_reason,
    row_test,
    row_text,
    text_column,
    text_columns,
)
from tactful.rules.conditions import parse_condition as rule_condition
from tactful.rules.one_text import search

if TYPE_CHECKING:
    from tactful.enrich.merchants import ShapeKeys

__all__ = [
    "FIELDS",
    "NUMERIC_OPERATORS",
    "OPERATORS",
    "TEXT_OPERATORS",
    "Condition",
    "Rule",
    "RuleSet",
    "SkippedRuleWarning",
    "parse_condition",
    "regex_error",
]

TEXT_FIELDS: Final[tuple[str, ...]] = tuple(
    n for n in names(Subject.TRANSACTION) if VOCABULARY[n].kind is Kind.TEXT)
NUMERIC_FIELDS: Final[tuple[str, ...]] = tuple(
    n for n in names(Subject.TRANSACTION) if VOCABULARY[n].kind is not Kind.TEXT)
FIELDS: Final[tuple[str, ...]] = names(Subject.TRANSACTION)
RULE_KEYS: Final = (
    "id",
    "conditions",
    "category_detailed",
    "merchant",
    "tags",
    "priority",
    "enabled",
)
CONDITION_KEYS: Final = ("field", "operator", "value")


class SkippedRuleWarning(UserWarning):
    """A rule that cannot run was left out; the other rules apply."""


def _skip(rule_id: str, why: str) -> None:
    warnings.warn(
        f"rule {rule_id!r} skipped: {why}; the other rules apply", SkippedRuleWarning, stacklevel=3
    )


_text_col = text_column
_upper_columns = text_columns
_pattern = pattern
_reason = regex_reason
_py_text = row_text


@dataclass(frozen=True, slots=True)
class Rule:
    """All ``conditions`` must hold; then the rule sets a category and/or a merchant."""

    id: str
    conditions: tuple[Condition, ...]
    category_detailed: str | None = None
    merchant: str | None = None
    tags: tuple[str, ...] = ()
    priority: int = 100
    enabled: bool = True

    def channels(self) -> frozenset[str] | None:
        """The channels this rule can match (``None``: any)."""
        allowed: frozenset[str] | None = None
        for c in self.conditions:
            if c.field != "channel" or c.operator not in ("equals", "in"):
                continue
            values = c.value if isinstance(c.value, tuple) else (c.value,)
            these = frozenset(str(v).lower() for v in values)
            allowed = these if allowed is None else allowed & these
        return allowed

    def expr(self) -> pl.Expr:
        return reduce(lambda a, b: a & b, (c.expr() for c in self.conditions))

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": self.id,
            "priority": self.priority,
            "enabled": self.enabled,
            "conditions": [
                {
                    "field": c.field,
                    "operator": c.operator,
                    "value": list(c.value) if isinstance(c.value, tuple) else c.value,
                }
                for c in self.conditions
            ],
        }
        if self.category_detailed is not None:
            record["category_detailed"] = self.category_detailed
        if self.merchant is not None:
            record["merchant"] = self.merchant
        if self.tags:
            record["tags"] = list(self.tags)
        return record


class _RuleModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    conditions: list[dict[str, Any]]
    category_detailed: str | None = None
    merchant: str | None = None
    tags: list[str] = []
    priority: int = 100
    enabled: bool = True


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        return f"unknown key {loc!r}"
    if err["type"] == "missing":
        return f"missing key {loc!r}"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return msg if err["type"] == "value_error" else f"{loc!r}: {msg}"


def _condition(rule_id: str, raw: Any, index: int) -> Condition:
    return rule_condition(raw, where=f"rule {rule_id!r}", at=f"conditions[{index}]",
                          subject=Subject.TRANSACTION)


def parse_condition(text: str) -> dict[str, Any]:
    """``FIELD OPERATOR VALUE`` (what ``tactful rules add --when`` takes) as a condition record;
    the value is the rest of the text, spaces and all. Checked when its rule is built.

    >>> parse_condition("description regex \\\\bMIETE\\\\b")
    {'field': 'description', 'operator': 'regex', 'value': '\\\\bMIETE\\\\b'}
    """
    parts = text.split(maxsplit=2)
    if len(parts) != 3:
        raise ConfigError(f"--when {text!r}: expected FIELD OPERATOR VALUE")
    return {"field": parts[0], "operator": parts[1], "value": parts[2]}


def _rule(raw: Any, index: int) -> Rule:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"rule #{index}: must be a table, got {raw!r}")
    rule_id = str(raw.get("id", f"#{index}"))
    where = f"rule {rule_id!r}"
    try:
        model = _RuleModel.model_validate(dict(raw))
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_first_error(exc)}") from exc
    if not model.conditions:
        raise ConfigError(f"{where}: has no conditions")
    if model.category_detailed is not None and model.category_detailed not in DETAILED:
        raise ConfigError(
            f"{where}: category_detailed {model.category_detailed!r} is not in the taxonomy"
        )
    if model.category_detailed is None and model.merchant is None and not model.tags:
        raise ConfigError(f"{where}: sets none of category_detailed, merchant, tags")
    return Rule(
        id=model.id,
        conditions=tuple(_condition(model.id, c, k) for k, c in enumerate(model.conditions)),
        category_detailed=model.category_detailed,
        merchant=model.merchant,
        tags=tuple(model.tags),
        priority=model.priority,
        enabled=model.enabled,
    )


@dataclass(frozen=True)
class RuleSet:
    """An ordered, validated set of rules; ``version`` changes whenever the rules do."""

    version: int
    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ConfigError(f"rule {rule.id!r}: id is used twice")
            seen.add(rule.id)

    @classmethod
    def from_records(
        cls, records: Sequence[Mapping[str, Any]], *, version: int = 1, skip_invalid: bool = False
    ) -> RuleSet:
        """The rules of ``records``; the first invalid one raises ``ConfigError`` naming it, or,
        with ``skip_invalid`` (rules already stored, which an older version may have let in),
        is left out with a ``SkippedRuleWarning`` and the others are kept."""
        rules: list[Rule] = []
        for i, raw in enumerate(records):
            try:
                rules.append(_rule(raw, i))
            except ConfigError as exc:
                if not skip_invalid:
                    raise
                rule_id = raw.get("id", f"#{i}") if isinstance(raw, Mapping) else f"#{i}"
                _skip(str(rule_id), str(exc).removeprefix(f"rule {str(rule_id)!r}: "))
        ordered = sorted(enumerate(rules), key=lambda ir: (ir[1].priority, ir[0]))
        return cls(version=version, rules=tuple(r for _, r in ordered))

    @classmethod
    def from_toml(cls, path: Path | str) -> RuleSet:
        try:
            data = tomllib.loads(Path(path).read_text("utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        return cls._from_document(data, str(path))

    @classmethod
    def _from_document(cls, data: Mapping[str, Any], where: str) -> RuleSet:
        unknown = sorted(set(data) - {"version", "rules"})
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r}")
        version = data.get("version", 1)
        if not isinstance(version, int):
            raise ConfigError(f"{where}: version must be an integer, got {version!r}")
        try:
            return cls.from_records(list(data.get("rules", [])), version=version)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from exc

    @classmethod
    def default(cls) -> RuleSet:
        """The shipped generic rules (``data/default_rules.toml``)."""
        return _default_rules()

    def to_records(self) -> list[dict[str, Any]]:
        return [r.to_record() for r in self.rules]

    def then(self, other: RuleSet) -> RuleSet:
        """These rules first, then ``other``'s (a bank's own rules before the defaults)."""
        return RuleSet(
            version=self.version * 10_000 + other.version, rules=self.rules + other.rules
        )

    def _matchers(self) -> list[tuple[Rule, list[_RowTest]]]:
        """Per enabled rule, its conditions as row tests: a function, or the index of a regex
        condition in ``_regexes`` (those are decided by Polars, all at once, see ``_regex_row``)."""
        cached: list[tuple[Rule, list[_RowTest]]] | None = self.__dict__.get("_py")
        if cached is None:
            regexes: dict[Condition, int] = {}
            cached = []
            for rule in self.rules:
                if not rule.enabled:
                    continue
                tests: list[_RowTest] = []
                for c in rule.conditions:
                    if c.operator == "regex" and c.field in TEXT_FIELDS:
                        tests.append(regexes.setdefault(c, len(regexes)))
                    else:
                        tests.append(_py_condition(c))
                cached.append((rule, tests))
            object.__setattr__(self, "_regexes", tuple(regexes))
            object.__setattr__(self, "_py", cached)
        return cached

    def _regex_row(self, row: Mapping[str, Any], wanted: Sequence[int]) -> dict[int, bool]:
        """The ``wanted`` regex conditions of the set on one row: by RE2 where it reads the
        pattern as the frame path's engine does (``rules.one_text``), the rest in one Polars
        call; both linear in the text, so no pattern can make the real-time path hang."""
        conditions: tuple[Condition, ...] = self.__dict__["_regexes"]
        memo: dict[tuple[int, str | None], bool] = self.__dict__.setdefault("_regex_memo", {})
        texts = {k: _py_text(row, conditions[k].field) for k in wanted}
        out = {k: memo[k, texts[k]] for k in wanted if (k, texts[k]) in memo}
        for k in wanted:  # no text matches nothing; RE2 answers where it reads the pattern
            if k not in out:  # as the batch's engine does (``rules.one_text``)
                text = texts[k]
                got = False if text is None else search(pattern(conditions[k].value), text)
                if got is not None:
                    out[k] = got
        todo = [k for k in wanted if k not in out]
        if not todo:
            return out
        fields = sorted({conditions[k].field for k in todo})
        one = pl.DataFrame(
            {f"__U_{f}": [_py_text(row, f)] for f in fields},
            schema={f"__U_{f}": pl.String for f in fields},
        )
        exprs = [conditions[k].expr().alias(f"r{k}") for k in todo]
        try:
            out.update(zip(todo, one.select(exprs).row(0), strict=True))
        except pl.exceptions.PolarsError:
            for k, expr in zip(todo, exprs, strict=True):  # one cannot run: find it
                try:
                    out[k] = bool(one.select(expr).item())
                except pl.exceptions.PolarsError as exc:
                    c = conditions[k]
                    for rule in self.rules:
                        if c in rule.conditions:
                            _skip(rule.id, f"regex {c.value!r} cannot run: {_reason(str(exc))}")
                    out[k] = False
        if len(memo) > _REGEX_MEMO:
            memo.clear()
        memo.update(((k, texts[k]), out[k]) for k in todo)
        return out

    def first_match_row(self, row: Mapping[str, Any]) -> Rule | None:
        """The rule ``apply`` picks for one row (a dict of column -> value), in Python but for
        the regex conditions, which RE2 or one Polars call decide (see ``_regex_row``), and
        only those of the rules that every other condition leaves in the running.

        Only valid when every text value the rules read is printable ASCII (see
        ``merchants.plain_text``), where Python's ``str.upper`` agrees with Polars'."""
        pending: list[tuple[Rule, list[int]]] = []
        for rule, tests in self._matchers():
            needs: list[int] = []
            for test in tests:
                if isinstance(test, int):
                    needs.append(test)
                elif not test(row):
                    break
            else:
                if not needs and not pending:
                    return rule
                pending.append((rule, needs))
                if not needs:  # no later rule can win over this one
                    break
        if not pending:
            return None
        hits = self._regex_row(row, sorted({k for _, needs in pending for k in needs}))
        for rule, needs in pending:
            if all(hits[k] for k in needs):
                return rule
        return None

    def apply(self, frame: pl.DataFrame, *, keys: ShapeKeys | None = None) -> pl.DataFrame:
        """``frame`` plus ``rule_id``, ``rule_category_detailed``, ``rule_merchant``.

        ``keys`` (``merchants.shape_keys`` of a frame ``normalize`` returned) lets the text
        conditions on the descriptor columns run once per distinct descriptor or shape."""
        active = [r for r in self.rules if r.enabled]
        try:
            index = _first_match(frame, active, keys)
        except pl.exceptions.PolarsError:
            bad = {
                r.id: reason
                for r in active
                for c in r.conditions
                if c.operator == "regex" and (reason := regex_error(_pattern(c.value)))
            }
            if not bad:
                raise
            for rule_id, reason in bad.items():
                _skip(rule_id, f"its regex cannot run: {reason}")
            active = [r for r in active if r.id not in bad]
            index = _first_match(frame, active, keys)
        cats = {i: r.category_detailed for i, r in enumerate(active)}
        merchants = {i: r.merchant for i, r in enumerate(active)}
        ids = {i: r.id for i, r in enumerate(active)}
        return frame.with_columns(
            index.replace_strict(ids, default=None, return_dtype=pl.String).alias("rule_id"),
            index.replace_strict(cats, default=None, return_dtype=pl.String).alias(
                "rule_category_detailed"
            ),
            index.replace_strict(merchants, default=None, return_dtype=pl.String).alias(
                "rule_merchant"
            ),
        )


_REGEX_MEMO: Final = 4096
"""Regex answers remembered per (condition, text) on the one-row path: merchant keys repeat, and
one Polars call costs more than the rest of a row's categorization."""

_RowTest = Callable[[Mapping[str, Any]], bool] | int


def _py_condition(c: Condition) -> Callable[[Mapping[str, Any]], bool]:
    """The rule language's own one-row test of ``c`` (regex conditions go to ``_regex_row``)."""
    if c.operator == "regex":
        raise ValueError("a regex condition is evaluated by Polars, all at once")
    return row_test(c)


_MASK_BITS: Final = 62
"""Conditions packed into one Int64 mask column (a field with more gets several columns)."""


def _field_values(frame: pl.DataFrame, field: str) -> pl.DataFrame:
    """The distinct values of the column a text field reads (``direction``: of the sign)."""
    if field == "direction":
        return pl.DataFrame({"amount_minor": [1, 0]}, schema={"amount_minor": pl.Int64})
    return frame.select(pl.col(field).unique())


def _value_masks(
    values: pl.DataFrame, field: str, chunk: Sequence[int], conditions: Sequence[Condition]
) -> pl.DataFrame:
    """v (each distinct value) -> m (the mask of the ``chunk`` conditions on it).

    ``contains`` conditions are only evaluated on the values that contain any of their words
    (one Aho-Corasick pass decides that); on the others they are false."""

    def packed(ks: Sequence[int]) -> pl.Expr:
        return pl.sum_horizontal(
            [pl.lit(0, dtype=pl.Int64)]
            + [conditions[k].expr().cast(pl.Int64) * (1 << chunk.index(k)) for k in ks]
        )

    upper = values.with_columns(_upper_columns({field}))
    v = pl.col(values.columns[0]).alias("v")
    contains = [k for k in chunk if conditions[k].operator == "contains"]
    if len(contains) < 2 or upper.height < 1_000:
        return upper.select(v, packed(chunk).alias("m"))
    words: set[str] = set()
    for k in contains:
        value = conditions[k].value
        words.update(str(x).upper() for x in (value if isinstance(value, tuple) else (value,)))
    hit = (
        _text_col(field)
        .str.contains_any(sorted(words), ascii_case_insensitive=False)
        .fill_null(False)
    )
    upper = upper.with_columns(hit.alias("__hit"))
    rest = [k for k in chunk if k not in contains]
    return pl.concat(
        [
            upper.filter(pl.col("__hit")).select(v, packed(chunk).alias("m")),
            upper.filter(~pl.col("__hit")).select(v, packed(rest).alias("m")),
        ]
    )


_KEYED_FIELDS: Final = frozenset(
    {"description", "counterparty", "channel", "merchant", "merchant_key"}
)
"""Text fields that are a function of a row's (description shape, counterparty, channel)."""

_REGEX_SAFE_ESCAPES: Final = frozenset("b.-*+?()|$^/&#' ,:;!\\\"=<>%@_~`")


def _digit_free(text: str) -> bool:
    return not any(ch.isnumeric() or ch.isdigit() or ch.isdecimal() for ch in text)


def _regex_shape_safe(pattern: str) -> bool:
    """A regex made only of digit-free literals, groups, alternation, repetition, ``^``, ``$``
    and ``\\b``: whatever it matches has no digit, and ``\\b`` sees a digit as a digit."""
    if not _digit_free(pattern):
        return False
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= len(pattern) or pattern[i + 1] not in _REGEX_SAFE_ESCAPES:
                return False
            i += 2
            continue
        if ch in ".[]{}":
            return False
        if ch == "(" and pattern.startswith("(?", i) and not pattern.startswith("(?:", i):
            return False
        i += 1
    return True


def shape_safe(condition: Condition) -> bool:
    """Whether ``condition`` on a description equals the condition on its shape (runs of two
    or more digits collapsed to one ``0``): true when its values can only match digit-free
    text, which the collapse leaves as it was."""
    if condition.field != "description":
        return True
    if condition.operator == "regex":
        return _regex_shape_safe(str(condition.value))
    values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
    return all(isinstance(v, str) and _digit_free(v.upper()) and _digit_free(v) for v in values)


def _table_masks(
    table: pl.DataFrame, field: str, chunk: Sequence[int], conditions: Sequence[Condition]
) -> pl.Series:
    """The Int64 mask of the ``chunk`` conditions on each row of ``table`` (in order).

    As in ``_value_masks``, ``contains`` conditions only run on the rows that contain any of
    their words (one Aho-Corasick pass decides that); on the others they are false."""

    def packed(ks: Sequence[int]) -> pl.Expr:
        return pl.sum_horizontal(
            [pl.lit(0, dtype=pl.Int64)]
            + [conditions[k].expr().cast(pl.Int64) * (1 << chunk.index(k)) for k in ks]
        ).alias("m")

    upper = table.select(pl.col(field)).with_columns(_upper_columns({field}))
    contains = [k for k in chunk if conditions[k].operator == "contains"]
    if len(contains) < 2 or upper.height < 1_000:
        return upper.select(packed(chunk)).to_series()
    words: set[str] = set()
    for k in contains:
        value = conditions[k].value
        words.update(str(x).upper() for x in (value if isinstance(value, tuple) else (value,)))
    hit = (
        _text_col(field)
        .str.contains_any(sorted(words), ascii_case_insensitive=False)
        .fill_null(False)
    )
    upper = upper.with_columns(hit.alias("__hit"))
    rest = [k for k in chunk if k not in contains]
    masks = upper.select(packed(rest)).to_series()
    where = upper.select(pl.col("__hit").arg_true()).to_series()
    if where.len():
        masks = masks.scatter(
            where, upper.filter(pl.col("__hit")).select(packed(chunk)).to_series()
        )
    return masks


def _keyed_masks(
    keys: ShapeKeys,
    field: str,
    ks: Sequence[int],
    conditions: Sequence[Condition],
    first_group: int,
    where: list[list[tuple[int, int]]],
) -> list[pl.Series]:
    """Masks of the conditions ``ks`` on ``field`` evaluated per shape (those ``shape_safe``)
    or per distinct descriptor, gathered to the rows."""
    safe = [k for k in ks if shape_safe(conditions[k]) or field not in keys.distinct.columns]
    rest = [k for k in ks if k not in safe]
    out: list[pl.Series] = []
    for level, group_ks in (("shape", safe), ("distinct", rest)):
        for start in range(0, len(group_ks), _MASK_BITS):
            chunk = group_ks[start : start + _MASK_BITS]
            group = first_group + len(out)
            for bit, k in enumerate(chunk):
                where[k].append((group, bit))
            if level == "shape":
                masks = _table_masks(keys.shapes, field, chunk, conditions)
                row = masks.gather(keys.row_shape)
            else:
                masks = _table_masks(keys.distinct, field, chunk, conditions)
                row = masks.gather(keys.row_distinct)
            out.append(row.alias(f"__m{group}"))
    return out


def _row_masks(
    frame: pl.DataFrame, conditions: Sequence[Condition], keys: ShapeKeys | None = None
) -> tuple[list[pl.Expr], list[list[tuple[int, int]]]]:
    """One Int64 mask expression per group of conditions on the same column, and where each
    condition's bit is: ``(group, bit)``. Text conditions are evaluated once per distinct value
    of their column (with the very expressions a row would get), numeric ones per row."""
    by_field: dict[str, list[int]] = {}
    for k, cond in enumerate(conditions):
        by_field.setdefault(cond.field, []).append(k)
    exprs: list[pl.Expr] = []
    where: list[list[tuple[int, int]]] = [[] for _ in conditions]
    for field, ks in sorted(by_field.items()):
        if keys is not None and field in _KEYED_FIELDS:
            for series in _keyed_masks(keys, field, ks, conditions, len(exprs), where):
                exprs.append(pl.lit(series))
            continue
        for start in range(0, len(ks), _MASK_BITS):
            chunk = ks[start : start + _MASK_BITS]
            group = len(exprs)
            for bit, k in enumerate(chunk):
                where[k].append((group, bit))
            packed = pl.sum_horizontal(
                [conditions[k].expr().cast(pl.Int64) * (1 << bit) for bit, k in enumerate(chunk)]
            )
            if field in NUMERIC_FIELDS:
                exprs.append(packed.alias(f"__m{group}"))
                continue
            masks = _value_masks(_field_values(frame, field), field, chunk, conditions)
            if field == "direction":
                m_in, m_out = masks["m"].to_list()
                exprs.append(
                    pl.when(pl.col("amount_minor") > 0)
                    .then(pl.lit(m_in, dtype=pl.Int64))
                    .otherwise(pl.lit(m_out, dtype=pl.Int64))
                    .alias(f"__m{group}")
                )
                continue
            nulls = masks.filter(pl.col("v").is_null())
            known = masks.filter(pl.col("v").is_not_null())
            common = 0
            if known.height:
                common = int(known["m"].mode().sort()[0])
            special = known.filter(pl.col("m") != common)
            col = pl.col(field)
            if special.height:
                mapped = col.replace_strict(
                    special["v"], special["m"], default=common, return_dtype=pl.Int64
                )
            else:
                mapped = pl.lit(common, dtype=pl.Int64)
            if nulls.height:
                mapped = (
                    pl.when(col.is_null())
                    .then(pl.lit(int(nulls["m"][0]), dtype=pl.Int64))
                    .otherwise(mapped)
                )
            exprs.append(mapped.alias(f"__m{group}"))
    return exprs, where


def _first_match(
    frame: pl.DataFrame, rules: Sequence[Rule], keys: ShapeKeys | None = None
) -> pl.Series:
    """The index of the first rule that matches each row (null: none does).

    Every condition becomes one bit of a per-row mask; the rules' first-match order is then
    decided once per distinct combination of masks, in Python, and joined back."""
    if frame.height == 0 or not rules:
        return pl.Series("rule", [None] * frame.height, dtype=pl.Int32)
    fields = {c.field for r in rules for c in r.conditions if c.field in TEXT_FIELDS}
    missing = sorted({f for f in fields if f != "direction"} - set(frame.columns))
    if missing:
        raise ConfigError(f"rules read column(s) the frame lacks: {', '.join(missing)}")
    conditions = list(dict.fromkeys(c for r in rules for c in r.conditions))
    number = {c: k for k, c in enumerate(conditions)}
    exprs, where = _row_masks(frame, conditions, keys)
    names = [f"__m{g}" for g in range(len(exprs))]
    per_row = frame.with_columns(exprs).select(names)  # a constant mask still gets every row
    needs = [
        [where[number[c]][0] for c in r.conditions] for r in rules
    ]  # (group, bit) of each condition of each rule
    widths = [0] * len(names)
    for places in where:
        for g, bit in places:
            widths[g] = max(widths[g], bit + 1)
    if len(names) > 1 and sum(widths) <= _MASK_BITS:
        return _first_match_packed(per_row, names, widths, needs)
    combos = per_row.unique()
    firsts: list[int | None] = []
    for combo in combos.iter_rows():
        first: int | None = None
        for i, need in enumerate(needs):
            if all((combo[g] >> bit) & 1 for g, bit in need):
                first = i
                break
        firsts.append(first)
    table = combos.with_columns(pl.Series("rule", firsts, dtype=pl.Int32))
    if len(names) == 1:
        only = names[0]
        return per_row.select(
            pl.col(only)
            .replace_strict(table[only], table["rule"], return_dtype=pl.Int32)
            .alias("rule")
        ).get_column("rule")
    return per_row.join(table, on=names, how="left", maintain_order="left").get_column("rule")


def _first_match_packed(
    per_row: pl.DataFrame,
    names: Sequence[str],
    widths: Sequence[int],
    needs: Sequence[Sequence[tuple[int, int]]],
) -> pl.Series:
    """``_first_match`` when all the masks fit in one Int64 side by side: one key column,
    decided once per distinct key and mapped back without a join."""
    offsets = [sum(widths[:g]) for g in range(len(widths))]
    key = per_row.select(
        pl.sum_horizontal(
            [
                pl.col(name).cast(pl.Int64) * pl.lit(1 << off, dtype=pl.Int64)
                for name, off in zip(names, offsets, strict=True)
            ]
        ).alias("key")
    ).to_series()
    combos = key.unique()
    firsts: list[int | None] = []
    for combo in combos.to_list():
        masks = [(combo >> off) & ((1 << w) - 1) for off, w in zip(offsets, widths, strict=True)]
        first: int | None = None
        for i, need in enumerate(needs):
            if all((masks[g] >> bit) & 1 for g, bit in need):
                first = i
                break
        firsts.append(first)
    return key.replace_strict(
        combos, pl.Series(firsts, dtype=pl.Int32), return_dtype=pl.Int32
    ).alias("rule")


@cache
def _default_rules() -> RuleSet:
    text = resources.files("tactful.enrich").joinpath("data/default_rules.toml").read_text("utf-8")
    return RuleSet._from_document(tomllib.loads(text), "default_rules.toml")
