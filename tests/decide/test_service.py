"""The decision layer against a real store: a small simulated bank, ingested, enriched and given
its insights through the product's own path; a batch of decisions logged, and every one of them
replayed from the log to the same answer. The CLI faces are exercised on the same store."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tactful.cli.app import app
from tactful.decide.policy import Placement
from tactful.decide.repository import default_moment, read_decision
from tactful.decide.service import decide_all, decide_customer, explain
from tactful.errors import NotFoundError
from tactful.ingest.loader import Loader
from tactful.simulate import SimulationConfig
from tactful.store import schema
from tactful.store.store import Store

from .conftest import nightly_bank

CONFIG = SimulationConfig(customers=60, months=4, seed=5, start=date(2025, 1, 1))


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return nightly_bank(tmp_path_factory.mktemp("decide-bank"), CONFIG)


def test_a_batch_is_logged_and_every_decision_replays_to_the_same_answer(bank: Path) -> None:
    store = Store.open(f"sqlite:///{bank}")
    report = decide_all(store, placement=Placement.OUTBOUND, shard=25)
    assert report.customers == CONFIG.customers == len(report.decision_ids)
    assert report.messages + report.silent == report.customers
    assert report.messages > 0 and report.silent > 0  # both outcomes happen in a real bank
    for decision_id in report.decision_ids:
        replay = explain(store, decision_id=decision_id)
        assert replay.same, decision_id
        row = replay.logged
        assert 0 < row["pscore"] <= 1 and row["explanation"]
        assert row["inputs"]["decision_id"] == decision_id
    logged = store.rows(select(schema.decisions.c.candidates, schema.decisions.c.silent))
    reasons = {c["dropped"] for cands, _ in logged for c in cands}
    assert {"not_eligible", "rhythm", "grouped", "outranked"} <= reasons


def test_no_savings_offer_or_idle_cash_goes_to_a_customer_who_holds_savings(bank: Path) -> None:
    store = Store.open(f"sqlite:///{bank}")
    report = decide_all(store, placement=Placement.FEED)
    savers = {str(r[0]) for r in store.rows(select(schema.accounts.c.customer_id).where(
        schema.accounts.c.type == "savings", schema.accounts.c.closed_on.is_(None)))}
    for decision_id in report.decision_ids:
        row = read_decision(store, decision_id)
        assert row is not None
        if row["customer_id"] in savers:
            chosen = row["action_id"] or ""
            assert not chosen.startswith("offer_savings") and chosen != "idle_cash"
        # never both summaries among what survived the rhythm rule
        survivors = {c["action_id"] for c in row["candidates"] if c["dropped"] != "rhythm"}
        assert not {"daily_summary", "weekly_roundup"} <= survivors


def test_a_second_decision_reads_the_first_as_contact_history(bank: Path) -> None:
    store = Store.open(f"sqlite:///{bank}")
    at = default_moment(store)
    first = None
    for cid in sorted(str(r[0]) for r in store.rows(select(schema.customers.c.id))):
        result = decide_customer(store, customer_id=cid, placement=Placement.FEED, at=at)
        if not result.decision.is_silence:
            first = result
            break
    assert first is not None
    later = at.replace(hour=(at.hour + 1) % 24) if at.hour < 23 else at
    again = decide_customer(store, customer_id=first.decision.customer_id,
                            placement=Placement.FEED, at=later, save=False)
    sends = again.inputs.history.sends
    assert first.decision.action is not None
    assert any(s.action_id == first.decision.action.id for s in sends)
    assert again.budget < first.budget


def test_a_decision_sees_another_placements_decision_of_the_same_moment(bank: Path) -> None:
    store = Store.open(f"sqlite:///{bank}")
    at = default_moment(store).replace(minute=7)
    report = decide_all(store, placement=Placement.OUTBOUND, at=at)
    sent = [read_decision(store, i) for i in report.decision_ids]
    row = next(r for r in sent if r is not None and not r["silent"])
    feed = decide_customer(store, customer_id=row["customer_id"], placement=Placement.FEED,
                           at=at, save=False)
    assert [s.action_id for s in feed.inputs.history.sends].count(row["action_id"]) >= 1
    again = decide_customer(store, customer_id=row["customer_id"],
                            placement=Placement.OUTBOUND, at=at, save=False)
    assert again.decision == decide_customer(
        store, customer_id=row["customer_id"], placement=Placement.OUTBOUND, at=at,
        save=False).decision
    assert all(s.decided_at != at or s.action_id != row["action_id"]
               for s in again.inputs.history.sends)


def test_unknown_ids_are_clear_errors(bank: Path) -> None:
    store = Store.open(f"sqlite:///{bank}")
    with pytest.raises(NotFoundError, match="is not in the store"):
        decide_customer(store, customer_id="NOBODY")
    with pytest.raises(NotFoundError, match="no decision 'nope' in the store"):
        explain(store, decision_id="nope")


def test_the_cli_decides_runs_the_batch_and_replays(bank: Path) -> None:
    url = f"sqlite:///{bank}"
    runner = CliRunner()
    store = Store.open(url)
    cid = sorted(str(r[0]) for r in store.rows(select(schema.customers.c.id)))[0]
    out = runner.invoke(app, ["decide", cid, "--placement", "push", "--db", url])
    assert out.exit_code == 0, out.output
    assert "pscore" in out.output and "every candidate" in out.output
    out = runner.invoke(app, ["decide", "--all", "--placement", "outbound", "--db", url])
    assert out.exit_code == 0, out.output
    assert f"{CONFIG.customers} decisions (outbound" in out.output
    assert "rule features: stored by insight run" in out.output
    decision_id = str(store.rows(select(schema.decisions.c.decision_id))[0][0])
    out = runner.invoke(app, ["explain", decision_id, "--db", url])
    assert out.exit_code == 0, out.output
    assert "the same decision" in out.output


def test_the_demo_shows_rules_only_beside_tactful_with_a_silence(bank: Path) -> None:
    from io import StringIO

    from rich.console import Console

    from tactful.cli.demo import _print_decisions

    store = Store.open(f"sqlite:///{bank}")
    out = StringIO()
    _print_decisions(Console(file=out, width=200), store, bank.parent)
    text_out = out.getvalue()
    assert "rules-only vs Tactful" in text_out
    assert "silence" in text_out  # restraint is shown, not only messages
    assert "tactful explain" in text_out


def test_a_policy_is_estimated_from_the_log_before_launch(bank: Path, tmp_path: Path) -> None:
    """Off-policy on real logged decisions: the logging policy estimated from its own log gets
    weights of exactly 1, so IPS and SNIPS equal what it earned; a catalog without the action
    the log rewarded estimates less; the CLI prints both with the support verdict."""
    from tactful.decide.catalog import ActionsCatalog
    from tactful.decide.policy import DecisionPolicy
    from tactful.domain.actions import OutcomeKind
    from tactful.measure.offline import policy_value
    from tactful.measure.outcomes import OutcomeIn, record_outcomes

    store = Store.open(f"sqlite:///{bank}")
    since = datetime(2000, 1, 1, tzinfo=UTC)
    report = decide_all(store, placement=Placement.OUTBOUND, shard=25)
    sent = [read_decision(store, d) for d in report.decision_ids]
    messages = [r for r in sent if r is not None and not r["silent"]]
    clicked = messages[: max(1, len(messages) // 2)]
    record_outcomes(store, [OutcomeIn(decision_id=r["decision_id"], kind=OutcomeKind.CLICK,
                                      occurred_at=r["send_at"]) for r in clicked],
                    source="api")
    same = policy_value(store, DecisionPolicy(ActionsCatalog.default()), since=since)
    assert same.agreement > 0.5
    ips_, snips_, dr = same.estimates
    assert abs(ips_.value - same.logged) < 1e-9 and abs(snips_.value - same.logged) < 1e-9
    assert dr.covers(same.logged) and abs(same.support.max_weight - 1.0) < 1e-9
    assert abs(same.support.ess - same.decisions) < 1e-6
    assert f"effective sample size {same.decisions}" in same.support.reason

    rewarded = str(clicked[0]["action_id"])
    text = (Path(__file__).parents[2] / "src/tactful/decide/actions.toml").read_text("utf-8")
    blocks = text.split("[[actions]]")
    kept = [b for b in blocks[1:] if f'id = "{rewarded}"' not in b]
    assert len(kept) == len(blocks) - 2
    variant = tmp_path / "actions.toml"
    variant.write_text("[[actions]]".join([blocks[0], *kept]), encoding="utf-8")
    without = policy_value(store, DecisionPolicy(ActionsCatalog.load(variant)), since=since)
    assert without.estimates[0].value < same.logged

    result = CliRunner().invoke(app, ["ope", "--policy", str(variant), "--db",
                                 f"sqlite:///{bank}"])
    assert result.exit_code == 0, result.output
    assert "IPS" in result.output and "DR" in result.output and "Support" in result.output


def test_after_an_opt_out_in_the_app_nothing_but_exempt_messages_goes_there(bank: Path) -> None:
    """The closed loop found in-app messages sent after the customer opted out in the app: the
    store's opt-out outcome now closes the channel in the contact history it reads."""
    from datetime import timedelta

    from tactful.decide.catalog import ActionsCatalog
    from tactful.domain.actions import OutcomeKind
    from tactful.domain.enums import Channel
    from tactful.measure.outcomes import OutcomeIn, record_outcomes

    store = Store.open(f"sqlite:///{bank}")
    at = default_moment(store).replace(minute=11)
    first = None
    for cid in sorted(str(r[0]) for r in store.rows(select(schema.customers.c.id))):
        result = decide_customer(store, customer_id=cid, placement=Placement.FEED, at=at)
        if not result.decision.is_silence and result.decision.channel is Channel.IN_APP:
            first = result
            break
    assert first is not None
    record_outcomes(store, [OutcomeIn(decision_id=first.decision.decision_id,
                                      kind=OutcomeKind.OPT_OUT,
                                      occurred_at=at + timedelta(minutes=5))], source="api")
    later = decide_customer(store, customer_id=first.decision.customer_id,
                            placement=Placement.FEED, at=at + timedelta(hours=2), save=False)
    assert Channel.IN_APP in later.inputs.history.opted_out
    exempt = {a.id for a in ActionsCatalog.default().actions.values() if a.cap_exempt}
    chosen = later.decision.action
    assert later.decision.is_silence or (chosen is not None and chosen.id in exempt)
    assert any(c.dropped == "opted_out" for c in later.considered)


def test_the_banks_vulnerable_flag_reaches_the_decision(bank: Path, tmp_path: Path) -> None:
    """The bank marks a customer vulnerable in its customers file; the next decision reads the
    flag (no exploration of regulated credit on them; the rule feature ``vulnerable``) and logs
    it with the inputs, so the replay sees it too."""
    store = Store.open(f"sqlite:///{bank}")
    c = schema.customers
    cid, region, locale, zone = store.rows(
        select(c.c.id, c.c.region, c.c.locale, c.c.timezone).order_by(c.c.id).limit(1))[0]
    before = decide_customer(store, customer_id=cid, placement=Placement.OUTBOUND, save=False)
    assert before.inputs.customer.vulnerable is False
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,region,locale,timezone,vulnerable\n"
                    f"{cid},{region},{locale},{zone},yes\n", encoding="utf-8")
    Loader(store, report_dir=tmp_path / "reports").ingest([path])
    assert store.rows(select(c.c.vulnerable).where(c.c.id == cid))[0][0] is True
    result = decide_customer(store, customer_id=cid, placement=Placement.OUTBOUND)
    assert result.inputs.customer.vulnerable is True
    replay = explain(store, decision_id=result.decision.decision_id)
    assert replay.same and replay.replayed.inputs.customer.vulnerable is True
