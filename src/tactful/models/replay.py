"""The bank's own history replayed day by day, as the engine saw it on each day: transactions
cut to the day, balances walked back to it, recurring series and income detected again on the
cut (they must not see the future). The risk models' training rows are built on it, by the
bank (``tactful models train --family shortfall``) and by the evaluation alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl
from sqlalchemy import select

from tactful.batch.shards import shards_of
from tactful.domain.enums import ConsentPurpose
from tactful.enrich import repository as enrich_repo
from tactful.enrich.frames import TRANSACTIONS as ENRICH_TRANSACTIONS
from tactful.enrich.income import detect_income
from tactful.enrich.pipeline import categorized
from tactful.enrich.recurring import detect_series
from tactful.errors import ValidationError
from tactful.insights import repository as insight_repo
from tactful.insights.inputs import (
    TRANSACTIONS,
    InsightInputs,
    as_of_day,
    in_balance,
    merchant_key,
)
from tactful.insights.shortfall_risk import INCOME, daily_eod
from tactful.store import schema
from tactful.store.store import Store


def every(first: date, last: date, step: int) -> list[date]:
    """Every ``step`` days from ``first`` to ``last``, counted back from ``last`` (so the latest
    day, the one nearest what the model will be asked about, is always in).

    >>> every(date(2025, 1, 1), date(2025, 1, 8), 3)
    [datetime.date(2025, 1, 2), datetime.date(2025, 1, 5), datetime.date(2025, 1, 8)]
    """
    n = (last - first).days // step
    return sorted(last - timedelta(days=step * i) for i in range(n + 1))


def customer_ids(store: Store) -> list[str]:
    c = schema.customers
    return [str(r[0]) for r in store.rows(select(c.c.id).order_by(c.c.id))]


def whole_bank(store: Store, last: date, *, everyone: bool = False) -> tuple[
    InsightInputs, pl.DataFrame
]:
    """The whole bank as of its last day -- customers and accounts as ``load_inputs`` gives them
    (balances at the end of the data), every transaction with the store's enrichment
    (``load_inputs`` reads only a look-back window; a replayed day needs the whole history) --
    and the enrichment frame (the normalizer's ``merchant_key``) the series detector groups on.
    ``everyone``: every customer at personalization level advanced, with every purpose granted
    (the evaluation scores every detector on everyone); otherwise the store's own."""
    ids = customer_ids(store)
    parts = [insight_repo.load_inputs(store, s, as_of=last) for s in shards_of(ids, size=1_000)]
    frame = pl.concat([enrich_repo.load_shard(store, s) for s in shards_of(ids, size=2_000)])
    stored = frame.with_columns(
        pl.col("old_merchant").alias("merchant"),
        pl.col("old_category").alias("category"),
        pl.col("old_category_detailed").alias("category_detailed"),
        pl.lit(None, pl.String).alias("series_id"),
    ).with_columns(merchant_key().alias("merchant_key")).select(list(TRANSACTIONS))
    customers = pl.concat([p.customers for p in parts])
    if everyone:
        customers = customers.with_columns(pl.lit("advanced").alias("personalization_level"))
    base = InsightInputs(
        as_of=last,
        customers=customers,
        accounts=pl.concat([p.accounts for p in parts]),
        transactions=stored,
        logins=pl.concat([p.logins for p in parts]),
        consents=(every_purpose(customers) if everyone
                  else pl.concat([p.consents for p in parts])),
    )
    ctx = enrich_repo.latest_context(store)
    cats = categorized(frame.select(list(ENRICH_TRANSACTIONS)), ctx)
    return base, cats


def every_purpose(customers: pl.DataFrame) -> pl.DataFrame:
    """Every consent purpose granted to every one of ``customers``."""
    purposes = pl.DataFrame({"purpose": [p.value for p in ConsentPurpose]})
    return customers.select("customer_id").join(purposes, how="cross")


@dataclass(frozen=True)
class Replay:
    """The whole bank at its last day, ready to be cut to any earlier one."""

    base: InsightInputs
    cats: pl.DataFrame
    consents: pl.DataFrame
    last: date

    @classmethod
    def of(cls, store: Store, *, everyone: bool = False) -> Replay:
        """The store's bank (``whole_bank``'s ``everyone``: the evaluation's choice)."""
        last = insight_repo.latest_booking_day(store)
        if last is None:
            raise ValidationError("the bank has no bookings to replay")
        base, cats = whole_bank(store, last, everyone=everyone)
        return cls(base, cats, base.consents, last)

    @property
    def first(self) -> date:
        """The first day the bank's data holds."""
        first = self.base.transactions.get_column("booked_on").min()
        if not isinstance(first, date):
            raise ValidationError("the bank has no bookings to replay")
        return first

    def on(self, d: date) -> InsightInputs:
        """The inputs the engine had at the end of ``d``."""
        return self.detected(d)[0]

    def detected(self, d: date) -> tuple[InsightInputs, pl.DataFrame]:
        """``on(d)`` and the income streams' members that day (``transaction_id``,
        ``stream_id``), which the evaluation maps to the truth's series."""
        cut = self.cats.filter(pl.col("booked_on") <= d)
        series = detect_series(cut, as_of=d)
        income = detect_income(cut, series, as_of=d)
        members = series.members.select(pl.col("transaction_id").alias("id"),
                                        "series_id").unique(subset="id", keep="first")
        accounts, tx = as_of_day(self.base.accounts, self.base.transactions.drop("series_id"), d)
        tx = tx.join(members, on="id", how="left").select(list(TRANSACTIONS))
        return InsightInputs(
            as_of=d, customers=self.base.customers, accounts=accounts, transactions=tx,
            series=series.series, series_changes=series.changes.join(
                series.series.select("series_id", "customer_id"), on="series_id"
            ).select("series_id", "customer_id", "effective_date", "old_amount_minor",
                     "new_amount_minor"),
            income=income.streams, income_changes=income.changes, consents=self.consents,
            logins=self.base.logins.filter(pl.col("day") <= d),
        ), income.members

    def credits(self) -> pl.DataFrame:
        """Every posted credit the store holds (what later arrived, for the late-income
        labels)."""
        return self.base.transactions.filter((pl.col("status") == "posted")
                                             & (pl.col("amount_minor") > 0))

    def outcomes(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """What later happened, from the store alone: every checking account's end-of-day
        balance on every day, and the days income was booked to it."""
        tx = self.base.transactions
        checking = self.base.accounts.filter(pl.col("type") == "checking")
        eod = daily_eod(checking, tx.filter(in_balance()), self.first, self.last)
        income = tx.filter((pl.col("status") == "posted") & (pl.col("category") == INCOME)
                           & (pl.col("amount_minor") > 0)
                           & (pl.col("account_type") == "checking")).select(
            "account_id", pl.col("booked_on").alias("day")).unique()
        return eod, income
