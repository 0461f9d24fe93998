"""Posting transactions and events: the same validation and ids as a file import, stored once
however often they are posted; a single transaction takes the real-time path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from numpy.typing import NDArray
from sqlalchemy import func, select

from tactful.errors import ValidationError
from tactful.service.clock import Clock, moment
from tactful.service.feed import feed
from tactful.service.ingest import ingest_events, ingest_transactions
from tactful.service.records import EventIn, TransactionIn
from tactful.store import schema
from tactful.store.store import Store

AT = datetime(2025, 3, 30, 9, 30, tzinfo=UTC)


def _count(store: Store, table: str) -> int:
    return int(store.rows(select(func.count()).select_from(schema.metadata.tables[table]))[0][0])


def test_events_are_stored_once_by_their_natural_ids(bank: Store) -> None:
    events = [EventIn(customer_id="CUS-00000001", kind="login", occurred_at=AT),
              EventIn(event_id="ev-7", customer_id="CUS-00000001", kind="feature_used",
                      occurred_at=AT, feature="budgets", attributes={"screen": "home"})]
    before = _count(bank, "events")
    first = ingest_events(bank, events=events)
    again = ingest_events(bank, events=list(reversed(events)))
    assert (first.inserted, first.duplicates) == (2, 0)
    assert (again.inserted, again.duplicates) == (0, 2)
    assert first.ids[1] == "ev-7" and set(again.ids) == set(first.ids)
    assert _count(bank, "events") == before + 2


def test_a_batch_answers_its_rejects_by_position_and_stores_the_rest(bank: Store) -> None:
    a = schema.accounts
    account = str(bank.rows(select(a.c.id).order_by(a.c.id).limit(1))[0][0])
    rows = [TransactionIn(account_id=account, transaction_id=f"b-{n}", booked_at=AT,
                          amount_minor=-100 * (n + 1), currency="USD", description="COFFEE")
            for n in range(3)]
    bad = TransactionIn(account_id=account, transaction_id="b-bad", booked_at=AT,
                        amount_minor=-1, currency="ZZZ")
    answer = ingest_transactions(bank, transactions=[rows[0], bad, *rows[1:]])
    assert answer.inserted == 3 and [r.index for r in answer.rejected] == [1]
    assert answer.rejected[0].field == "currency"
    assert answer.ids == [f"{account}:b-{n}" for n in range(3)]
    assert ingest_transactions(bank, transactions=rows).duplicates == 3


def test_nothing_to_ingest_is_an_error(bank: Store) -> None:
    with pytest.raises(ValidationError, match="no events"):
        ingest_events(bank, events=[])
    with pytest.raises(ValidationError, match="one transaction at a time"):
        ingest_transactions(bank, transactions=[
            TransactionIn(account_id="A", booked_at=AT, amount_minor=1, currency="USD")] * 2,
            realtime=True)


def _balance(bank: Store, customer: str, account: str, at: datetime) -> int:
    """The account's balance as the detectors read it at the end of ``at``'s day."""
    from tactful.insights.repository import load_inputs

    accounts = load_inputs(bank, [customer], as_of=at.date()).accounts
    return int(accounts.filter(pl.col("account_id") == account)["balance_minor"][0])


def test_a_posted_transaction_is_understood_and_the_next_feed_sees_it(bank: Store) -> None:
    a = schema.accounts
    account, customer, currency, balance = bank.rows(select(
        a.c.id, a.c.customer_id, a.c.currency, a.c.balance_minor).where(
        a.c.type == "checking", a.c.balance_minor > 10_000).order_by(a.c.id).limit(1))[0]
    at = moment(bank, Clock.DATA) + timedelta(hours=1)
    big = TransactionIn(account_id=account, transaction_id="rt-1", booked_at=at,
                        amount_minor=-(balance + 5_000), currency=currency,
                        description="BEST BUY #123", mcc="5732", channel="card")
    answer = ingest_transactions(bank, transactions=[big], realtime=True, clock=Clock.DATA)
    assert answer.inserted == 1
    found = {i.detector for i in answer.insights}
    assert "large_transaction" in found  # one of the real-time detectors it can make true
    t = schema.transactions
    category, merchant = bank.rows(select(t.c.category, t.c.merchant).where(
        t.c.id == answer.ids[0]))[0]
    assert category and merchant == "Best Buy"
    assert _balance(bank, str(customer), account, at) == -5_000
    retry = ingest_transactions(bank, transactions=[big], realtime=True, clock=Clock.DATA)
    assert (retry.inserted, retry.duplicates, retry.insights) == (0, 1, [])
    assert _balance(bank, str(customer), account, at) == -5_000
    shown = feed(bank, customer_id=str(customer), clock=Clock.DATA)
    assert shown.message is not None
    assert set(shown.message.insight_ids) & {i.insight_id for i in answer.insights}


def test_a_promoted_shortfall_model_decides_the_warning_on_an_event(bank: Store) -> None:
    """The nightly run warns of a shortfall by the promoted model's probability; an event must
    too (issue 17): the real-time path carries the promoted model into the customer's inputs
    and the shortfall detector runs on money moving, with the model's one-customer path."""
    from tests.models.test_shortfall_model import _rows

    from tactful.insights.detectors import cashflow
    from tactful.insights.inputs import InsightInputs
    from tactful.insights.repository import load_inputs
    from tactful.insights.shortfall_risk import ShortfallRisk
    from tactful.models.registry import MetricFloors, ModelRegistry
    from tactful.models.shortfall import train_shortfall
    from tactful.service.ingest import Realtime

    engine = Realtime()
    a = schema.accounts
    account, customer, currency = bank.rows(select(a.c.id, a.c.customer_id, a.c.currency).where(
        a.c.type == "checking").order_by(a.c.id).limit(1))[0]
    plain = load_inputs(bank, [str(customer)], as_of=AT.date())
    assert engine.with_models(bank, plain).shortfall_risk is None  # nothing promoted yet

    registry = ModelRegistry(bank)
    version = train_shortfall(registry, _rows(), test_days=3, family="logistic",
                              params={"calibration": "sigmoid", "calibration_share": 0.25}).version
    registry.promote("shortfall", version.version, by="test",
                     floors=MetricFloors(require_fairness_report=False))
    engine = Realtime()  # a new process, or the next refresh
    carried = engine.with_models(bank, plain)
    assert carried.shortfall_risk is not None
    assert carried.shortfall_risk.version == f"shortfall v{version.version}"

    scored: list[str] = []
    real = cashflow._one_customer_probabilities

    def spy(data: InsightInputs, risk: ShortfallRisk) -> tuple[list[str], NDArray[np.float64]]:
        scored.append(risk.version)
        return real(data, risk)

    at = moment(bank, Clock.DATA) + timedelta(hours=1)
    tx = TransactionIn(account_id=account, transaction_id="rt-risk", booked_at=at,
                       amount_minor=-4_200, currency=currency, description="GROCERY OUTLET",
                       channel="card")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cashflow, "_one_customer_probabilities", spy)
        answer = ingest_transactions(bank, transactions=[tx], realtime=True, clock=Clock.DATA,
                                     engine=engine)
    assert answer.inserted == 1
    assert scored == [f"shortfall v{version.version}"]
