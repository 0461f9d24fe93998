"""The outbound batch reads the rule features the nightly insight run stored, instead of
computing them shard by shard: the same decisions, holdings still read live, and the batch
computing them itself when the nightly run has not written them. The login rhythm, read in one
pass per shard, is the profile's answer customer by customer."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import delete, select

from tactful.decide.policy import Placement
from tactful.decide.repository import RHYTHM_DAYS, gather, login_rhythm, stored_run
from tactful.decide.service import decide_all, default_policy
from tactful.insights import stored_features
from tactful.profile.view import LOGIN_KINDS, summarize_behaviour
from tactful.simulate import SimulationConfig
from tactful.store import schema
from tactful.store.store import Store

from .conftest import nightly_bank

CONFIG = SimulationConfig(customers=50, months=4, seed=9, start=date(2025, 1, 1))


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return nightly_bank(tmp_path_factory.mktemp("stored-features-bank"), CONFIG)


def _copy(bank: Path, tmp_path: Path, name: str) -> Store:
    shutil.copyfile(bank, tmp_path / name)
    return Store.open(f"sqlite:///{tmp_path / name}")


def _night(store: Store) -> date:
    written = stored_features.latest(store)
    assert written is not None
    return written.as_of


def _logged(store: Store) -> list[tuple[Any, ...]]:
    d = schema.decisions
    return [tuple(r) for r in store.rows(select(
        d.c.decision_id, d.c.silent, d.c.action_id, d.c.channel, d.c.send_at, d.c.pscore,
        d.c.explanation, d.c.candidates, d.c.inputs).order_by(d.c.decision_id))]


def test_the_batch_decides_the_same_with_the_stored_features_as_computing_them(
        bank: Path, tmp_path: Path) -> None:
    stored = _copy(bank, tmp_path, "stored.db")
    computed = _copy(bank, tmp_path, "computed.db")
    with computed.transaction() as conn:  # as if the nightly run had not written them
        conn.execute(delete(schema.rule_features))
    # on the night's own day: a batch computing the features does so as of the decision's day
    at = datetime.combine(_night(stored), time(23, 59, 30), UTC)
    assert stored_run(stored, at) is not None and stored_run(computed, at) is None
    a = decide_all(stored, placement=Placement.OUTBOUND, at=at, shard=20)
    b = decide_all(computed, placement=Placement.OUTBOUND, at=at, shard=20)
    assert (a.messages, a.silent) == (b.messages, b.silent)
    assert a.messages > 0 and a.silent > 0
    assert _logged(stored) == _logged(computed)
    assert a.features.startswith("stored by insight run")
    assert b.features.startswith("computed shard by shard: no insight run")


def test_stored_features_serve_the_nights_day_and_the_next_not_later(bank: Path) -> None:
    store = Store.open(f"sqlite:///{bank}")
    night = _night(store)
    noon = time(12, tzinfo=UTC)
    assert stored_run(store, datetime.combine(night, noon)) is not None
    assert stored_run(store, datetime.combine(night + timedelta(days=1), noon)) is not None
    # the night after did not run: two-day-old features are stale, the batch computes its own
    assert stored_run(store, datetime.combine(night + timedelta(days=2), noon)) is None
    # a batch replayed before the night cannot read what the night saw
    assert stored_run(store, datetime.combine(night - timedelta(days=1), noon)) is None
    store.close()


def test_holdings_are_read_live_not_from_the_night(bank: Path, tmp_path: Path) -> None:
    store = _copy(bank, tmp_path, "live.db")
    at = datetime.combine(_night(store), time(23, 59, 30), UTC)
    policy = default_policy()
    written = stored_run(store, at)
    ids = sorted(str(r[0]) for r in store.rows(select(schema.customers.c.id)))
    before = gather(store, ids, at=at, policy=policy, outcomes={},
                    placement=Placement.OUTBOUND, stored=written).features
    cid = next(c for c in ids if before[c].get("holds_savings") == 0.0)
    a = schema.accounts
    with store.transaction() as conn:  # opened this morning, after the nightly run
        store.write(conn, "accounts", pl.DataFrame({
            "id": ["A-NEW-SAVINGS"], "customer_id": [cid], "type": ["savings"],
            "currency": [store.rows(select(a.c.currency).where(a.c.customer_id == cid))[0][0]],
            "balance_minor": [0], "opened_on": [at.date()]}))
    after = gather(store, [cid], at=at, policy=policy, outcomes={},
                   placement=Placement.OUTBOUND, stored=written).features[cid]
    assert after["holds_savings"] == 1.0
    assert after["checking_balance_min_30d"] == before[cid]["checking_balance_min_30d"]


def test_the_login_rhythm_in_one_pass_is_the_profiles_customer_by_customer(
        bank: Path) -> None:
    store = Store.open(f"sqlite:///{bank}")
    at = datetime.combine(_night(store), time(23, 59, 30), UTC)
    c, e = schema.customers, schema.events
    zones = {str(r[0]): str(r[1]) for r in store.rows(select(c.c.id, c.c.timezone))}
    rhythm = login_rhythm(store, zones, at)
    assert rhythm  # the simulated customers log in
    for cid, zone in zones.items():
        times = sorted(r[0] for r in store.rows(select(e.c.occurred_at).where(
            e.c.customer_id == cid, e.c.kind.in_(LOGIN_KINDS),
            e.c.occurred_at > at - timedelta(days=RHYTHM_DAYS), e.c.occurred_at <= at)))
        summary = summarize_behaviour(["login"] * len(times), times, [None] * len(times),
                                      [None] * len(times), zone, at)
        assert rhythm.get(cid, (0, None)) == (len(times), summary.usual_login_hour), cid
    store.close()


def test_the_login_rhythm_on_each_backend_counts_in_the_customers_zone(store: Store) -> None:
    at = datetime(2025, 3, 31, 12, tzinfo=UTC)
    zones = {"C-TOKYO": "Asia/Tokyo", "C-NY": "America/New_York", "C-NONE": "Europe/Paris"}
    with store.transaction() as conn:
        store.write(conn, "customers", pl.DataFrame({
            "id": list(zones), "region": "US", "locale": "en-US",
            "timezone": list(zones.values())}))
        # Tokyo: 22:00 UTC is 07:00 local, twice; 10:00 UTC once. New York (EDT): two logins at
        # 12:00 local and two at 18:00 local -- a tie, to the hour logged in at first (18:00);
        # one login nine weeks ago and one after ``at`` do not count.
        logins = [("C-TOKYO", datetime(2025, 3, d, 22, tzinfo=UTC)) for d in (1, 2)] + [
            ("C-TOKYO", datetime(2025, 3, 3, 10, tzinfo=UTC)),
            ("C-NY", datetime(2025, 3, 20, 22, tzinfo=UTC)),
            ("C-NY", datetime(2025, 3, 21, 16, tzinfo=UTC)),
            ("C-NY", datetime(2025, 3, 22, 16, tzinfo=UTC)),
            ("C-NY", datetime(2025, 3, 23, 22, tzinfo=UTC)),
            ("C-NY", datetime(2025, 1, 20, 16, tzinfo=UTC)),
            ("C-NY", datetime(2025, 4, 1, 16, tzinfo=UTC)),
        ]
        store.write(conn, "events", pl.DataFrame({
            "id": [f"E{i}" for i in range(len(logins))], "customer_id": [c for c, _ in logins],
            "kind": "login", "occurred_at": [w for _, w in logins]}))
    assert login_rhythm(store, zones, at) == {"C-TOKYO": (3, 7), "C-NY": (4, 18)}
