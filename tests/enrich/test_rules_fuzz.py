"""The bank rules' condition language under generated input: a record, or a ``--when`` text,
either becomes a rule or is refused with a ``ConfigError`` that says why; never another
exception, never a hang. A rule that is accepted runs on a small frame, and the one-row path
picks the rule the frame path picks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tactful.enrich.rules import (
    FIELDS,
    NUMERIC_OPERATORS,
    OPERATORS,
    TEXT_FIELDS,
    TEXT_OPERATORS,
    RuleSet,
    parse_condition,
)
from tactful.errors import ConfigError

FUZZ = settings(max_examples=200, deadline=timedelta(seconds=5),
                suppress_health_check=[HealthCheck.too_slow])

REGEX_ALPHABET = st.sampled_from(
    [*"AB. *+?()[]{}|^$\\-=<!:1,", "(?=", "(?i)", r"\b", r"\1", "{1000}", "[[:alpha:]]"]
)
texts = st.one_of(
    st.text(alphabet=st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=12),
    st.lists(REGEX_ALPHABET, max_size=8).map("".join),
    st.sampled_from(["MIETE", "in", "out", "card", "transfer", "", "5411"]),
)
values = st.one_of(texts, st.integers(-10**6, 10**6),
                   st.lists(st.one_of(texts, st.integers(-1000, 1000)), max_size=3))
conditions = st.fixed_dictionaries(
    {"field": st.one_of(st.sampled_from(FIELDS), texts),
     "operator": st.one_of(st.sampled_from(OPERATORS), texts),
     "value": values},
    optional={"extra": st.integers()},
)
records = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=8),
     "conditions": st.lists(st.one_of(conditions, values), max_size=3)},
    optional={"category_detailed": st.sampled_from(["RENT_AND_UTILITIES_RENT", "CASTLES", ""]),
              "merchant": texts, "priority": st.integers(-5, 5), "enabled": st.booleans(),
              "tags": st.lists(texts, max_size=2)},
)

plausible = st.one_of(  # conditions of the right shape, so that many rules are accepted
    st.fixed_dictionaries({"field": st.sampled_from(TEXT_FIELDS),
                           "operator": st.sampled_from(TEXT_OPERATORS), "value": texts}),
    st.fixed_dictionaries({"field": st.sampled_from(TEXT_FIELDS),
                           "operator": st.sampled_from(["in", "contains"]),
                           "value": st.lists(texts, max_size=3)}),
    st.fixed_dictionaries({"field": st.just("amount_minor"),
                           "operator": st.sampled_from(NUMERIC_OPERATORS),
                           "value": st.one_of(st.integers(-10**6, 10**6),
                                              st.lists(st.integers(-10**6, 10**6), min_size=2,
                                                       max_size=2))}),
)
plausible_records = st.builds(
    lambda i, conds, cat: {"id": f"r{i}", "conditions": conds, "category_detailed": cat},
    st.integers(0, 3), st.lists(plausible, min_size=1, max_size=3),
    st.sampled_from(["RENT_AND_UTILITIES_RENT", "FOOD_AND_DRINK_GROCERIES"]))

ROWS = [
    {"description": "MIETE MAI 2025 ABC", "merchant": "J Smith", "merchant_key": "J SMITH",
     "counterparty": "J SMITH", "mcc": None, "channel": "transfer", "amount_minor": -120000,
     "currency": "EUR", "account_type": "checking"},
    {"description": "CARD 5411 TESCO STORES", "merchant": None, "merchant_key": "TESCO",
     "counterparty": None, "mcc": "5411", "channel": "card", "amount_minor": 2500,
     "currency": "GBP", "account_type": "credit_card"},
    {"description": "", "merchant": None, "merchant_key": None, "counterparty": None,
     "mcc": None, "channel": "other", "amount_minor": 0, "currency": "USD",
     "account_type": "savings"},
]
FRAME = pl.DataFrame(ROWS, schema={
    "description": pl.String, "merchant": pl.String, "merchant_key": pl.String,
    "counterparty": pl.String, "mcc": pl.String, "channel": pl.String,
    "amount_minor": pl.Int64, "currency": pl.String, "account_type": pl.String})


def _build(raw: list[Any]) -> RuleSet | None:
    try:
        rules = RuleSet.from_records(raw)
    except ConfigError as exc:
        assert str(exc), "a refusal says why"
        event("refused")
        return None
    event("accepted")
    return rules


def _runs(rules: RuleSet) -> None:
    by_frame = rules.apply(FRAME)["rule_id"].to_list()
    by_row = [(r.id if (r := rules.first_match_row(row)) else None) for row in ROWS]
    assert by_row == by_frame


@FUZZ
@given(st.one_of(
    st.lists(plausible_records, min_size=1, max_size=3, unique_by=lambda r: str(r["id"])),
    st.lists(st.one_of(plausible_records, records, values), min_size=1, max_size=3)))
def test_a_rule_record_is_a_rule_or_a_reason(raw: list[Any]) -> None:
    rules = _build(raw)
    if rules is not None:
        _runs(rules)


@FUZZ
@given(st.lists(st.one_of(
    st.tuples(st.sampled_from(FIELDS), st.sampled_from(OPERATORS), texts).map(" ".join),
    texts), min_size=1, max_size=3))
def test_a_when_text_is_a_condition_or_a_reason(whens: list[str]) -> None:
    try:
        conditions = [parse_condition(text) for text in whens]
    except ConfigError as exc:
        assert str(exc).startswith("--when ")
        return
    rules = _build([{"id": "cli", "category_detailed": "RENT_AND_UTILITIES_RENT",
                     "conditions": conditions}])
    if rules is not None:
        _runs(rules)
