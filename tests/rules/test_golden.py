"""The golden cases of the rule language (``tests/data/rules_golden.toml``): every word of the
vocabulary and every operator pinned by inputs and the expected answer, on both evaluation
paths; a word or an operator without cases fails here."""

from __future__ import annotations

import tomllib
import warnings
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tactful.errors import ConfigError
from tactful.rules import (
    OPERATORS,
    SPEND_PREFIX,
    VOCABULARY,
    Kind,
    RuleSpellingWarning,
    feature,
    parse_condition,
)
from tactful.rules.conditions import text_columns

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "rules_golden.toml"
CASES: list[dict[str, Any]] = tomllib.loads(GOLDEN.read_text("utf-8"))["cases"]


def _id(case: dict[str, Any]) -> str:
    return f"{case['field']}-{case['operator']}-{case['expect']}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_a_golden_case_gives_its_answer_on_both_paths(case: dict[str, Any]) -> None:
    found = feature(case["field"])
    assert found is not None, case["field"]
    raw = {k: case[k] for k in ("field", "operator", "value")}
    condition = parse_condition(raw, where="golden", at=case["field"], subject=found.subject)
    row = case["row"]
    assert condition.holds(row) is case["expect"]
    frame = pl.DataFrame([row])
    if found.kind is Kind.TEXT:
        frame = frame.with_columns(text_columns({case["field"]}))
    assert frame.select(condition.expr()).item() is case["expect"]


def test_every_word_has_a_case_that_holds_and_one_that_does_not() -> None:
    answers: dict[str, set[bool]] = {}
    for case in CASES:
        name = case["field"]
        key = f"{SPEND_PREFIX}<CATEGORY>" if name.startswith(SPEND_PREFIX) else name
        answers.setdefault(key, set()).add(case["expect"])
    words = [*VOCABULARY, f"{SPEND_PREFIX}<CATEGORY>"]
    missing = [w for w in words if answers.get(w) != {True, False}]
    assert not missing, f"words without a true and a false golden case: {missing}"


def test_every_operator_has_a_case_that_holds_and_one_that_does_not() -> None:
    answers: dict[str, set[bool]] = {}
    for case in CASES:
        answers.setdefault(case["operator"], set()).add(case["expect"])
    missing = [op for op in OPERATORS if answers.get(op) != {True, False}]
    assert not missing, f"operators without a true and a false golden case: {missing}"


def test_every_kind_is_pinned_with_each_of_its_operators() -> None:
    from tactful.rules import operators_of

    seen = {(feature(c["field"]).kind, c["operator"]) for c in CASES}  # type: ignore[union-attr]
    for kind in (Kind.TEXT, Kind.INTEGER, Kind.MONEY, Kind.FLAG):
        assert {op for k, op in seen if k is kind} == set(operators_of(kind)), kind


def test_an_old_spelling_loads_as_the_new_word_with_a_warning_naming_it() -> None:
    with pytest.warns(RuleSpellingWarning) as caught:
        c = parse_condition({"feature": "has_savings", "op": "==", "value": 0},
                            where="bank.toml: rule 'tip'", at="when[0]")
    assert (c.field, c.operator, c.value) == ("holds_savings", "equals", False)
    assert [str(w.message) for w in caught] == [
        "bank.toml: rule 'tip': field 'when[0]': old spelling ('feature' -> 'field', 'op' -> "
        "'operator', 'has_savings' -> 'holds_savings', '==' -> 'equals'); it still loads as "
        "the new words and will stop loading in a future version: write the new words "
        "(docs/rules.md)"]
    assert "'open_accounts' -> 'accounts_open'" in str(
        _warned({"field": "open_accounts", "operator": "gte", "value": 2})[0].message)


def _warned(raw: dict[str, Any]) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parse_condition(raw, where="b.toml: rule 'x'", at="when[0]")
    return caught


@pytest.mark.parametrize(("raw", "message"), [
    ({"field": "holds_savings", "operator": "gt", "value": 0},
     "b.toml: rule 'x': field 'when[0].operator': must be one of equals, not_equals for the "
     "flag feature 'holds_savings'; got 'gt'"),
    ({"field": "holds_savings", "operator": "equals", "value": 2},
     "b.toml: rule 'x': field 'when[0].value': 'holds_savings' is a flag: true or false; got 2"),
    ({"field": "description", "operator": "equals", "value": "x"},
     "b.toml: rule 'x': field 'when[0].field': unknown feature 'description' (known: "),
    ({"field": "savings_balance", "operator": "between", "value": [5, 1]},
     "b.toml: rule 'x': field 'when[0].value': between needs low <= high; got [5, 1]"),
    ({"field": "savings_balance", "operator": "gte"},
     "b.toml: rule 'x': field 'when[0].value': is required"),
    ({"field": "savings_balance", "operator": "gte", "value": 1, "why": "x"},
     "b.toml: rule 'x': field 'when[0].why': unknown key"),
])
def test_a_bad_condition_names_the_file_the_rule_and_the_field(raw: dict[str, Any],
                                                               message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_condition(raw, where="b.toml: rule 'x'", at="when[0]")
    assert str(err.value).startswith(message)
