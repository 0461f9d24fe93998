"""Real time and batch are one code path: a customer alone gets exactly the findings the batch
gave them, and a new transaction folded in produces what it makes true."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import cast

import polars as pl

from tactful.insights.catalog import Catalog
from tactful.insights.inputs import InsightInputs
from tactful.insights.realtime import (
    NEW_TRANSACTION,
    RealtimeInsights,
    before_latest,
    with_enriched,
)
from tactful.insights.shortfall_risk import ShortfallRisk
from tactful.insights.spec import Triggered


def test_one_customer_alone_gets_what_the_batch_gave(inputs: InsightInputs) -> None:
    catalog = Catalog.default()
    batch = catalog.findings(inputs)
    busiest = batch.group_by("customer_id").len().sort("len", "customer_id").row(-1)[0]
    alone = catalog.findings(inputs.subset([busiest]))
    mine = batch.filter(pl.col("customer_id") == busiest)
    assert alone.height > 0
    assert alone.sort(alone.columns).equals(mine.sort(mine.columns))


def test_a_new_charge_twice_is_flagged_at_once(inputs: InsightInputs) -> None:
    cards = inputs.transactions.filter(
        (pl.col("channel") == "card") & (pl.col("status") == "posted")
        & (pl.col("amount_minor") < -2_000) & pl.col("series_id").is_null()
    )
    tx = cards.sort("booked_at").row(-1, named=True)
    one = inputs.subset([tx["customer_id"]])
    before = {i.detector for i in RealtimeInsights().evaluate(one)}
    at = tx["booked_at"] + timedelta(minutes=4)
    new = pl.DataFrame([{
        "id": "NEW-1", "account_id": tx["account_id"], "booked_at": at,
        "amount_minor": tx["amount_minor"], "currency": tx["currency"],
        "description": tx["merchant"] or "", "counterparty": tx["merchant"], "mcc": None,
        "channel": "card", "status": "posted"}], schema=NEW_TRANSACTION)
    updated, insights = RealtimeInsights().on_transaction(one, new)
    assert updated.transactions.height == one.transactions.height + 1
    balance = updated.accounts.filter(pl.col("account_id") == tx["account_id"])
    old = one.accounts.filter(pl.col("account_id") == tx["account_id"])
    assert balance["balance_minor"][0] == old["balance_minor"][0] + tx["amount_minor"]
    flagged = [i for i in insights if i.detector == "duplicate_charge"]
    assert "duplicate_charge" not in before
    assert flagged and flagged[0].subject == "NEW-1"


def _events(one: InsightInputs, last: int) -> list[tuple[InsightInputs, pl.DataFrame]]:
    """The customer's ``last`` transactions replayed as events, each with the inputs before it
    (the rows from it on taken out, the balances moved back), plus crafted ones the bank books
    rarely: a charge repeated minutes later, an overdraft fee, a very large card payment, a
    transfer that empties the checking account."""
    tx = one.transactions.sort("booked_at", "id")
    events = []
    for n in range(min(last, tx.height - 1), 0, -1):
        before, latest = before_latest(one, n)
        events.append((before, latest.head(1)))
    base = replace(one, transactions=tx)
    card = tx.filter((pl.col("channel") == "card") & (pl.col("status") == "posted")
                     & (pl.col("amount_minor") < 0) & pl.col("series_id").is_null()).tail(1)
    crafted = [
        card.with_columns(pl.col("id") + "-again", pl.col("booked_at") + timedelta(minutes=2)),
        card.with_columns(pl.col("id") + "-fee", pl.lit(-3_500, pl.Int64).alias("amount_minor"),
                          pl.lit("BANK_FEES").alias("category"), pl.lit("other").alias("channel"),
                          pl.lit("BANK_FEES_OVERDRAFT_FEES").alias("category_detailed"),
                          pl.lit("checking").alias("account_type")),
        card.with_columns(pl.col("id") + "-big", pl.lit(-950_000, pl.Int64)
                          .alias("amount_minor")),
    ]
    checking = base.checking.sort("balance_minor").tail(1)
    if checking.height:
        account, balance = checking.item(0, "account_id"), checking.item(0, "balance_minor")
        crafted.append(tx.tail(1).with_columns(
            pl.col("id") + "-rent", pl.lit(account).alias("account_id"),
            pl.lit("checking").alias("account_type"), pl.lit("transfer").alias("channel"),
            pl.lit("posted").alias("status"), pl.lit(-balance - 10_000, pl.Int64)
            .alias("amount_minor"), pl.lit("TRANSFER_OUT").alias("category"),
            pl.lit("TRANSFER_OUT_ACCOUNT_TRANSFER").alias("category_detailed")))
    return events + [(base, c) for c in crafted if c.height]


def test_an_event_that_triggers_a_detector_not_can_make_nothing_new_for_it(
    inputs: InsightInputs,
) -> None:
    """``triggered_by`` is a necessary condition: replaying real and crafted events, whenever a
    detector says an event cannot concern it, it finds nothing after the event that it did not
    find before. Every registered real-time detector with a trigger is held to it."""
    realtime = RealtimeInsights()
    triggered = [d for d in realtime.catalog.detectors if isinstance(d, Triggered)]
    assert {d.spec.id for d in triggered} >= {"low_balance", "duplicate_charge", "fees_paid",
                                              "large_transaction", "foreign_fees"}
    busy = inputs.transactions.group_by("customer_id").len().sort("len", "customer_id")
    customers = busy.get_column("customer_id").to_list()[-6:]
    skipped = fired = 0
    for customer in customers:
        for before, new in _events(inputs.subset([customer]), last=25):
            after = with_enriched(before, new)
            rows = new.rows(named=True)
            for detector in triggered:
                if detector.triggered_by(rows, before):
                    fired += 1
                    continue
                skipped += 1
                old = set(detector.detect(before).get_column("subject").to_list())
                now = set(detector.detect(after).get_column("subject").to_list())
                assert now <= old, (detector.spec.id, rows, now - old)
    assert skipped > 300 and fired > 30


def test_only_the_detectors_an_event_can_make_true_run(inputs: InsightInputs) -> None:
    realtime = RealtimeInsights()
    one = inputs.subset([inputs.customers.item(0, "customer_id")])
    row = one.transactions.sort("booked_at").tail(1)
    salary = row.with_columns(pl.lit(250_000, pl.Int64).alias("amount_minor"),
                              pl.lit("INCOME").alias("category"),
                              pl.lit("INCOME_WAGES").alias("category_detailed"),
                              pl.lit("transfer").alias("channel"))
    assert realtime.triggered(one, salary).detectors == []
    updated, insights = realtime.on_enriched(one, salary)
    assert insights == [] and updated.transactions.height == one.transactions.height + 1
    # with a promoted shortfall model the warning is its probability's, which money arriving
    # moves (a later next income, a longer horizon); a declined payment moves nothing
    modelled = replace(one, shortfall_risk=cast(ShortfallRisk, object()))
    assert [d.spec.id for d in realtime.triggered(modelled, salary).detectors] == ["shortfall"]
    declined = salary.with_columns(pl.lit("declined").alias("status"))
    assert realtime.triggered(modelled, declined).detectors == []
    fee = row.with_columns(pl.lit(-3_500, pl.Int64).alias("amount_minor"),
                           pl.lit("BANK_FEES").alias("category"),
                           pl.lit("BANK_FEES_OVERDRAFT_FEES").alias("category_detailed"),
                           pl.lit("checking").alias("account_type"), pl.lit("posted")
                           .alias("status"), pl.lit("other").alias("channel"))
    assert {d.spec.id for d in realtime.triggered(one, fee).detectors} == {"fees_paid",
                                                                          "low_balance"}
    _, insights = realtime.on_enriched(one, fee)
    assert "fees_paid" in {i.detector for i in insights}
