"""The bank's rules file: a rule is a detector like any other, and a mistake names the rule and
the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from tactful.errors import ConfigError
from tactful.insights.catalog import Catalog
from tactful.insights.inputs import InsightInputs
from tactful.insights.rules import load_rules

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "insight_rules.toml"

GOOD = """
[[rules]]
id = "savings_tip_high_balance"
family = "savings_opportunity"
cooldown_days = 30
when = [{ field = "checking_balance_min_30d", operator = "gte", value = 2000 },
        { field = "holds_savings", operator = "equals", value = false }]
[rules.messages.en]
title = "Your money could work harder"
message = "Your balance has not dropped below {{ checking_balance_min_30d|money }} for a month."
call_to_action = "See savings accounts"
explanation = "Because your lowest balance in 30 days was {{ checking_balance_min_30d|money }}."
"""


def test_the_shipped_example_is_valid() -> None:
    assert [r.spec.id for r in load_rules(EXAMPLE)]


def test_a_rule_runs_as_a_detector(tmp_path: Path, inputs: InsightInputs) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(GOOD)
    catalog = Catalog.default(rules=path, only=["savings_tip_high_balance"])
    found = catalog.findings(inputs)
    assert found.height > 0
    text = catalog.renderer.render("savings_tip_high_balance", found.row(0, named=True)["facts"],
                                   "de_DE")
    assert text.language == "en" and text.explanation.startswith("Because your lowest balance")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('family = "savings_opportunity"', 'family = "savings"'),
         "rule 'savings_tip_high_balance': field 'family': must be one of"),
        (('operator = "gte"', 'operator = "=>"'), "field 'when[0].operator': must be one of"),
        (('"checking_balance_min_30d", operator', '"balance_min", operator'),
         "field 'when[0].field': unknown feature 'balance_min'"),
        (("value = 2000", 'value = "2000"'),
         "field 'when[0].value': 'checking_balance_min_30d' compares numbers in major units"),
        (('"holds_savings"', '"shortfall_forecast"'),
         "field 'when[1]': 'shortfall_forecast' is known to a decision only"),
        (("cooldown_days = 30", "cooldown_days = -1"), "field 'cooldown_days'"),
        (('id = "savings_tip_high_balance"', 'id = "Bad Id"'), "lower_snake_case"),
        (("[rules.messages.en]", "[rules.messages.de]"), "needs at least [rules.messages.en]"),
        (('title = "Your money could work harder"\n', ""), "messages.en': lacks title"),
        (("cooldown_days = 30", 'cooldown_days = 30\ncolour = "red"'),
         "field 'colour': unknown field"),
    ],
)
def test_errors_name_rule_and_field(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    path = tmp_path / "rules.toml"
    assert change[0] in GOOD
    path.write_text(GOOD.replace(change[0], change[1], 1))
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_rules(path)


def test_a_template_error_names_the_rule(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(GOOD.replace("{{ checking_balance_min_30d|money }} for", "{{ oops( }} for"))
    with pytest.raises(ConfigError, match="savings_tip_high_balance"):
        Catalog.default(rules=path)
