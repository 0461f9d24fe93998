"""The bank's own history replayed day by day, as the engine saw it on each day: transactions
cut to the day, balances walked back to it, recurring series and income detected again on the
cut (they must not see the future). Shared by the shortfall model's training and its
evaluation; the insight evaluation builds its days the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from tactful.enrich.income import detect_income
from tactful.enrich.recurring import detect_series
from tactful.evaluation.bank import EvalBank
from tactful.evaluation.insights import _consents, _load
from tactful.insights import repository as insight_repo
from tactful.insights.inputs import TRANSACTIONS, InsightInputs, as_of_day, in_balance
from tactful.insights.shortfall_risk import INCOME, daily_eod


@dataclass(frozen=True)
class Replay:
    """The whole bank at its last day, ready to be cut to any earlier one."""

    base: InsightInputs
    cats: pl.DataFrame
    consents: pl.DataFrame
    last: date

    @classmethod
    def of(cls, bank: EvalBank) -> Replay:
        last = insight_repo.latest_booking_day(bank.store)
        if last is None:
            raise ValueError("the bank has no bookings")
        base, cats = _load(bank, last)
        return cls(base, cats, _consents(base.customers), last)

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
        first = tx.get_column("booked_on").min()
        assert isinstance(first, date)  # noqa: S101 -- a bank with bookings
        eod = daily_eod(checking, tx.filter(in_balance()), first, self.last)
        income = tx.filter((pl.col("status") == "posted") & (pl.col("category") == INCOME)
                           & (pl.col("amount_minor") > 0)
                           & (pl.col("account_type") == "checking")).select(
            "account_id", pl.col("booked_on").alias("day")).unique()
        return eod, income
