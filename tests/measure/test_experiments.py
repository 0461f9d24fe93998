"""Experiments: deterministic salted assignment (golden cases), the shares it gives, the global
holdout kept from marketing, definitions in the store, and results computed on data whose truth
is known."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from tests.measure.bank import T0, add_customer, add_decision

from tactful.decide.catalog import ActionsCatalog
from tactful.decide.contact import ContactHistory
from tactful.decide.log import inputs_from_json, inputs_to_json
from tactful.decide.policy import (
    Candidate,
    CustomerContext,
    DecisionInputs,
    DecisionPolicy,
    Placement,
    decision_id,
)
from tactful.domain.enums import Channel, PersonalizationLevel
from tactful.errors import NotFoundError, ValidationError
from tactful.measure import experiments as ex
from tactful.measure.experiments import HOLDOUT, Arm, Experiment, assign
from tactful.measure.outcomes import OutcomeIn, record_outcomes
from tactful.measure.results import analyse, units
from tactful.store.store import Store

GOLDEN = Path(__file__).parent / "data" / "assignment_golden.json"
START = datetime(2026, 1, 1, tzinfo=UTC)


def _exp(**changes: object) -> Experiment:
    base = Experiment("tone", (Arm("control", 1), Arm("friendly", 1)), START)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_assignment_matches_the_golden_cases() -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    defs = {d["name"]: Experiment(d["name"], tuple(Arm(n, w) for n, w in d["arms"]), START,
                                  d["holdout"], salt=d["salt"]) for d in golden["experiments"]}
    for case in golden["cases"]:
        e = defs[case["experiment"]]
        assert ex.bucket(e.salt, case["customer_id"]) == pytest.approx(case["bucket"], abs=1e-12)
        assert assign(e, case["customer_id"]) == case["arm"], case


def test_assignment_gives_the_configured_shares_and_salts_are_independent() -> None:
    e = Experiment("channel-test", (Arm("a", 1), Arm("b", 1), Arm("c", 2)), START, 0.1)
    ids = [f"CUS-{i:08d}" for i in range(40_000)]
    counts = Counter(assign(e, c) for c in ids)
    for arm, share in e.shares().items():
        assert counts[arm] / len(ids) == pytest.approx(share, abs=0.01)
    other = replace(e, salt="another")
    same = sum(assign(e, c) == assign(other, c) for c in ids) / len(ids)
    assert same == pytest.approx(sum(s * s for s in e.shares().values()), abs=0.01)
    reweighted = replace(e, arms=(Arm("a", 3), Arm("b", 1), Arm("c", 2)))
    assert all((assign(e, c) == HOLDOUT) == (assign(reweighted, c) == HOLDOUT) for c in ids)


@pytest.mark.parametrize(("changes", "message"), [
    ({"name": "Tone!"}, "experiment name must be 1-64 characters"),
    ({"arms": (Arm("control", 1),)}, "needs two arms, or one arm and a holdout"),
    ({"arms": (Arm("a", 1), Arm("a", 2))}, r"arm names repeat: \['a', 'a'\]"),
    ({"holdout": 0.7}, "holdout must be a share from 0 to 0.5; got 0.7"),
    ({"metric": "rating"}, "metric must be one of open, click, convert, dismiss, opt_out; "
                           "got 'rating'"),
    ({"ends_at": START}, "ends_at must be after starts_at"),
    ({"starts_at": datetime(2026, 1, 1)}, "starts_at must be timezone-aware"),
])
def test_invalid_definitions_are_refused_by_name(changes: dict[str, object],
                                                 message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _exp(**changes)
    with pytest.raises(ValidationError, match="arm name 'holdout' is reserved"):
        Arm("holdout")
    with pytest.raises(ValidationError, match="arm b: weight must be a number > 0; got 0"):
        Arm("b", 0)


def test_a_customer_in_the_global_holdout_gets_no_marketing_but_still_insights() -> None:
    policy = DecisionPolicy(ActionsCatalog.default())
    at = datetime(2026, 3, 2, 10, tzinfo=UTC)
    feats = {"unit": 100.0, "holds_savings": 0.0, "holds_credit_card": 0.0, "holds_loan": 0.0,
             "shortfall_forecast": 0.0, "checking_balance_min_30d": 500_000.0}
    cands = (Candidate("offer_savings.P-SAV-HY", "P-SAV-HY"),
             Candidate("upcoming_bill", "RENT", 0.9))

    def decide(assigned: tuple[tuple[str, str], ...]) -> dict[str, str | None]:
        customer = CustomerContext(
            "CUS-1", "UTC", PersonalizationLevel.ADVANCED, (Channel.IN_APP,),
            frozenset({"personalization", "marketing"}), assignments=assigned)
        inputs = DecisionInputs(decision_id("CUS-1", at, "feed"), customer, at,
                                Placement.FEED, cands, feats, ContactHistory())
        assert inputs_from_json(inputs_to_json(inputs)) == inputs  # logged, replayable
        return {c.action_id: c.dropped for c in policy.decide(inputs).considered}

    held = decide((("program", HOLDOUT),))
    assert held["offer_savings.P-SAV-HY"] == "holdout"
    assert held["upcoming_bill"] != "holdout"
    assert decide((("program", "treated"),))["offer_savings.P-SAV-HY"] != "holdout"


def test_definitions_are_stored_stopped_once_and_recorded_on_decisions(store: Store) -> None:
    e = ex.create(store, _exp(holdout=0.2, metric="convert", ends_at=START + timedelta(days=90)))
    assert ex.get(store, "tone") == e
    with pytest.raises(ValidationError, match="experiment 'tone' already exists"):
        ex.create(store, e)
    with pytest.raises(NotFoundError, match="no experiment 'nope'"):
        ex.get(store, "nope")
    when = START + timedelta(days=10)
    assert ex.stop(store, "tone", at=when).end() == when
    with pytest.raises(ValidationError, match="already stopped"):
        ex.stop(store, "tone")
    assert not ex.get(store, "tone").is_active(when) and ex.get(store, "tone").is_active(START)


def test_units_come_from_the_arms_decisions_logged_and_their_outcomes(
        sqlite_store: Store) -> None:
    store = sqlite_store
    e = ex.create(store, _exp(starts_at=T0 - timedelta(days=1), metric="click"))
    for k, arm in enumerate(["control", "friendly", "control"]):
        cid = f"CUS-{k}"
        add_customer(store, cid)
        add_decision(store, f"d{k}", customer_id=cid, experiments={"tone": arm})
        add_decision(store, f"old{k}", customer_id=cid, at=T0 - timedelta(hours=30))
    add_customer(store, "CUS-3")  # decided under no experiment: its log holds JSON null
    add_decision(store, "d3", customer_id="CUS-3", experiments=None)
    record_outcomes(store, [OutcomeIn("d1", "click", T0 + timedelta(hours=1)),
                            OutcomeIn("old0", "click", T0 - timedelta(hours=29))])
    frame = units(store, e, at=T0 + timedelta(days=1))
    assert frame.sort("customer_id").rows() == [
        ("CUS-0", "control", 0.0, 1.0), ("CUS-1", "friendly", 1.0, 0.0),
        ("CUS-2", "control", 0.0, 0.0)]


def _simulated_units(e: Experiment, rates: dict[str, float], n: int, seed: int,
                     skew: float = 0.0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    ids = [f"CUS-{i:08d}" for i in range(n)]
    arms = [assign(e, c) for c in ids]
    if skew:  # drop some control customers: a logging bug SRM must catch
        keep = [a != e.control or rng.random() > skew for a in arms]
        ids = [c for c, k in zip(ids, keep, strict=True) if k]
        arms = [a for a, k in zip(arms, keep, strict=True) if k]
    x = rng.poisson(2.0, len(ids)).astype(float)
    p = np.array([rates[a] for a in arms]) * 1.5 * x  # the pre-period predicts the metric
    y = (rng.random(len(ids)) < np.clip(p, 0, 1)).astype(float)
    return pl.DataFrame({"customer_id": ids, "arm": arms, "y": y, "x_pre": x})


def test_analysis_finds_a_real_effect_with_intervals_and_a_clean_srm() -> None:
    e = _exp(holdout=0.1)
    result = analyse(e, _simulated_units(e, {"control": 0.1, "friendly": 0.13,
                                             HOLDOUT: 0.05}, 30_000, seed=1))
    by = {a.arm: a for a in result.arms}
    d = by["friendly"].versus_control
    assert d is not None and d.low > 0 and d.p_value < 0.001
    assert by["friendly"].always_valid_p is not None and by["friendly"].always_valid_p < 0.05
    cup = by["friendly"].cuped
    assert cup is not None and cup.high - cup.low < d.high - d.low  # CUPED narrows it
    assert result.variance_ratio is not None and result.variance_ratio < 0.9
    assert result.holdout_effect is not None and result.holdout_effect.low > 0
    assert not result.srm.flagged
    assert result.table().columns[:4] == ["arm", "customers", "expected_share", "rate"]


def test_analysis_flags_a_sample_ratio_mismatch_and_finds_nothing_in_an_aa() -> None:
    e = _exp()
    skewed = analyse(e, _simulated_units(e, {"control": 0.1, "friendly": 0.1}, 20_000,
                                         seed=2, skew=0.08))
    assert skewed.srm.flagged
    aa = analyse(e, _simulated_units(e, {"control": 0.1, "friendly": 0.1}, 20_000, seed=3))
    assert not aa.srm.flagged
    friendly = aa.arms[1]
    assert friendly.always_valid_p is not None and friendly.always_valid_p > 0.05
    with pytest.raises(ValidationError, match=r"units in arm\(s\) \['other'\]"):
        analyse(e, pl.DataFrame({"customer_id": ["c"], "arm": ["other"], "y": [1.0],
                                 "x_pre": [0.0]}))


def test_every_decision_logs_the_arms_of_the_experiments_running(sqlite_store: Store) -> None:
    from tactful.decide.repository import read_decision
    from tactful.decide.service import decide_customer, explain

    store = sqlite_store
    add_customer(store)
    e = ex.create(store, _exp(starts_at=T0 - timedelta(days=1), holdout=0.3))
    during = decide_customer(store, customer_id="CUS-1", at=T0)
    row = read_decision(store, during.decision.decision_id)
    assert row is not None and row["experiments"] == {"tone": assign(e, "CUS-1")}
    assert row["inputs"]["customer"]["assignments"] == [["tone", assign(e, "CUS-1")]]
    assert explain(store, decision_id=during.decision.decision_id).same
    ex.stop(store, "tone", at=T0 + timedelta(hours=1))
    after = decide_customer(store, customer_id="CUS-1", at=T0 + timedelta(hours=2))
    row = read_decision(store, after.decision.decision_id)
    assert row is not None and row["experiments"] is None


def test_a_channel_arm_moves_messages_to_its_channel_where_allowed() -> None:
    policy = DecisionPolicy(ActionsCatalog.default())
    at = datetime(2026, 3, 2, 10, tzinfo=UTC)
    feats = {"unit": 100.0, "holds_savings": 0.0, "holds_credit_card": 0.0, "holds_loan": 0.0,
             "shortfall_forecast": 0.0, "checking_balance_min_30d": 500_000.0}

    def channels(prefs: tuple[Channel, ...], arm: Channel | None) -> set[Channel | None]:
        customer = CustomerContext(
            "CUS-1", "UTC", PersonalizationLevel.ADVANCED, prefs,
            frozenset({"personalization", "marketing"}), arm_channel=arm)
        inputs = DecisionInputs(decision_id("CUS-1", at, "outbound"), customer, at,
                                Placement.OUTBOUND, (Candidate("upcoming_bill", "RENT", 0.9),),
                                feats, ContactHistory())
        assert inputs_from_json(inputs_to_json(inputs)) == inputs
        return {c.channel for c in policy.decide(inputs).considered}

    both = (Channel.IN_APP, Channel.PUSH, Channel.EMAIL)
    assert len(channels(both, None)) > 1
    assert channels(both, Channel.EMAIL) == {Channel.EMAIL}
    # a customer who does not take email keeps the usual channels: preferences win
    assert channels((Channel.IN_APP, Channel.PUSH), Channel.EMAIL) == channels(
        (Channel.IN_APP, Channel.PUSH), None)
    with pytest.raises(ValidationError, match="arm b: channel must be one of"):
        ex.parse_arm("b:1:pigeon")
    assert ex.parse_arm("e:2:email") == Arm("e", 2.0, Channel.EMAIL)
    with pytest.raises(ValidationError, match=r"arm .x:y.: write NAME\[:WEIGHT"):
        ex.parse_arm("x:y")


def test_a_channel_arm_is_stored_and_reaches_the_decision(sqlite_store: Store) -> None:
    from tactful.decide.service import decide_customer

    store = sqlite_store
    add_customer(store)
    e = ex.create(store, _exp(arms=(Arm("usual", 1), Arm("by-email", 1, Channel.EMAIL)),
                              starts_at=T0 - timedelta(days=1), salt="s"))
    assert ex.get(store, "tone").arms[1].channel is Channel.EMAIL
    result = decide_customer(store, customer_id="CUS-1", at=T0, save=False)
    expected = Channel.EMAIL if assign(e, "CUS-1") == "by-email" else None
    assert result.inputs.customer.arm_channel is expected
    other = next(f"CUS-{k}" for k in range(2, 100)
                 if (assign(e, f"CUS-{k}") == "by-email") != (expected is not None))
    add_customer(store, other)
    flipped = decide_customer(store, customer_id=other, at=T0, save=False)
    assert (flipped.inputs.customer.arm_channel is None) == (expected is not None)
