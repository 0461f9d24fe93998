"""Real time and batch are one code path: a customer alone gets exactly the findings the batch
gave them, and a new transaction folded in produces what it makes true."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from tactful.insights.catalog import Catalog
from tactful.insights.inputs import InsightInputs
from tactful.insights.realtime import NEW_TRANSACTION, RealtimeInsights


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
