"""The consent rule, pinned once: the latest record per customer and purpose wins, a refusal
wins a tie, a re-grant after a withdrawal counts, no record is no consent. The same rule read
from the store (SQLite and PostgreSQL), and a withdrawal retracting open insights in the
transaction that records it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

from tactful.domain.enums import ConsentPurpose, ConsentStatus
from tactful.domain.records import Consent
from tactful.errors import NotFoundError
from tactful.ingest.loader import Loader
from tactful.insights import repository as repo
from tactful.store import schema
from tactful.store.store import Store
from tactful.trust import consent

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
P, PR = "personalization", "profiling"


def _records(*rows: tuple[str, str, str, datetime]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=consent.RECORDS, orient="row")


@pytest.mark.parametrize(
    ("history", "holds"),
    [
        pytest.param([], False, id="no record is no consent"),
        pytest.param([("granted", T0)], True, id="a grant"),
        pytest.param([("denied", T0)], False, id="a denial"),
        pytest.param([("granted", T0), ("withdrawn", T0 + timedelta(days=1))], False,
                     id="withdrawal after grant"),
        pytest.param([("withdrawn", T0 + timedelta(days=1)), ("granted", T0)], False,
                     id="withdrawal after grant, rows out of order"),
        pytest.param([("granted", T0), ("withdrawn", T0 + timedelta(days=1)),
                      ("granted", T0 + timedelta(days=2))], True, id="re-grant after withdrawal"),
        pytest.param([("granted", T0), ("withdrawn", T0)], False,
                     id="same instant: the refusal wins"),
        pytest.param([("withdrawn", T0), ("granted", T0)], False,
                     id="same instant, other order: the refusal still wins"),
        pytest.param([("denied", T0), ("granted", T0)], False, id="same instant, denial wins"),
    ],
)
def test_the_latest_record_wins_and_a_refusal_wins_a_tie(
    history: list[tuple[str, datetime]], holds: bool
) -> None:
    records = _records(*[("C1", P, status, at) for status, at in history])
    grants = consent.granted(records)
    assert (("C1", P) in grants.rows()) is holds
    assert consent.allows(consent.purposes_of(grants, "C1"), P) is holds
    held = consent.holders(grants, ConsentPurpose.PERSONALIZATION)
    assert held is not None and ("C1" in held["customer_id"].to_list()) is holds


def test_purposes_and_customers_are_independent_and_at_cuts_the_history() -> None:
    records = _records(
        ("C1", P, "granted", T0),
        ("C1", PR, "denied", T0),
        ("C2", P, "withdrawn", T0 + timedelta(days=1)),
        ("C2", P, "granted", T0),
        ("C3", PR, "granted", T0 + timedelta(days=5)),
    )
    assert sorted(consent.granted(records).rows()) == [("C1", P), ("C3", PR)]
    assert sorted(consent.granted(records, at=T0).rows()) == [("C1", P), ("C2", P)]
    assert consent.granted(records, purposes=[ConsentPurpose.PROFILING]).rows() == [("C3", PR)]
    both = consent.holding_all(
        consent.granted(records), [ConsentPurpose.PERSONALIZATION, ConsentPurpose.PROFILING]
    )
    assert both.height == 0
    assert consent.holders(consent.granted(records), None) is None  # no consent needed
    assert consent.allows(frozenset(), consent.NO_CONSENT)


def _customers(store: Store, *ids: str) -> None:
    with store.transaction() as conn:
        store.write(conn, "customers", pl.DataFrame({
            "id": list(ids), "region": ["EU"] * len(ids), "locale": ["en_GB"] * len(ids),
            "timezone": ["Europe/London"] * len(ids)}))


def _insight(customer_id: str, n: int, purpose: str) -> dict[str, object]:
    return {
        "insight_id": f"I-{customer_id}-{n}", "customer_id": customer_id, "detector": f"d{n}",
        "family": "spending_insight", "subject": "s", "period": "p", "state": "live",
        "relevance": 0.5, "urgency": "normal", "facts": {}, "locale": "en_GB", "title": "t",
        "message": "m", "call_to_action": "c", "action": "open_insight", "explanation": "e",
        "consent_purpose": purpose, "min_level": "basic", "sensitive": False,
        "as_of": date(2025, 3, 1), "produced_at": T0, "expires_at": T0 + timedelta(days=3650),
        "cooldown_until": T0, "state_changed_at": T0, "run_id": None,
    }


def test_the_store_answers_with_the_same_rule(store: Store) -> None:
    _customers(store, "C1", "C2", "C3")
    with store.transaction() as conn:
        store.write(conn, "consents", pl.DataFrame({
            "customer_id": ["C1", "C1", "C1", "C2", "C2"],
            "purpose": [P, PR, P, P, PR],
            "status": ["granted", "granted", "withdrawn", "granted", "granted"],
            "at": [T0, T0, T0 + timedelta(hours=1), T0, T0],
            "source": ["test"] * 5,
        }))
    assert sorted(consent.current(store).rows()) == [("C1", PR), ("C2", P), ("C2", PR)]
    assert sorted(consent.current(store, at=T0).rows()) == [
        ("C1", P), ("C1", PR), ("C2", P), ("C2", PR)]
    both = [ConsentPurpose.PERSONALIZATION, ConsentPurpose.PROFILING]
    assert consent.consenting(store, both) == {"C2"}
    assert consent.lacking(store, both) == {"C1", "C3"}  # C3 never answered
    states = {(c.purpose, c.status) for c in consent.in_force(store, "C1")}
    assert states == {(ConsentPurpose.PERSONALIZATION, ConsentStatus.WITHDRAWN),
                      (ConsentPurpose.PROFILING, ConsentStatus.GRANTED)}


def test_a_withdrawal_retracts_open_insights_in_its_own_transaction(store: Store) -> None:
    _customers(store, "C1", "C2")
    with store.transaction() as conn:
        store.write(conn, "consents", pl.DataFrame({
            "customer_id": ["C1", "C2"], "purpose": [P, P], "status": ["granted"] * 2,
            "at": [T0, T0], "source": ["test"] * 2}))
        conn.execute(schema.insights.insert(), [
            _insight("C1", 1, P), _insight("C1", 2, P), _insight("C1", 3, consent.NO_CONSENT),
            _insight("C2", 1, P)])
    repo.mark(store, "I-C1-2", "shown")

    change = consent.record(store, Consent(
        "C1", ConsentPurpose.PERSONALIZATION, ConsentStatus.WITHDRAWN, T0 + timedelta(days=1)))

    i = schema.insights
    states = dict(store.rows(select(i.c.insight_id, i.c.state)))
    assert change.retracted == 2
    assert states == {"I-C1-1": "retracted", "I-C1-2": "retracted",
                      "I-C1-3": "live",  # a legally required message needs no consent
                      "I-C2-1": "live"}
    assert [r["insight_id"] for r in repo.list_insights(store, "C1")] == ["I-C1-3"]
    with pytest.raises(NotFoundError, match="no customer"):
        consent.record(store, Consent("NOBODY", ConsentPurpose.PERSONALIZATION,
                                      ConsentStatus.WITHDRAWN, T0))


def test_reads_filter_by_consent_even_when_nothing_was_retracted(store: Store) -> None:
    """A withdrawal written behind the door's back (a restore, a manual insert) still stops
    the read: the second guard."""
    _customers(store, "C1")
    with store.transaction() as conn:
        store.write(conn, "consents", pl.DataFrame({
            "customer_id": ["C1", "C1"], "purpose": [P, P], "status": ["granted", "withdrawn"],
            "at": [T0, T0 + timedelta(days=1)], "source": ["test"] * 2}))
        conn.execute(schema.insights.insert(), [_insight("C1", 1, P)])
    assert repo.list_insights(store, "C1") == []
    assert [r["state"] for r in repo.list_insights(store, "C1", states=None)] == []


def test_an_ingested_withdrawal_retracts_in_the_batch_that_stores_it(
    store: Store, tmp_path: Path
) -> None:
    _customers(store, "C1", "C2")
    with store.transaction() as conn:
        store.write(conn, "consents", pl.DataFrame({
            "customer_id": ["C1", "C2"], "purpose": [P, P], "status": ["granted"] * 2,
            "at": [T0, T0], "source": ["test"] * 2}))
        conn.execute(schema.insights.insert(), [_insight("C1", 1, P), _insight("C2", 1, P)])
    path = tmp_path / "consents.csv"
    path.write_text("customer_id,purpose,status,at,source\n"
                    f"C1,personalization,withdrawn,{(T0 + timedelta(days=1)).isoformat()},app\n"
                    f"C2,marketing,withdrawn,{(T0 + timedelta(days=1)).isoformat()},app\n",
                    encoding="utf-8")
    report = Loader(store, report_dir=tmp_path / "reports").ingest([path])
    assert report.retracted == 1
    i = schema.insights
    assert dict(store.rows(select(i.c.insight_id, i.c.state))) == {
        "I-C1-1": "retracted", "I-C2-1": "live"}


def test_a_stored_grant_loses_to_a_withdrawal_of_the_same_instant(
    store: Store, tmp_path: Path
) -> None:
    """The table keeps one record per customer, purpose and instant: the refusal takes it."""
    _customers(store, "C1")
    with store.transaction() as conn:
        store.write(conn, "consents", pl.DataFrame({
            "customer_id": ["C1"], "purpose": [P], "status": ["granted"], "at": [T0],
            "source": ["test"]}))
        conn.execute(schema.insights.insert(), [_insight("C1", 1, P)])
    path = tmp_path / "consents.csv"
    path.write_text("customer_id,purpose,status,at,source\n"
                    f"C1,personalization,withdrawn,{T0.isoformat()},app\n", encoding="utf-8")
    report = Loader(store, report_dir=tmp_path / "reports").ingest([path])
    assert consent.current(store).height == 0
    assert report.retracted == 1
    again = tmp_path / "grant.csv"
    again.write_text("customer_id,purpose,status,at,source\n"
                     f"C1,personalization,granted,{T0.isoformat()},app\n", encoding="utf-8")
    Loader(store, report_dir=tmp_path / "reports").ingest([again])
    assert consent.current(store).height == 0  # a grant does not take a refusal's place


def test_held_answers_as_current_and_sees_the_next_record_at_once(store: Store) -> None:
    """``held`` keeps the rule's answer per set of records: asked again it agrees with
    ``current``, and a withdrawal recorded in between is the next answer's."""
    _customers(store, "C1", "C2", "C3")
    with store.transaction() as conn:
        store.write(conn, "consents", pl.DataFrame({
            "customer_id": ["C1", "C1", "C2"], "purpose": [P, PR, P],
            "status": ["granted"] * 3, "at": [T0] * 3, "source": ["test"] * 3}))
    later = T0 + timedelta(days=2)
    for _ in range(2):
        assert consent.held(store, ["C1", "C2", "C3"], at=later) == {
            "C1": frozenset({P, PR}), "C2": frozenset({P})}
    consent.record(store, Consent("C1", ConsentPurpose.PERSONALIZATION,
                                  ConsentStatus.WITHDRAWN, T0 + timedelta(days=1)))
    assert consent.held(store, ["C1"], at=later) == {"C1": frozenset({PR})}
    assert consent.held(store, ["C1"], at=T0) == {"C1": frozenset({P, PR})}
    assert sorted(consent.current(store, ["C1"], at=later).rows()) == [("C1", PR)]
