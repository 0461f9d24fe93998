"""The closed loop: deterministic outcomes, relevance pays, fatigue costs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tactful.domain.actions import Action, ActionFamily, Decision, Outcome, OutcomeKind
from tactful.domain.enums import Channel
from tactful.errors import ValidationError
from tactful.simulate import SimulationConfig, Simulator
from tactful.simulate.truth.relevance import P_NEED, P_NO_NEED, in_need, is_relevant
from tactful.simulate.truth.response import CLICK, CONVERT, LIFT

CONFIG = SimulationConfig(customers=300, months=3, seed=21, start=date(2024, 1, 1), chunk_size=150)
FAMILIES = [
    f
    for f in ActionFamily
    if f
    not in (
        ActionFamily.PRODUCT_OFFER,
        # families added with the insight catalog; the fatigue and determinism tests below were
        # calibrated on the original mix, and which families are sent does not change fatigue
        ActionFamily.NEW_RECURRING,
        ActionFamily.DUPLICATE_CHARGE,
        ActionFamily.UNUSUAL_TRANSACTION,
    )
]


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator(CONFIG)


def _decisions(
    prefix: str,
    per_customer: int,
    start_day: int,
    gap_days: float,
    channel: Channel = Channel.EMAIL,
) -> list[Decision]:
    out = []
    for c in range(CONFIG.customers):
        for k in range(per_customer):
            family = FAMILIES[(c + k) % len(FAMILIES)]
            at = datetime(2024, 1, 1, 18, tzinfo=UTC) + timedelta(days=start_day + k * gap_days)
            out.append(
                Decision(
                    f"{prefix}-{c}-{k}",
                    f"CUS-{c:08d}",
                    Action(f"a-{family}", family),
                    channel,
                    at,
                    0.5,
                    "test",
                )
            )
    return out


def test_same_decisions_same_outcomes_in_any_order() -> None:
    decisions = _decisions("det", 2, 40, 3.0)
    a = Simulator(CONFIG).respond(decisions)
    b = Simulator(CONFIG).respond(list(reversed(decisions)))
    assert a == b
    assert any(o.kind is OutcomeKind.OPEN for o in a)


def test_silence_has_no_outcome(sim: Simulator) -> None:
    d = Decision(
        "silent-1", "CUS-00000001", None, None, datetime(2024, 2, 1, 9, tzinfo=UTC), 0.9, "test"
    )
    assert sim.respond([d]) == []


def test_relevant_messages_get_more_clicks(sim: Simulator) -> None:
    decisions = _decisions("rel", 6, 35, 8.0, Channel.IN_APP)
    outcomes = sim.respond(decisions)
    clicked = {o.decision_id for o in outcomes if o.kind is OutcomeKind.CLICK}
    opened = {o.decision_id for o in outcomes if o.kind is OutcomeKind.OPEN}
    truth = sim._responder.customers  # type: ignore[union-attr]
    rel, irr = [], []
    for d in decisions:
        if d.decision_id not in opened or d.action is None:
            continue
        c = truth.ids[d.customer_id]
        day = (d.send_at.date() - date(2024, 1, 1)).days
        (rel if is_relevant(truth.truth, c, day, d.action.family, None) else irr).append(
            d.decision_id in clicked
        )
    assert len(rel) > 30 and len(irr) > 30
    assert sum(rel) / len(rel) > 2 * sum(irr) / len(irr)


def test_fatigue_raises_opt_outs() -> None:
    calm = Simulator(CONFIG).respond(_decisions("calm", 3, 10, 20.0))
    tired = Simulator(CONFIG).respond(_decisions("tired", 12, 10, 0.5))

    def rate(outcomes: list[Outcome]) -> float:
        """Opt-outs per delivered message (after an opt-out nothing more is delivered)."""
        shown = sum(o.kind is OutcomeKind.IMPRESSION for o in outcomes)
        return sum(o.kind is OutcomeKind.OPT_OUT for o in outcomes) / shown

    assert rate(tired) > 1.5 * rate(calm)


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        (
            Decision(
                "x1",
                "CUS-99999999",
                Action("a", ActionFamily.BUDGET),
                Channel.EMAIL,
                datetime(2024, 2, 1, tzinfo=UTC),
                0.5,
                "v",
            ),
            "decision x1: unknown customer_id 'CUS-99999999'",
        ),
        (
            Decision(
                "x2",
                "CUS-00000001",
                Action("a", ActionFamily.BUDGET),
                Channel.EMAIL,
                datetime(2025, 2, 1, tzinfo=UTC),
                0.5,
                "v",
            ),
            "decision x2: send_at 2025-02-01T00:00:00+00:00 is outside the simulated window",
        ),
    ],
)
def test_bad_decisions(sim: Simulator, decision: Decision, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        sim.respond([decision])
    assert str(err.value).startswith(message)


def test_relevance_of_the_insight_catalog_families(sim: Simulator) -> None:
    """The three families the insight catalog added are judged from the truth: a new recurring
    charge when a bill or subscription really started, an unusual transaction around a fraud
    attempt, and a duplicate charge never (the simulated bank books none, and an untrue
    duplicate alert is never useful by chance)."""
    sim.respond([])  # builds the responder's truth
    truth = sim._responder.customers.truth  # type: ignore[union-attr]
    n_days = truth.eod.shape[1]
    customers = range(CONFIG.customers)
    assert not any(is_relevant(truth, c, d, ActionFamily.DUPLICATE_CHARGE, None)
                   for c in customers for d in range(0, n_days, 7))
    victims = [c for c in customers if 0 <= int(truth.fraud_day[c]) < n_days]
    assert victims
    for c in victims:
        day = int(truth.fraud_day[c])
        assert in_need(truth, c, day + 3, ActionFamily.UNUSUAL_TRANSACTION, None)
        assert not in_need(truth, c, day + 8, ActionFamily.UNUSUAL_TRANSACTION, None)
    new = [(c, d) for c in customers for d in range(45, n_days)
           if in_need(truth, c, d, ActionFamily.NEW_RECURRING, None)]
    assert 0 < len({c for c, _ in new}) < CONFIG.customers


def test_relevance_is_a_noisy_function_of_the_hidden_need(sim: Simulator) -> None:
    """Whether a message helps follows the customer's hidden state, with noise: most customers in
    need find it useful (fewer as the cause ages), a few not in need do too."""
    sim.respond([])
    truth = sim._responder.customers.truth  # type: ignore[union-attr]
    needy: list[bool] = []
    other: list[bool] = []
    for c in range(CONFIG.customers):
        for d in range(30, truth.eod.shape[1], 5):
            for family in FAMILIES:
                if family is ActionFamily.SERVICE_MESSAGE:
                    continue
                rel = is_relevant(truth, c, d, family, None)
                (needy if in_need(truth, c, d, family, None) else other).append(rel)
    assert len(needy) > 1_000 and len(other) > 1_000
    assert 0.5 < sum(needy) / len(needy) <= P_NEED + 0.02
    assert P_NO_NEED - 0.02 < sum(other) / len(other) < P_NO_NEED + 0.02


@pytest.mark.parametrize("kind", list(CLICK))
def test_the_model_lift_is_the_bank_marketing_lift(kind: object) -> None:
    """Relevant over irrelevant conversion per opened message, ~7x: the UCI Bank Marketing lift
    after a prior success (65.1% vs 9.4%, 6.9x; response.py gives the counts)."""
    rel = CLICK[kind][0] * CONVERT[kind][0]  # type: ignore[index]
    irr = CLICK[kind][1] * CONVERT[kind][1]  # type: ignore[index]
    assert LIFT[0] <= rel / irr <= LIFT[1]


def test_simulated_conversions_show_the_lift() -> None:
    """The same lift measured end to end through ``respond``: conversions per opened message of
    relevant vs irrelevant insights stay inside the band (the old model gave ~140x)."""
    config = SimulationConfig(
        customers=1_000, months=3, seed=23, start=date(2024, 1, 1), chunk_size=500
    )
    sim = Simulator(config)
    decisions = []
    for c in range(config.customers):
        for k in range(12):
            family = FAMILIES[(c + k) % len(FAMILIES)]
            at = datetime(2024, 1, 1, 19, tzinfo=UTC) + timedelta(days=8 + 7 * k)
            decisions.append(Decision(f"lift-{c}-{k}", f"CUS-{c:08d}",
                                      Action(f"a-{family}", family), Channel.SMS, at, 0.5, "t"))
    outcomes = sim.respond(decisions)
    opened = {o.decision_id for o in outcomes if o.kind is OutcomeKind.OPEN}
    converted = {o.decision_id for o in outcomes if o.kind is OutcomeKind.CONVERT}
    truth = sim._responder.customers  # type: ignore[union-attr]
    counts = {True: [0, 0], False: [0, 0]}
    for d in decisions:
        if d.decision_id not in opened or d.action is None:
            continue
        if d.action.family is ActionFamily.SERVICE_MESSAGE:
            continue
        day = (d.send_at.date() - date(2024, 1, 1)).days
        rel = is_relevant(truth.truth, truth.ids[d.customer_id], day, d.action.family, None)
        counts[rel][0] += 1
        counts[rel][1] += d.decision_id in converted
    (n_rel, k_rel), (n_irr, k_irr) = counts[True], counts[False]
    assert n_rel > 500 and k_irr > 20, counts
    lift = (k_rel / n_rel) / (k_irr / n_irr)
    assert LIFT[0] <= lift <= LIFT[1], (lift, counts)
