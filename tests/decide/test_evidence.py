"""The evidence the feed keeps in memory counts exactly what ``learned`` reads afresh: after
decisions, outcomes, insights acted on or dismissed, a decision decided again and an erasure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select, update

from tactful.batch.enrich import run_enrich
from tactful.batch.insights import run_insights
from tactful.decide.evidence import Evidence
from tactful.decide.policy import Placement
from tactful.decide.repository import default_moment, learned, read_decision
from tactful.decide.service import decide_all, decide_customer, default_policy
from tactful.domain.actions import OutcomeKind
from tactful.ingest.loader import Loader
from tactful.insights import lifecycle
from tactful.insights.repository import mark
from tactful.measure.outcomes import OutcomeIn, record_outcomes
from tactful.simulate import SimulationConfig, simulate
from tactful.store import schema
from tactful.store.store import Store

CONFIG = SimulationConfig(customers=24, months=3, seed=7, start=date(2025, 1, 1))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    simulate(CONFIG, tmp_path / "exports", "parquet")
    store = Store.open(f"sqlite:///{tmp_path / 'tactful.db'}")
    Loader(store, report_dir=tmp_path / "reports").ingest(
        [p for p in sorted((tmp_path / "exports").iterdir()) if p.is_file()])
    run_enrich(store)
    run_insights(store)
    return store


def _same(store: Store, held: Evidence, moments: list[datetime]) -> None:
    policy = default_policy()
    for at in moments:
        fresh = learned(store, at=at, policy=policy)
        assert held.learned(store, at=at) == fresh, at


def test_the_evidence_held_counts_what_a_fresh_read_counts(store: Store) -> None:
    held = Evidence()
    start = default_moment(store)
    moments = [start + timedelta(days=d, minutes=m) for d in (0, 1, 4, 9) for m in (0, 30)]
    _same(store, held, moments)  # an empty log: no evidence

    report = decide_all(store, placement=Placement.OUTBOUND, at=start)
    decide_all(store, placement=Placement.FEED, at=start + timedelta(days=1))
    _same(store, held, moments)
    sent = [r for r in (read_decision(store, d) for d in report.decision_ids)
            if r is not None and not r["silent"]]
    assert len(sent) >= 4
    assert any(held.learned(store, at=start + timedelta(days=9)).values())

    # outcomes: a click, a dismissal, an opt-out, one in the future of some moments
    record_outcomes(store, [
        OutcomeIn(sent[0]["decision_id"], OutcomeKind.CLICK, sent[0]["send_at"]),
        OutcomeIn(sent[1]["decision_id"], OutcomeKind.DISMISS,
                  sent[1]["send_at"] + timedelta(days=2), reason="not_relevant"),
        OutcomeIn(sent[2]["decision_id"], OutcomeKind.IMPRESSION,
                  sent[2]["send_at"] + timedelta(hours=1)),
    ])
    _same(store, held, moments)

    # an insight a message carried acted on: the state counts, the next answer sees it
    carried = [i for r in sent for i in r["relevance"].get("insight_ids", [])]
    assert carried
    mark(store, carried[-1], lifecycle.ACTED_ON, at=start)
    _same(store, held, moments)

    # a decision decided again (same id, a later created_at), now as silence
    d = schema.decisions
    with store.transaction() as conn:
        conn.execute(update(d).where(d.c.decision_id == sent[3]["decision_id"]).values(
            silent=True, created_at=datetime.now(UTC)))
    _same(store, held, moments)

    # one more decision, then an erasure of a customer whose messages counted
    decide_customer(store, customer_id=str(sent[0]["customer_id"]),
                    at=start + timedelta(days=2))
    _same(store, held, moments)
    from tactful.service.customers import erase

    erase(store, customer_id=str(sent[0]["customer_id"]), erased_by="test")
    assert not store.rows(select(d.c.decision_id).where(
        d.c.decision_id == sent[0]["decision_id"]))
    _same(store, held, moments)


def test_an_outcome_stamped_in_the_past_is_not_missed(store: Store) -> None:
    """An outcome recorded with an old ``recorded_at`` (the outbox's own clock) falls behind
    the mark: the row count tells, and the evidence is read again."""
    held = Evidence()
    start = default_moment(store)
    report = decide_all(store, placement=Placement.OUTBOUND, at=start)
    later = start + timedelta(days=1)
    _same(store, held, [later])
    sent = [r for r in (read_decision(store, x) for x in report.decision_ids)
            if r is not None and not r["silent"]]
    record_outcomes(store, [OutcomeIn(sent[0]["decision_id"], OutcomeKind.CLICK,
                                      sent[0]["send_at"])])
    o = schema.outcomes
    with store.transaction() as conn:
        conn.execute(update(o).values(recorded_at=datetime(2000, 1, 1, tzinfo=UTC)))
    fresh = Evidence()
    fresh.learned(store, at=later)
    record_outcomes(store, [OutcomeIn(sent[1]["decision_id"], OutcomeKind.CLICK,
                                      sent[1]["send_at"])])
    with store.transaction() as conn:
        conn.execute(update(o).values(recorded_at=datetime(2000, 1, 1, tzinfo=UTC)))
    _same(store, fresh, [later])
    _same(store, held, [later])


def test_the_features_held_are_computed_again_when_their_rows_change(store: Store) -> None:
    """The rule features a feed request keeps are those a fresh computation gives, after a
    posted transaction (a row, a balance moved), a login and on the next day."""
    from tactful.decide.features import FeatureCache, fingerprint
    from tactful.decide.repository import _rule_features
    from tactful.service.ingest import ingest_events, ingest_transactions
    from tactful.service.records import EventIn, TransactionIn

    cache = FeatureCache()
    wanted = frozenset({"checking_balance_min_30d", "has_savings", "has_credit_card",
                        "savings_balance", "spend_30d", "days_since_login"})
    a = schema.accounts
    cid, account, currency, balance = next(
        (str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in store.rows(
            select(a.c.customer_id, a.c.id, a.c.currency, a.c.balance_minor)
            .where(a.c.type == "checking").order_by(a.c.customer_id)))
    at = default_moment(store)
    calls: list[int] = []

    def check(day: date) -> dict[str, float]:
        def compute() -> dict[str, float]:
            calls.append(1)
            return _rule_features(store, [cid], day, wanted).get(cid, {})
        got = cache.get(store, cid, day, wanted, compute)
        assert got == _rule_features(store, [cid], day, wanted).get(cid, {})
        return got

    first = check(at.date())
    assert check(at.date()) == first and len(calls) == 1  # nothing changed: held
    before = fingerprint(store, cid)
    ingest_transactions(store, transactions=[TransactionIn(
        account_id=account, transaction_id="fs-1", booked_at=at - timedelta(hours=1),
        amount_minor=-(balance + 9_000), currency=currency, description="BEST BUY #1",
        channel="card")], realtime=True)
    assert fingerprint(store, cid) != before
    moved = check(at.date())
    assert len(calls) == 2 and moved != first
    ingest_events(store, events=[EventIn(customer_id=cid, kind="login",
                                         occurred_at=at - timedelta(minutes=5))])
    check(at.date())
    assert len(calls) == 3
    ingest_events(store, events=[EventIn(customer_id=cid, kind="page_view", feature="home",
                                         occurred_at=at - timedelta(minutes=4))])
    check(at.date())
    assert len(calls) == 3  # a page view is not read by the features
    check(at.date() + timedelta(days=1))
    assert len(calls) == 4


def test_a_serving_process_reads_the_rows_again_once_they_are_older_than_fresh_for(
        store: Store) -> None:
    """Within ``fresh_for`` seconds of the last read the held rows answer (no statement sent);
    past it, or with no ``fresh_for``, the next answer counts the outcome recorded meanwhile."""
    start = default_moment(store)
    report = decide_all(store, placement=Placement.OUTBOUND, at=start)
    sent = [r for r in (read_decision(store, x) for x in report.decision_ids)
            if r is not None and not r["silent"]]
    later = start + timedelta(days=1)
    held = Evidence()
    before = held.learned(store, at=later, fresh_for=3600)
    record_outcomes(store, [OutcomeIn(sent[0]["decision_id"], OutcomeKind.CLICK,
                                      sent[0]["send_at"])])
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute",
                 lambda *args: statements.append(str(args[2])))
    assert held.learned(store, at=later, fresh_for=3600) == before
    assert statements == []
    after = held.learned(store, at=later)
    assert statements
    assert after != before
    assert after == learned(store, at=later, policy=default_policy())
