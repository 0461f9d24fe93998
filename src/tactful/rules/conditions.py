"""One condition of the bank's rule language -- ``{field, operator, value}`` -- validated once and
evaluated two ways that agree: as a Polars expression over a frame, and on one row in Python.

Operators by the kind of the field (``rules.vocabulary``):

- text: ``equals``, ``not_equals``, ``contains`` (one text or a list: any of them),
  ``starts_with``, ``ends_with``, ``regex``, ``in``; case is ignored; a missing value is
  ``not_equals`` anything and ``equals ""``;
- numbers (``integer``, ``money``, ``count``, ``days``): ``equals``, ``not_equals``, ``gt``,
  ``gte``, ``lt``, ``lte``, ``between`` ([low, high], both included), ``in``; a missing value
  matches nothing;
- ``flag``: ``equals``, ``not_equals`` (``true`` / ``false``).

A ``regex`` is Rust's ``regex`` crate syntax, the engine Polars runs: matching takes time linear
in the text whatever the pattern (no look-around, no backreferences), so no rule and no
customer's text can make a run hang. A pattern is compiled by that very engine when the rule is
loaded, and refused then, naming it; the one-row path asks the same engine.

Conditions are checked with a pydantic model (``extra="forbid"``) and every error names where
the rule is (``file: rule 'id'``) and the field, e.g.
``bank.toml: rule 'x': field 'when[0].operator': must be one of ...``. Old spellings --
``feature`` / ``op`` keys, ``>=``-style operators, the features of :data:`vocabulary.ALIASES` --
load with a :class:`~tactful.rules.vocabulary.RuleSpellingWarning` naming the new word.

>>> c = parse_condition({"field": "holds_savings", "operator": "equals", "value": False},
...                     where="b.toml: rule 'x'", at="when[0]")
>>> c.holds({"holds_savings": 0.0}), c.holds({"holds_savings": 1.0})
(True, False)
"""

from __future__ import annotations

import dataclasses
import operator
import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError

from tactful.errors import ConfigError
from tactful.rules.one_text import search
from tactful.rules.vocabulary import (
    ALIASES,
    SPEND_PREFIX,
    Kind,
    RuleSpellingWarning,
    Subject,
    feature,
    names,
)

TEXT_OPERATORS: Final = ("equals", "not_equals", "contains", "starts_with", "ends_with", "regex",
                         "in")
NUMBER_OPERATORS: Final = ("equals", "not_equals", "gt", "gte", "lt", "lte", "between", "in")
FLAG_OPERATORS: Final = ("equals", "not_equals")
OPERATORS: Final[tuple[str, ...]] = tuple(sorted(set(TEXT_OPERATORS) | set(NUMBER_OPERATORS)))
OPERATOR_ALIASES: Final[Mapping[str, str]] = {
    "==": "equals", "!=": "not_equals", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte",
}
"""The insight rules' operators before the merge -> the word now."""
KEY_ALIASES: Final[Mapping[str, str]] = {"feature": "field", "op": "operator"}


def operators_of(kind: Kind) -> tuple[str, ...]:
    if kind is Kind.TEXT:
        return TEXT_OPERATORS
    return FLAG_OPERATORS if kind is Kind.FLAG else NUMBER_OPERATORS


Value = str | int | float | bool | tuple[str | int | float, ...]
RowTest = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True)
class Condition:
    """``field operator value``; ``value`` is a tuple for ``in`` / ``between`` / a list of
    ``contains``. ``kind`` is the field's (``rules.vocabulary``)."""

    field: str
    operator: str
    value: Value
    kind: Kind = Kind.TEXT
    _test: RowTest = dataclasses.field(init=False, repr=False, compare=False)
    """The one-row test, prepared once: a decision tests every candidate's conditions."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_test", row_test(self))

    @property
    def feature(self) -> str:
        """The field, under the name the customer rules used for it."""
        return self.field

    def expr(self) -> pl.Expr:
        """The boolean Polars expression of this condition. A text field is read from its
        upper-cased copy (:func:`text_columns`), a money field against the row's ``unit``."""
        if self.kind is Kind.TEXT:
            return _text(text_column(self.field), self.operator, self.value)
        if self.kind is Kind.FLAG:
            want = pl.lit(1.0 if self.value else 0.0)
            hit = pl.col(self.field).cast(pl.Float64) == want
            if self.operator == "not_equals":
                hit = ~hit
            return hit.fill_null(False)
        scale = pl.col("unit") if self.kind is Kind.MONEY else None
        return _numeric(pl.col(self.field), self.operator, self.value, scale)

    def holds(self, row: Mapping[str, Any]) -> bool:
        """The same test on one row (a mapping of field -> value; money in minor units beside
        its ``unit``): the per-decision path, where a frame costs more than the arithmetic."""
        return self._test(row)

    def describe(self) -> str:
        """``field operator value``, as a person reads it in an explanation."""
        value = self.value
        if isinstance(value, bool) or self.kind is Kind.FLAG:
            shown = "true" if value else "false"
        elif isinstance(value, tuple):
            shown = "[" + ", ".join(_num(v) for v in value) + "]"
        else:
            shown = _num(value)
        return f"{self.field} {self.operator} {shown}"

    def to_record(self) -> dict[str, Any]:
        return {"field": self.field, "operator": self.operator,
                "value": list(self.value) if isinstance(self.value, tuple) else self.value}


def _num(v: str | int | float) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


# -- evaluation ----------------------------------------------------------------------------------


def text_column(field: str) -> pl.Expr:
    return pl.col(f"__U_{field}")


def text_columns(fields: Collection[str]) -> list[pl.Expr]:
    """Upper-cased copies of the text fields the conditions read, computed once per frame
    (``direction`` from the amount's sign)."""
    out = []
    for field in sorted(fields):
        if field == "direction":
            expr = pl.when(pl.col("amount_minor") > 0).then(pl.lit("IN")).otherwise(pl.lit("OUT"))
        else:
            expr = pl.col(field).cast(pl.String).str.to_uppercase()
        out.append(expr.alias(f"__U_{field}"))
    return out


def row_text(row: Mapping[str, Any], field: str) -> str | None:
    """A text field of one row as the frame path compares it: upper-cased (``direction``: from
    the amount's sign)."""
    if field == "direction":
        amount = row.get("amount_minor")
        return "IN" if amount is not None and amount > 0 else "OUT"
    v = row.get(field)
    return None if v is None else str(v).upper()


def pattern(value: object) -> str:
    """The pattern a ``regex`` condition runs: case-insensitive, as every text comparison."""
    return f"(?i){value}"


_REGEX_META: Final = frozenset("\\.+*?()|[]{}^$#&-~")


def any_literal(words: Sequence[str]) -> str:
    """A regex matching wherever any of ``words`` occurs (each taken literally): the regex
    engine's literal search beats ``contains_any`` on short lists."""
    return "|".join("".join("\\" + ch if ch in _REGEX_META else ch for ch in w) for w in words)


def _text(col: pl.Expr, op: str, value: Any) -> pl.Expr:
    if op == "contains":
        values = [str(v).upper() for v in (value if isinstance(value, tuple) else (value,))]
        hit = col.str.contains(any_literal(values))
    elif op == "regex":
        hit = col.str.contains(pattern(value))
    elif op == "in":
        hit = col.is_in([str(v).upper() for v in value])
    elif op == "starts_with":
        hit = col.str.starts_with(str(value).upper())
    elif op == "ends_with":
        hit = col.str.ends_with(str(value).upper())
    elif op == "equals" and value == "":
        return col.is_null() | (col == "")
    elif op == "equals":
        hit = col == str(value).upper()
    else:  # not_equals: a missing value is "not equal"
        return (col != str(value).upper()).fill_null(True)
    return hit.fill_null(False)


def _numeric(col: pl.Expr, op: str, value: Any, scale: pl.Expr | None = None) -> pl.Expr:
    def lit(v: Any) -> Any:
        return v if scale is None else pl.lit(v) * scale

    if op == "between":
        hit = col.is_between(lit(value[0]), lit(value[1]))
    elif op == "in":
        hit = (col.is_in(list(value)) if scale is None else
               pl.any_horizontal([col == lit(v) for v in value]))
    else:
        threshold = lit(value)
        hit = {
            "equals": col == threshold,
            "not_equals": col != threshold,
            "gt": col > threshold,
            "gte": col >= threshold,
            "lt": col < threshold,
            "lte": col <= threshold,
        }[op]
    return hit.fill_null(False)


def row_test(c: Condition) -> RowTest:
    """``c`` on one row as a function, its constants prepared once: the pure-Python twin of
    :meth:`Condition.expr` (upper-cased text, the same null rules; a regex asks Polars)."""
    field, op, value = c.field, c.operator, c.value
    if c.kind is Kind.TEXT:
        return _text_test(field, op, value)
    if c.kind is Kind.FLAG:
        want = bool(value)
        if op == "equals":
            return lambda row: (x := row.get(field)) is not None and bool(x) == want
        return lambda row: (x := row.get(field)) is not None and bool(x) != want
    money = c.kind is Kind.MONEY

    def scaled(row: Mapping[str, Any]) -> float:
        return float(row["unit"]) if money else 1.0

    numbers: tuple[float, ...] = tuple(
        float(v) for v in (value if isinstance(value, tuple) else (value,)))
    if op == "between":
        low, high = numbers
        return lambda row: (x := row.get(field)) is not None and bool(
            low * (u := scaled(row)) <= x <= high * u)
    if op == "in":
        return lambda row: (x := row.get(field)) is not None and any(
            x == v * scaled(row) for v in numbers)
    one = numbers[0]
    compare = _COMPARE[op]
    return lambda row: (x := row.get(field)) is not None and bool(compare(x, one * scaled(row)))


_COMPARE: Final[Mapping[str, Callable[[Any, Any], bool]]] = {
    "equals": operator.eq, "not_equals": operator.ne, "gt": operator.gt, "gte": operator.ge,
    "lt": operator.lt, "lte": operator.le,
}


def _text_test(field: str, op: str, value: Any) -> RowTest:
    def get(row: Mapping[str, Any]) -> str | None:
        return row_text(row, field)

    if op == "contains":
        words = [str(v).upper() for v in (value if isinstance(value, tuple) else (value,))]
        return lambda row: (v := get(row)) is not None and any(w in v for w in words)
    if op == "regex":
        regex = pattern(value)
        return lambda row: (v := get(row)) is not None and regex_matches(regex, v)
    if op == "in":
        members = frozenset(str(v).upper() for v in value)
        return lambda row: (v := get(row)) is not None and v in members
    text = str(value).upper()
    if op == "starts_with":
        return lambda row: (v := get(row)) is not None and v.startswith(text)
    if op == "ends_with":
        return lambda row: (v := get(row)) is not None and v.endswith(text)
    if op == "equals" and value == "":
        return lambda row: (v := get(row)) is None or v == ""
    if op == "equals":
        return lambda row: get(row) == text
    return lambda row: (v := get(row)) is None or v != text


@lru_cache(maxsize=1024)
def regex_error(pattern: str) -> str | None:
    """Why Polars' regex engine (Rust's ``regex`` crate) refuses ``pattern``; ``None`` if it
    compiles. The very engine the rules run on decides: Python's ``re`` accepts look-around and
    backreferences, which this engine refuses, and backtracks where this one cannot.

    >>> regex_error("(?=X)")
    'look-around, including look-ahead and look-behind, is not supported'
    >>> regex_error(r"\\bRENT\\b") is None
    True
    """
    try:
        pl.select(pl.lit("", dtype=pl.String).str.contains(pattern))
    except pl.exceptions.PolarsError as exc:
        return regex_reason(str(exc))
    return None


def regex_reason(message: str) -> str:
    """The one line of a Polars regex error that says why (not the pattern echoed back)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("error: "):
            return line.removeprefix("error: ")
    first = lines[0] if lines else message
    return first.removeprefix("regex error: ").removeprefix("regex parse error:").strip()


@lru_cache(maxsize=4096)
def regex_matches(regex: str, text: str) -> bool:
    """``regex`` on one text, by a linear-time engine (never Python's backtracking ``re``):
    RE2 where it reads the pattern as the batch's engine does (``rules.one_text``), else
    Polars' own."""
    got = search(regex, text)
    if got is not None:
        return got
    return bool(pl.select(pl.lit(text, dtype=pl.String).str.contains(regex)).item())


# -- validation ----------------------------------------------------------------------------------


class _ConditionModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    field: str
    operator: str
    value: bool | int | float | str | list[int | float | str]


def _fail(where: str, at: str, why: str) -> ConfigError:
    return ConfigError(f"{where}: field {at!r}: {why}")


def _renamed(where: str, at: str, renames: list[tuple[str, str]]) -> None:
    """One warning per condition, naming every old word in it and the word to write instead."""
    words = ", ".join(f"{old!r} -> {new!r}" for old, new in renames)
    warnings.warn(
        f"{where}: field {at!r}: old spelling ({words}); it still loads as the new words and "
        "will stop loading in a future version: write the new words (docs/rules.md)",
        RuleSpellingWarning, stacklevel=3)


def parse_condition(raw: Any, *, where: str, at: str,
                    subject: Subject = Subject.CUSTOMER) -> Condition:
    """One ``{field, operator, value}`` condition, validated; errors name ``where`` (the file
    and the rule) and ``at`` (the condition's place in the rule, e.g. ``when[0]``)."""
    if not isinstance(raw, Mapping):
        raise _fail(where, at, f"a condition must be a table {{field, operator, value}}; "
                               f"got {raw!r}")
    data: dict[str, Any] = {}
    written: dict[str, str] = {}
    renames: list[tuple[str, str]] = []
    for key, v in raw.items():
        new = KEY_ALIASES.get(str(key), str(key))
        if new != key:
            if new in raw:
                raise _fail(where, f"{at}.{key}", f"give {new!r} alone (the old spelling "
                                                   f"{key!r} as well is ambiguous)")
            renames.append((str(key), new))
        data[new] = v
        written[new] = f"{at}.{key}"
    try:
        model = _ConditionModel.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = str(err["loc"][0]) if err["loc"] else ""
        place = written.get(key, f"{at}.{key}")
        if err["type"] == "extra_forbidden":
            raise _fail(where, place, "unknown key (expected field, operator, value)") from None
        if err["type"] == "missing":
            raise _fail(where, place, "is required (a condition is {field, operator, "
                                      "value})") from None
        got = data.get(key)
        what = ("a text" if key in ("field", "operator")
                else "a text, a number, true/false or a list")
        raise _fail(where, place, f"must be {what}; got {got!r}") from None
    name = model.field
    if name in ALIASES:
        renames.append((name, ALIASES[name]))
        name = ALIASES[name]
    found = feature(name)
    if found is None or found.subject is not subject:
        known = ", ".join(names(subject))
        if subject is Subject.CUSTOMER:
            known += f", {SPEND_PREFIX}<PRIMARY_CATEGORY>"
        raise _fail(where, written["field"], f"unknown feature {name!r} (known: {known})")
    op = model.operator
    if op in OPERATOR_ALIASES:
        renames.append((op, OPERATOR_ALIASES[op]))
        op = OPERATOR_ALIASES[op]
    if renames:
        _renamed(where, at, renames)
    kind = found.kind
    allowed = operators_of(kind)
    if op not in allowed:
        raise _fail(where, written["operator"],
                    f"must be one of {', '.join(allowed)} for the {kind.value} feature "
                    f"{name!r}; got {model.operator!r}")
    return Condition(name, op, _value(model.value, op, kind, name, where, written["value"]),
                     kind)


def _value(value: Any, op: str, kind: Kind, name: str, where: str, at: str) -> Value:
    def fail(why: str) -> ConfigError:
        return _fail(where, at, why)

    many = op in ("in", "between") or (op == "contains" and isinstance(value, list))
    if op in ("in", "between") and not isinstance(value, list):
        raise fail(f"operator {op!r} needs a list; got {value!r}")
    if isinstance(value, list) and not many:
        raise fail(f"operator {op!r} needs a single value; got {value!r}")
    items = value if isinstance(value, list) else [value]
    if not items:
        raise fail(f"operator {op!r} needs at least one value; got []")
    if op == "between" and len(items) != 2:
        raise fail(f"operator 'between' needs [low, high]; got {value!r}")
    if kind is Kind.FLAG:
        if isinstance(value, bool) or value in (0, 1):
            return bool(value)
        raise fail(f"{name!r} is a flag: true or false; got {value!r}")
    if kind is Kind.TEXT:
        if any(isinstance(v, bool | float) for v in items):
            raise fail(f"{name!r} compares text; got {value!r}")
        if name == "direction" and op in ("equals", "not_equals") and \
                str(value).lower() not in ("in", "out"):
            raise fail(f"direction is 'in' or 'out'; got {value!r}")
        if op == "regex":
            reason = regex_error(pattern(value))
            if reason is not None:
                raise fail(f"regex {value!r} does not compile: {reason}")
    else:
        number = int if kind is Kind.INTEGER else int | float
        if any(isinstance(v, bool) or not isinstance(v, number) for v in items):
            what = "integers (minor units)" if kind is Kind.INTEGER else "numbers"
            unit = " in major units of the customer's currency" if kind is Kind.MONEY else ""
            raise fail(f"{name!r} compares {what}{unit}; got {value!r}")
        if op == "between" and items[0] > items[1]:
            raise fail(f"between needs low <= high; got {value!r}")
    return tuple(items) if isinstance(value, list) else value
