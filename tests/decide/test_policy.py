"""The decision, pure: what is dropped and why, the rhythm, grouping, silence, exempt messages,
the bandit's exact probabilities, and that the same inputs give the same decision."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from importlib import resources

import numpy as np
import pytest

from tactful.decide.bandit import DrawPool, choose
from tactful.decide.catalog import ActionsCatalog, RiskClass, load_actions_text
from tactful.decide.contact import ContactHistory, Send, SensitiveEvent
from tactful.decide.log import inputs_from_json, inputs_to_json
from tactful.decide.policy import (
    Candidate,
    CustomerContext,
    DecisionInputs,
    DecisionPolicy,
    DecisionResult,
    Placement,
    decision_id,
)
from tactful.domain.enums import Channel, PersonalizationLevel
from tactful.domain.records import QuietHours

AT = datetime(2026, 3, 2, 20, tzinfo=UTC)  # 21:00 in Paris
POLICY = DecisionPolicy(ActionsCatalog.default())
FEATURES = {"unit": 100.0, "holds_savings": 0.0, "holds_credit_card": 0.0, "holds_loan": 0.0,
            "shortfall_forecast": 0.0, "checking_balance_min_30d": 500_000.0}


def _customer(**changes: object) -> CustomerContext:
    base = CustomerContext(
        "CUS-1", "Europe/Paris", PersonalizationLevel.MODERATE,
        (Channel.IN_APP, Channel.PUSH, Channel.EMAIL),
        frozenset({"personalization", "marketing"}), QuietHours(time(22), time(7)), None, 7,
        5.0)
    return replace(base, **changes)  # type: ignore[arg-type]


def _decide(*candidates: Candidate, placement: Placement = Placement.OUTBOUND,
            customer: CustomerContext | None = None, features: dict[str, float] | None = None,
            history: ContactHistory | None = None, at: datetime = AT,
            policy: DecisionPolicy = POLICY) -> DecisionResult:
    inputs = DecisionInputs(decision_id("CUS-1", at, placement.value), customer or _customer(),
                            at, placement, candidates, features or FEATURES,
                            history or ContactHistory())
    return policy.decide(inputs)


def _dropped(result: DecisionResult) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for c in result.considered:
        out.setdefault(f"{c.action_id}:{c.subject}", c.dropped)
    return out


def test_eligibility_from_holdings_and_the_forecast() -> None:
    saver = {**FEATURES, "holds_savings": 1.0, "shortfall_forecast": 1.0}
    result = _decide(Candidate("offer_savings.P-SAV-HY", "P-SAV-HY"),
                     Candidate("offer_credit_card.P-CC-TRAVEL", "P-CC-TRAVEL"),
                     Candidate("idle_cash", "x", 0.9), features=saver)
    reasons = {c.action_id: c.reason for c in result.considered}
    assert reasons == {
        "offer_savings.P-SAV-HY": "needs holds_savings equals false (is 1)",
        "offer_credit_card.P-CC-TRAVEL": "needs shortfall_forecast equals false (is 1)",
        "idle_cash": "needs holds_savings equals false (is 1)",
    }
    assert result.decision.is_silence and result.decision.pscore == 1.0


def test_consent_level_and_sensitive_data_filter_candidates() -> None:
    no_marketing = _customer(held=frozenset({"personalization"}),
                             level=PersonalizationLevel.BASIC)
    result = _decide(Candidate("offer_savings.P-SAV-HY", "P-SAV-HY"),
                     Candidate("spending_spike", "FOOD", 0.9), customer=no_marketing)
    assert {c.action_id: c.dropped for c in result.considered} == {
        "offer_savings.P-SAV-HY": "no_consent", "spending_spike": "level"}
    # a sensitive insight stays off the lock screen; an offer never rides on one
    fees = _decide(Candidate("fees_paid", "fees", 0.9, sensitive=True),
                   placement=Placement.PUSH)
    assert _dropped(fees) == {"fees_paid:fees": "no_channel"}
    riding = _decide(Candidate("offer_savings.P-SAV-HY", "P-SAV-HY", sensitive=True))
    assert _dropped(riding) == {"offer_savings.P-SAV-HY:P-SAV-HY": "sensitive"}


@pytest.mark.parametrize(("logins", "kept", "dropped"), [
    (6.0, "daily_summary", "weekly_roundup"), (1.5, "weekly_roundup", "daily_summary")])
def test_a_daily_user_gets_the_daily_summary_a_weekly_user_the_roundup_never_both(
    logins: float, kept: str, dropped: str
) -> None:
    result = _decide(Candidate("daily_summary", "d", 1.0), Candidate("weekly_roundup", "w", 1.0),
                     customer=_customer(logins_per_week=logins), placement=Placement.FEED)
    codes = _dropped(result)
    assert codes[f"{dropped}:{dropped[0]}"] == "rhythm"
    assert codes[f"{kept}:{kept[0]}"] != "rhythm"


def test_three_upcoming_bills_are_one_message() -> None:
    bills = [Candidate("upcoming_bill", f"bill-{n}", 0.5 + n / 10, insight_ids=(f"i{n}",))
             for n in range(3)]
    result = _decide(*bills, placement=Placement.FEED)
    grouped = [c for c in result.considered if c.dropped == "grouped"]
    assert {c.subject for c in grouped} == {"bill-0", "bill-1"}
    if not result.decision.is_silence:
        assert result.decision.relevance["count"] == 3
        assert sorted(result.decision.relevance["insight_ids"]) == ["i0", "i1", "i2"]
        assert "(one message for 3)" in result.decision.explanation


def test_a_push_waits_for_the_usual_login_hour_and_never_lands_in_quiet_hours() -> None:
    result = _decide(Candidate("spending_spike", "FOOD", 1.0), placement=Placement.PUSH)
    pushes = [c for c in result.considered if c.channel is Channel.PUSH]
    assert pushes and all(c.send_at == datetime(2026, 3, 3, 6, tzinfo=UTC) for c in pushes)
    # no usual hour: now is 23:00 in Paris, inside quiet hours: moved to 07:00
    late = _decide(Candidate("spending_spike", "FOOD", 1.0), placement=Placement.PUSH,
                   customer=_customer(usual_login_hour=None), at=AT + timedelta(hours=2))
    assert {c.send_at for c in late.considered} == {datetime(2026, 3, 3, 6, tzinfo=UTC)}


def test_a_security_message_goes_first_with_certainty_whatever_the_caps() -> None:
    full = ContactHistory(sends=tuple(
        Send(AT - timedelta(hours=h), Channel.PUSH, "spending_spike", decided_at=AT - timedelta(
            hours=h)) for h in (1, 2, 3)))
    result = _decide(Candidate("spending_spike", "FOOD", 1.0),
                     Candidate("large_transaction", "tx-1", 1.0, "high"),
                     placement=Placement.PUSH, history=full, at=AT - timedelta(hours=8))
    assert result.decision.action is not None
    assert result.decision.action.id == "large_transaction"
    assert result.decision.pscore == 1.0
    assert _dropped(result)["spending_spike:FOOD"] == "cap"


def test_silence_when_the_attention_budget_is_spent_is_an_explicit_outcome() -> None:
    # four security pushes (exempt from caps, not from spending attention) in four hours
    spent = ContactHistory(sends=tuple(
        Send(AT - timedelta(hours=h), Channel.PUSH, "large_transaction", cap_exempt=True,
             decided_at=AT - timedelta(hours=h)) for h in (1, 2, 3, 4)))
    result = _decide(Candidate("spending_spike", "FOOD", 1.0), placement=Placement.FEED,
                     history=spent)
    assert result.decision.is_silence
    assert result.decision.explanation.startswith("Stayed silent")
    assert _dropped(result)["spending_spike:FOOD"] == "attention"


def test_no_marketing_after_a_declined_card() -> None:
    history = ContactHistory(events=((SensitiveEvent.DECLINED_CARD, AT - timedelta(days=1)),))
    result = _decide(Candidate("offer_savings.P-SAV-HY", "P-SAV-HY"), history=history,
                     placement=Placement.FEED)
    assert _dropped(result) == {"offer_savings.P-SAV-HY:P-SAV-HY": "suppressed"}


def test_the_logged_probability_is_the_exact_share_of_the_pool_the_choice_wins() -> None:
    pool = DrawPool(draws=500, seed=3)
    arms = [("a|push", 2.0, 8.0, True), ("b|push", 5.0, 5.0, True), ("c|push", 1.0, 1.0, False)]
    weights = np.array([10.0, 4.0, 3.0])
    seen = {}
    for seed in range(500):
        picked = choose(pool, arms, weights, floor=1.5, row_seed=seed)
        seen[picked.index] = seen.get(picked.index, 0) + 1
        assert picked.shares.sum() == pytest.approx(1.0)
    # over every row the policy can pick, each column is chosen exactly its share of the time
    for index, times in seen.items():
        assert times / 500 == pytest.approx(float(picked.shares[index]))
    # an arm that may not explore is its posterior mean in every row: 0.5 x 3 = 1.5 -> ties
    # with silence's floor of 1.5 and never beats arm b's draws above 0.375 ...
    assert picked.shares[2] < 1.0


def test_same_inputs_same_decision_also_through_the_log() -> None:
    candidates = [Candidate("spending_spike", "FOOD", 0.8), Candidate("upcoming_bill", "b", 0.7),
                  Candidate("offer_savings.P-SAV-HY", "P-SAV-HY"),
                  Candidate("budget_progress", "x", 0.6)]
    history = ContactHistory(
        sends=(Send(AT - timedelta(days=2), Channel.EMAIL, "weekly_roundup",
                    decided_at=AT - timedelta(days=2)),),
        dismissed=frozenset({"budget_progress:x"}), ignores={"upcoming_bill": 1},
        events=((SensitiveEvent.OVERDRAFT_FEE, AT - timedelta(days=20)),))
    for placement in Placement:
        first = _decide(*candidates, placement=placement, history=history)
        again = DecisionPolicy(ActionsCatalog.default()).decide(
            inputs_from_json(inputs_to_json(first.inputs)))
        assert again.decision == first.decision
        assert again.considered == first.considered


CREDIT = Candidate("offer_credit_card.P-CC-TRAVEL", "P-CC-TRAVEL")


def _credit_shares(customer: CustomerContext, policy: DecisionPolicy) -> set[float]:
    shares = set()
    for hours in range(40):
        result = _decide(CREDIT, placement=Placement.FEED, customer=customer, policy=policy,
                         at=AT - timedelta(hours=13 + hours))
        shares |= {round(c.probability, 6) for c in result.considered
                   if c.action_id == CREDIT.action_id and c.probability is not None}
    return shares


def test_a_vulnerable_customer_never_gets_exploration_on_a_regulated_credit_offer() -> None:
    exploring = DecisionPolicy(ActionsCatalog.default(), explore=frozenset(RiskClass))
    spec = exploring.spec(CREDIT.action_id)
    assert spec is not None and spec.risk is RiskClass.REGULATED_CREDIT_OFFER
    assert exploring.explores(spec, _customer())
    assert not exploring.explores(spec, _customer(vulnerable=True))
    assert not POLICY.explores(spec, _customer())  # not explored at all by default
    # exploring, the offer wins a share of the draws; for the vulnerable customer the posterior
    # mean decides, all or nothing, at every moment
    assert any(0 < s < 1 for s in _credit_shares(_customer(), exploring))
    assert _credit_shares(_customer(vulnerable=True), exploring) <= {0.0, 1.0}


def test_a_rule_may_read_the_vulnerable_flag() -> None:
    shipped = resources.files("tactful.decide").joinpath("actions.toml").read_text("utf-8")
    text = (shipped.replace(
        '{ field = "holds_credit_card", operator = "equals", value = false },',
        '{ field = "holds_credit_card", operator = "equals", value = false },\n'
        '  { field = "vulnerable", operator = "equals", value = false },', 1))
    policy = DecisionPolicy(load_actions_text(text, source="bank.toml"))
    kept = _dropped(_decide(CREDIT, placement=Placement.FEED, policy=policy))
    gone = _dropped(_decide(CREDIT, placement=Placement.FEED, policy=policy,
                            customer=_customer(vulnerable=True)))
    assert kept[CREDIT.key] != "not_eligible"
    assert gone[CREDIT.key] == "not_eligible"


def test_nothing_goes_on_a_channel_the_customer_opted_out_of_the_feed_included() -> None:
    bill = Candidate("upcoming_bill", "bill-1", 0.9)
    security = Candidate("large_transaction", "tx-1", 1.0, "high")
    history = ContactHistory(opted_out={Channel.IN_APP: AT - timedelta(days=2)})
    result = _decide(bill, placement=Placement.FEED, history=history)
    assert result.decision.is_silence
    assert _dropped(result)[bill.key] == "opted_out"
    exempt = _decide(security, placement=Placement.FEED, history=history)
    assert exempt.decision.channel is Channel.IN_APP  # a security message still goes
    sent = _decide(bill, placement=Placement.FEED)
    assert _dropped(sent)[bill.key] != "opted_out"
    logged = inputs_from_json(inputs_to_json(result.inputs))
    assert logged.history.opted_out == history.opted_out
