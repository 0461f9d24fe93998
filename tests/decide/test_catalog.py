"""The actions catalog: the shipped file covers the insight catalog, and a bad file is refused
with the file, the action and the field named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tactful.decide.catalog import (
    ActionKind,
    ActionsCatalog,
    RiskClass,
    check_against_detectors,
    load_actions_text,
)
from tactful.errors import ConfigError
from tactful.insights.catalog import Catalog

GOOD = """
[[actions]]
id = "offer_savings"
kind = "offer"
account_type = "savings"
risk = "ordinary_offer"
value = 25
channels = ["in_app", "email"]
treatments = ["card", "email"]
consent = "marketing"
min_level = "moderate"
eligible = [{ field = "holds_savings", operator = "equals", value = false }]
"""


def _with(**changes: str) -> str:
    lines = []
    for line in GOOD.strip().splitlines():
        key = line.split("=", 1)[0].strip()
        if key in changes:
            if changes[key]:
                lines.append(f"{key} = {changes[key]}")
            continue
        lines.append(line)
    present = {line.split("=", 1)[0].strip() for line in lines}
    lines += [f"{k} = {v}" for k, v in changes.items() if v and k not in present]
    return "\n".join(lines)


def test_the_shipped_catalog_has_an_action_for_every_detector_and_agrees_with_it() -> None:
    actions = ActionsCatalog.default()
    assert check_against_detectors(actions, Catalog.default().specs) == []
    kinds = {a.kind for a in actions.actions.values()}
    assert kinds == {ActionKind.INSIGHT, ActionKind.OFFER, ActionKind.SERVICE}


def test_offers_are_bound_to_the_banks_products_of_their_account_type() -> None:
    bound = ActionsCatalog.default().bind_products(
        [("P-SAV-HY", "savings"), ("P-SAV-EASY", "savings"), ("P-CHK-STD", "checking")])
    offers = sorted(a.id for a in bound.actions.values() if a.kind is ActionKind.OFFER)
    assert offers == ["offer_savings.P-SAV-EASY", "offer_savings.P-SAV-HY"]
    assert bound.actions["offer_savings.P-SAV-HY"].action().product_id == "P-SAV-HY"


def _eligible(action_id: str, **features: float) -> bool:
    spec = ActionsCatalog.default().actions[action_id]
    row = {"unit": 100, "holds_savings": 0, "holds_credit_card": 0, "holds_loan": 0,
           "shortfall_forecast": 0, "checking_balance_min_30d": 500_000, **features}
    return all(c.holds(row) for c in spec.eligible)


def test_no_savings_offer_or_idle_cash_card_to_a_customer_who_holds_savings() -> None:
    assert _eligible("offer_savings")
    assert not _eligible("offer_savings", holds_savings=1)
    assert not _eligible("idle_cash", holds_savings=1)
    # money thresholds are in major units: 1,000.00 needs 100,000 minor units
    assert not _eligible("offer_savings", checking_balance_min_30d=99_999)


def test_no_credit_offer_while_a_shortfall_is_forecast() -> None:
    assert _eligible("offer_credit_card")
    assert not _eligible("offer_credit_card", shortfall_forecast=1)
    assert not _eligible("offer_loan", shortfall_forecast=1)
    assert ActionsCatalog.default().actions["offer_loan"].risk is RiskClass.REGULATED_CREDIT_OFFER


@pytest.mark.parametrize(("changes", "message"), [
    ({"kind": ""}, "field 'kind': is required (insight, offer, service)"),
    ({"risk": '"insight"'},
     "field 'risk': an offer is regulated_credit_offer or ordinary_offer; got 'insight'"),
    ({"consent": '"personalization"'},
     "field 'consent': an offer needs the marketing purpose; got 'personalization'"),
    ({"consent": '"none"'}, "field 'consent': \"none\" is for service messages only; "
                            "the kind is 'offer'"),
    ({"channels": '["in_app", "fax"]'}, "field 'channels': must be one of in_app, email, sms, "
                                        "push; got 'fax'"),
    ({"channels": '["push"]'}, "field 'treatments': channel push needs a push_text treatment"),
    ({"value": "0"}, "field 'value': must be a number > 0; got 0"),
    ({"value": '"high"'}, "field 'value': must be a number > 0; got 'high'"),
    ({"min_level": '"max"'},
     "field 'min_level': must be one of none, basic, moderate, advanced; got 'max'"),
    ({"eligible": '[{ field = "fees_90d", operator = "equals", value = 0 }]'},
     "field 'eligible[0].field': 'fees_90d' describes a sensitive matter; a sensitive "
     "category never drives an offer"),
    ({"eligible": '[{ field = "spend_30d.MEDICAL", operator = "gt", value = 0 }]'},
     "field 'eligible[0].field': 'spend_30d.MEDICAL' describes a sensitive matter"),
    ({"eligible": '[{ field = "has_yacht", operator = "equals", value = 0 }]'},
     "field 'eligible[0].field': unknown feature 'has_yacht'"),
    ({"eligible": '[{ field = "holds_savings", operator = "~", value = 0 }]'},
     "field 'eligible[0].operator': must be one of equals, not_equals for the flag feature"),
    ({"cap_exempt": "true"}, "field 'cap_exempt': only a service message with a legal_basis"),
    ({"prior": "[1]"}, "field 'prior': must be two positive numbers"),
    ({"colour": '"red"'}, "field 'colour': unknown field"),
])
def test_a_bad_action_is_refused_naming_file_action_and_field(
    changes: dict[str, str], message: str
) -> None:
    text = _with(**changes)
    with pytest.raises(ConfigError) as err:
        load_actions_text(text, source="bank.toml")
    assert str(err.value).startswith("bank.toml: action 'offer_savings': ")
    assert message in str(err.value)


def test_a_service_message_may_be_exempt_from_caps_only_with_a_legal_basis() -> None:
    exempt = """
[[actions]]
id = "card_blocked"
kind = "service"
risk = "service"
value = 50
channels = ["sms"]
treatments = ["push_text"]
consent = "none"
min_level = "none"
cap_exempt = true
"""
    with pytest.raises(ConfigError, match="field 'cap_exempt': only a service message with a "
                                          "legal_basis"):
        load_actions_text(exempt, source="bank.toml")
    ok = load_actions_text(exempt + 'legal_basis = "security: card blocked"\n', source="b.toml")
    assert ok.actions["card_blocked"].cap_exempt


def test_whole_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "actions.toml"
    path.write_text("[[actions]\n")
    with pytest.raises(ConfigError, match=re.escape(f"{path}: not valid TOML")):
        ActionsCatalog.load(path)
    with pytest.raises(ConfigError) as err:
        load_actions_text(GOOD + GOOD, source="bank.toml")
    assert str(err.value) == "bank.toml: action 'offer_savings': field 'id': is used twice"


def test_the_catalog_check_finds_an_action_weaker_than_its_detector() -> None:
    specs = Catalog.default().specs
    weak = load_actions_text("""
[[actions]]
id = "spending_spike"
kind = "insight"
detector = "spending_spike"
risk = "insight"
value = 20
channels = ["in_app"]
treatments = ["card"]
consent = "personalization"
min_level = "basic"
""", source="bank.toml")
    problems = check_against_detectors(weak, {"spending_spike": specs["spending_spike"]})
    assert problems == ["action 'spending_spike': min_level basic is below its detector's "
                        "moderate"]
