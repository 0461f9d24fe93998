"""Insights in real time: one customer, on a new transaction, in process.

The batch run and this path share everything -- the same detectors over the same frames, a
shard of one customer instead of a thousand -- so a message produced in real time is exactly
the message the nightly run would have produced. What is specific here is keeping a customer's
inputs in memory between events and folding a new transaction into them: categorized by the
understanding layer's real-time path, booked on the customer's local day, reflected in the
account balance unless it was declined.

An event runs only the real-time detectors it can make true (``Triggered``: a card charge can
be a duplicate or a low balance, not a fee), and the customer's aggregates that the event does
not change are carried over, not recomputed: a typical card payment costs a few frame steps.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import polars as pl

from tactful.enrich.pipeline import EnrichContext, categorized
from tactful.insights.catalog import Catalog, Insight
from tactful.insights.inputs import (
    TRANSACTIONS,
    InsightInputs,
    frame_rows,
    merchant_key,
    moved_back,
)
from tactful.insights.spec import DetectorSpec, Triggered

_UNCHANGED_BY_EVENTS = ("monthly_income", "monthly_income_by")
"""Shared aggregates a new transaction cannot change (they read the income streams, which the
nightly run detects), carried from the inputs before an event to the inputs after it."""

_CHUNKS = 64
"""Each event appends its rows as a chunk of their own; past this many the customer's
transactions are made contiguous again (a frame of many chunks slows every later read)."""

NEW_TRANSACTION = {
    "id": pl.String(), "account_id": pl.String(), "booked_at": pl.Datetime("us", "UTC"),
    "amount_minor": pl.Int64(), "currency": pl.String(), "description": pl.String(),
    "counterparty": pl.String(), "mcc": pl.String(), "channel": pl.String(),
    "status": pl.String(),
}
"""A transaction as the bank's feed delivers it, before enrichment."""


def enrich_new(inputs: InsightInputs, tx: pl.DataFrame, ctx: EnrichContext) -> pl.DataFrame:
    """The new transaction(s) ``tx`` (``NEW_TRANSACTION`` columns) as the detectors read them
    (``TRANSACTIONS``): categorized, booked on the customer's local day."""
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
    return enriched.select(list(TRANSACTIONS)).cast(dict(TRANSACTIONS))  # type: ignore[arg-type]


def with_enriched(inputs: InsightInputs, new: pl.DataFrame) -> InsightInputs:
    """``inputs`` with the enriched new rows ``new`` (``TRANSACTIONS`` columns) folded in: the
    rows appended, the balances moved, the day advanced to the latest local booking day."""
    moved: dict[str, int] = {}
    for account, amount, status in frame_rows(new, ("account_id", "amount_minor", "status")):
        if status != "declined":  # what ``in_balance`` keeps
            moved[account] = moved.get(account, 0) + amount
    balances = inputs.accounts
    if moved:  # an event moves one or two accounts: the column rebuilt from Python values
        balances = balances.clone()  # shares the columns; the one replaced is the copy's
        balances.replace_column(balances.get_column_index("balance_minor"), pl.Series(
            "balance_minor",
            [None if balance is None else balance + moved.get(account, 0)
             for account, balance in frame_rows(balances, ("account_id", "balance_minor"))],
            dtype=pl.Int64))
    as_of = max([inputs.as_of, *new.get_column("booked_on").to_list()])
    transactions = inputs.transactions.vstack(new)  # eager, a tenth of ``concat``'s cost
    if transactions.n_chunks() > _CHUNKS:
        transactions = transactions.rechunk()
    updated = replace(inputs, as_of=as_of, accounts=balances, transactions=transactions)
    for name in _UNCHANGED_BY_EVENTS:
        if name in inputs.__dict__:  # computed before: a cached_property's value
            updated.__dict__[name] = inputs.__dict__[name]
    lists = inputs.__dict__.get("transaction_lists")
    if lists is not None:  # the rows converted before the event, with the event's appended
        updated.__dict__["transaction_lists"] = lists.extended(new, updated.transactions)
    return updated


def before_latest(inputs: InsightInputs, n: int) -> tuple[InsightInputs, pl.DataFrame]:
    """The inputs as they were before the customer's ``n`` latest transactions, and those rows
    (oldest first): folding them back in with ``with_enriched`` replays them as the events they
    were (the replay test, the benchmark)."""
    tx = inputs.transactions.sort("booked_at", "id")
    latest = tx.tail(n)
    before = replace(inputs, transactions=tx.head(tx.height - latest.height),
                     accounts=moved_back(inputs.accounts, latest))
    return before, latest


def runs_on_events(spec: DetectorSpec, inputs: InsightInputs) -> bool:
    """Whether a detector of the real-time catalog runs on this customer's events: always for
    ``realtime``, and for ``realtime_with`` only while the inputs carry its model."""
    if spec.realtime:
        return True
    return spec.realtime_with is not None and getattr(inputs, spec.realtime_with) is not None


class RealtimeInsights:
    """Keeps one catalog and answers "anything to say to this customer now?" per event.

    Only the detectors a single transaction can make true run on an event (``spec.realtime``:
    a duplicate, a large payment, a low balance, fees, a budget step) and, where the bank has
    promoted their models (``spec.realtime_with``), the two money-critical warnings -- a
    shortfall before the next income and a late income -- whose probability moves with the
    payment that just happened; a spike, a raise or a rule forecast moves with the day and the
    nightly batch has them.
    """

    def __init__(self, catalog: Catalog | None = None, ctx: EnrichContext | None = None) -> None:
        full = catalog or Catalog.default()
        self.catalog = replace(full, detectors=[
            d for d in full.detectors if d.spec.realtime or d.spec.realtime_with])
        self.ctx = ctx or EnrichContext()

    def triggered(self, inputs: InsightInputs, new: pl.DataFrame) -> Catalog:
        """The part of the real-time catalog the enriched rows ``new`` can make true."""
        rows = new.rows(named=True)
        chosen = [d for d in self.catalog.detectors
                  if runs_on_events(d.spec, inputs)
                  and (not isinstance(d, Triggered) or d.triggered_by(rows, inputs))]
        return replace(self.catalog, detectors=chosen)

    def evaluate(self, inputs: InsightInputs, *, existing: pl.DataFrame | None = None,
                 at: datetime | None = None) -> list[Insight]:
        catalog = replace(self.catalog, detectors=[
            d for d in self.catalog.detectors if runs_on_events(d.spec, inputs)])
        return catalog.insights(inputs, at=at or datetime.now(UTC), existing=existing)

    def on_enriched(
        self,
        inputs: InsightInputs,
        new: pl.DataFrame,
        *,
        existing: pl.DataFrame | None = None,
        at: datetime | None = None,
    ) -> tuple[InsightInputs, list[Insight]]:
        """The customer's updated inputs and the insights the already enriched new rows ``new``
        (``TRANSACTIONS`` columns) make true."""
        catalog = self.triggered(inputs, new)
        updated = with_enriched(inputs, new)
        if not catalog.detectors:
            return updated, []
        return updated, catalog.insights(updated, at=at or datetime.now(UTC), existing=existing)

    def on_transaction(
        self,
        inputs: InsightInputs,
        tx: pl.DataFrame,
        *,
        existing: pl.DataFrame | None = None,
        at: datetime | None = None,
    ) -> tuple[InsightInputs, list[Insight]]:
        """The customer's updated inputs and the insights the new transaction makes true."""
        return self.on_enriched(inputs, enrich_new(inputs, tx, self.ctx), existing=existing,
                                at=at)
