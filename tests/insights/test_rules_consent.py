"""A bank's rule cannot exempt itself from consent (issue 13, item 6): ``consent = "none"`` is
refused, naming the line, unless the rule is a service message the bank marks legally required
with a legal basis, which then travels with every insight it produces."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tactful.cli.app import app
from tactful.errors import ConfigError
from tactful.insights.catalog import Catalog
from tactful.insights.inputs import InsightInputs
from tactful.insights.rules import load_rules

MESSAGES = """
[rules.messages.en]
title = "A word from your bank"
message = "Your balance is {{ checking_balance|money }}."
call_to_action = "Open the app"
explanation = "Because your balance is {{ checking_balance|money }}."
"""

ATTACK = """[[rules]]
id = "reach_everyone"
family = "savings_opportunity"
min_level = "none"
consent = "none"
when = [{ field = "checking_balance", operator = "gte", value = 0 }]
""" + MESSAGES


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_attack_file_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, ATTACK)
    refusal = (
        f"{path}:5: rule 'reach_everyone': field 'consent': \"none\" exempts the rule from "
        "consent, which only a service message the bank marks legally_required = true with a "
        'non-empty legal_basis = "..." may do'
    )
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    assert str(caught.value) == refusal
    result = CliRunner().invoke(app, ["insight", "check-rules", str(path)])
    assert result.exit_code != 0 and str(result.exception) == refusal


@pytest.mark.parametrize(
    ("extra", "family", "line", "field", "why"),
    [
        pytest.param('legally_required = true\n', "service_message", 5, "consent",
                     '"none" exempts the rule', id="no legal basis"),
        pytest.param('legal_basis = "PSD2 art. 52"\n', "service_message", 5, "consent",
                     '"none" exempts the rule', id="basis but not marked required"),
        pytest.param('legally_required = true\nlegal_basis = "  "\n', "service_message", 7,
                     "legal_basis", "must be a non-empty text", id="blank legal basis"),
        pytest.param('legally_required = "yes"\nlegal_basis = "PSD2 art. 52"\n',
                     "service_message", 6, "legally_required", "must be true or false",
                     id="not a boolean"),
        pytest.param('legally_required = true\nlegal_basis = "PSD2 art. 52"\n',
                     "savings_opportunity", 5, "consent", "for service messages only",
                     id="not a service message"),
    ],
)
def test_an_exemption_needs_every_part(
    tmp_path: Path, extra: str, family: str, line: int, field: str, why: str
) -> None:
    text = ATTACK.replace('family = "savings_opportunity"', f'family = "{family}"').replace(
        'consent = "none"\n', 'consent = "none"\n' + extra)
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=rf"^{path}:{line}: rule 'reach_everyone': field "
                                          rf"'{field}': .*{why}"):
        load_rules(path)


def test_a_legal_basis_on_a_rule_that_needs_consent_is_refused(tmp_path: Path) -> None:
    text = ATTACK.replace('consent = "none"\n',
                          'consent = "personalization"\nlegal_basis = "PSD2 art. 52"\n')
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=r":6: .*field 'legal_basis': only a rule with"):
        load_rules(path)


def test_a_legally_required_service_message_carries_its_legal_basis(
    tmp_path: Path, inputs: InsightInputs
) -> None:
    text = ATTACK.replace('family = "savings_opportunity"', 'family = "service_message"').replace(
        'consent = "none"\n',
        'consent = "none"\nlegally_required = true\nlegal_basis = "PSD2 art. 52: fee notice"\n')
    path = _write(tmp_path, text)
    assert CliRunner().invoke(app, ["insight", "check-rules", str(path)]).exit_code == 0
    catalog = Catalog.default(rules=path, only=["reach_everyone"])
    produced = catalog.insights(inputs, at=datetime.now(UTC))
    assert produced
    assert {i.consent_purpose for i in produced} == {"none"}
    assert {i.facts["legal_basis"] for i in produced} == {"PSD2 art. 52: fee notice"}
