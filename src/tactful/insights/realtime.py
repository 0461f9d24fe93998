"""Insights in real time: one customer, on a new transaction, in process.

The batch run and this path share everything -- the same detectors over the same frames, a
shard of one customer instead of a thousand -- so a message produced in real time is exactly
the message the nightly run would have produced. What is specific here is keeping a customer's
inputs in memory between events and folding a new transaction into them: categorized by the
understanding layer's real-time path, booked on the customer's local day, reflected in the
account balance unless it was declined.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import polars as pl

from tactful.enrich.pipeline import EnrichContext, categorized
from tactful.insights.catalog import Catalog, Insight
from tactful.insights.inputs import TRANSACTIONS, InsightInputs, in_balance, merchant_key

NEW_TRANSACTION = {
    "id": pl.String(), "account_id": pl.String(), "booked_at": pl.Datetime("us", "UTC"),
    "amount_minor": pl.Int64(), "currency": pl.String(), "description": pl.String(),
    "counterparty": pl.String(), "mcc": pl.String(), "channel": pl.String(),
    "status": pl.String(),
}
"""A transaction as the bank's feed delivers it, before enrichment."""


def with_transaction(
    inputs: InsightInputs, tx: pl.DataFrame, ctx: EnrichContext
) -> InsightInputs:
    """``inputs`` with the new transaction(s) ``tx`` (``NEW_TRANSACTION`` columns) folded in."""
    accounts = inputs.accounts.select("account_id", "customer_id", pl.col("type")
                                      .alias("account_type"))
    tz = dict(inputs.customers.select("customer_id", "timezone").iter_rows())
    rows = tx.join(accounts, on="account_id", how="inner")
    if rows.height != tx.height:
        unknown = set(tx.get_column("account_id")) - set(accounts.get_column("account_id"))
        raise ValueError(f"transaction for unknown account(s): {', '.join(sorted(unknown))}")
    local = [
        at.astimezone(ZoneInfo(tz.get(c) or "UTC")).date()
        for at, c in rows.select("booked_at", "customer_id").iter_rows()
    ]
    raw = rows.with_columns(pl.Series("booked_on", local, dtype=pl.Date))
    enriched = categorized(raw, ctx).with_columns(
        pl.lit(None, pl.String).alias("series_id"), merchant_key().alias("merchant_key"))
    new = enriched.select(list(TRANSACTIONS)).cast(dict(TRANSACTIONS))  # type: ignore[arg-type]
    posted = new.filter(in_balance()).group_by("account_id").agg(
        pl.col("amount_minor").sum().alias("_delta"))
    balances = inputs.accounts.join(posted, on="account_id", how="left").with_columns(
        (pl.col("balance_minor") + pl.col("_delta").fill_null(0)).alias("balance_minor")
    ).drop("_delta")
    as_of = max([inputs.as_of, *local])
    return replace(inputs, as_of=as_of, accounts=balances,
                   transactions=pl.concat([inputs.transactions, new]))


class RealtimeInsights:
    """Keeps one catalog and answers "anything to say to this customer now?" per event.

    Only the detectors a single transaction can make true run on an event (``spec.realtime``:
    a duplicate, a large payment, a low balance, fees, a budget step); a spike, a forecast or a
    raise moves with the day, and the nightly batch has them.
    """

    def __init__(self, catalog: Catalog | None = None, ctx: EnrichContext | None = None) -> None:
        full = catalog or Catalog.default()
        self.catalog = replace(full, detectors=[d for d in full.detectors if d.spec.realtime])
        self.ctx = ctx or EnrichContext()

    def evaluate(self, inputs: InsightInputs, *, existing: pl.DataFrame | None = None,
                 at: datetime | None = None) -> list[Insight]:
        return self.catalog.insights(inputs, at=at or datetime.now(UTC), existing=existing)

    def on_transaction(
        self,
        inputs: InsightInputs,
        tx: pl.DataFrame,
        *,
        existing: pl.DataFrame | None = None,
        at: datetime | None = None,
    ) -> tuple[InsightInputs, list[Insight]]:
        """The customer's updated inputs and the insights the new transaction makes true."""
        updated = with_transaction(inputs, tx, self.ctx)
        return updated, self.evaluate(updated, existing=existing, at=at)
