"""The simulator's truth for the insight evaluation, and how each detector's findings are scored
against it: a detector's finding is correct, and a true case is found, by the rules written in
``DEFINITIONS`` (which ``docs/evaluation.md`` prints beside the table)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import select

from tactful.enrich.taxonomy import SENSITIVE
from tactful.evaluation.bank import EvalBank
from tactful.insights.detectors.spending import DISCRETIONARY
from tactful.insights.inputs import SPENDING_EXCLUDED, InsightSettings
from tactful.store import schema

DUPLICATES = 300
BILL_TRUTH_KINDS = ("bill", "subscription", "rent", "mortgage", "loan_payment", "childcare")
FEES = ("BANK_FEES_OVERDRAFT_FEES", "BANK_FEES_INSUFFICIENT_FUNDS", "BANK_FEES_INTEREST_CHARGE")
FOREIGN = "BANK_FEES_FOREIGN_TRANSACTION_FEES"


# -- truth ------------------------------------------------------------------------------------


class Truth:
    """The simulator's truth, with transaction ids as the store keeps them."""

    def __init__(self, bank: EvalBank, cats: pl.DataFrame) -> None:
        t = schema.transactions
        source = bank.store.frame(select(t.c.id, t.c.external_id))
        folder = bank.truth

        def mapped(frame: pl.DataFrame) -> pl.DataFrame:
            return frame.join(source, left_on="transaction_id", right_on="external_id").drop(
                "transaction_id").rename({"id": "transaction_id"})

        day = pl.col("date").str.to_date()
        self.series = pl.read_parquet(folder / "recurring_series.parquet").with_columns(
            pl.col("start_date").str.to_date(), pl.col("end_date").str.to_date())
        self.members = mapped(pl.read_parquet(folder / "series_members.parquet")).with_columns(
            day.alias("date"))
        self.price_changes = pl.read_parquet(folder / "price_changes.parquet").with_columns(
            pl.col("effective_date").str.to_date())
        self.income_changes = pl.read_parquet(folder / "income_changes.parquet").with_columns(
            pl.col("effective_date").str.to_date())
        self.fraud = mapped(pl.read_parquet(folder / "fraud.parquet"))
        self.accounts = pl.read_parquet(folder / "accounts.parquet")
        self.customers = pl.read_parquet(folder / "customers.parquet")
        truth = mapped(pl.read_parquet(folder / "transaction_truth.parquet"))
        # every exported row, with its local day and its true category, series and fraud flag
        self.tx = cats.select(
            pl.col("id").alias("transaction_id"), "customer_id", "account_id", "account_type",
            "booked_on", "amount_minor", "currency", "channel", "status",
        ).join(truth.select("transaction_id", "category_primary", "category_detailed",
                            pl.col("series_id").alias("truth_series"), "fraud"),
               on="transaction_id", how="left")
        self.income_ids = pl.read_parquet(folder / "income_streams.parquet")["series_id"]
        self.closed = pl.read_parquet(bank.exports / "accounts.parquet").select(
            "account_id", pl.col("closed_on").str.to_date())
        self.eod = self._eod()

    def daily_users(self, accounts: pl.DataFrame) -> pl.DataFrame:
        """Customers the simulator made daily app users, with a checking account."""
        daily = self.customers.filter(
            pl.col("login_habit").is_in(["daily_morning", "daily_evening"])).select("customer_id")
        checking = accounts.filter(pl.col("type") == "checking").select("customer_id").unique()
        return daily.join(checking, on="customer_id", how="semi")

    def eod_open(self, d: date) -> pl.DataFrame:
        """``eod`` of the checking accounts still open at the end of ``d``."""
        gone = self.closed.filter(pl.col("closed_on") <= d).select("account_id")
        return self.eod.join(gone, on="account_id", how="anti")

    def _eod(self) -> pl.DataFrame:
        """The true end-of-day balance of every checking account on every day of the window."""
        checking = self.accounts.filter(pl.col("account_type") == "checking").select(
            "account_id", "customer_id", "opening_balance_minor")
        flows = (
            self.tx.filter(pl.col("status") == "posted")
            .group_by("account_id", pl.col("booked_on").alias("day"))
            .agg(pl.col("amount_minor").sum().alias("net"))
        )
        lo, hi = self.tx["booked_on"].min(), self.tx["booked_on"].max()
        assert isinstance(lo, date) and isinstance(hi, date)  # noqa: S101 -- narrows a type; holds by construction
        days = pl.DataFrame({"day": pl.date_range(lo, hi, "1d", eager=True)})
        return (
            checking.join(days, how="cross")
            .join(flows, on=["account_id", "day"], how="left")
            .sort("account_id", "day")
            .with_columns(
                (pl.col("opening_balance_minor")
                 + pl.col("net").fill_null(0).cum_sum().over("account_id")).alias("eod")
            )
            .select("account_id", "customer_id", "day", "eod")
        )


def majority(members: pl.DataFrame, key: str, truth_members: pl.DataFrame) -> pl.DataFrame:
    """engine ``key`` -> ``tsid``: the truth series holding most of its bookings."""
    if members.height == 0:
        return pl.DataFrame(schema={key: pl.String, "tsid": pl.String})
    return (
        members.join(truth_members.select("transaction_id", pl.col("series_id").alias("tsid")),
                     on="transaction_id")
        .group_by(key, "tsid").len()
        .sort([key, "len", "tsid"], descending=[False, True, False])
        .unique(key, keep="first")
        .select(key, "tsid")
    )


# -- scoring helpers --------------------------------------------------------------------------


class Tally:
    """Precision and recall counts of one detector, summed over the as-of days."""

    def __init__(self) -> None:
        self.findings = 0
        self.correct = 0
        self.truth = 0
        self.found = 0
        self.extra: dict[str, list[float]] = {}

    def add(self, findings: int, correct: int, truth: int, found: int) -> None:
        self.findings += findings
        self.correct += correct
        self.truth += truth
        self.found += found

    @property
    def precision(self) -> float | None:
        return self.correct / self.findings if self.findings else None

    @property
    def recall(self) -> float | None:
        return self.found / self.truth if self.truth else None


def facts_of(found: pl.DataFrame, detector: str, **fields: Any) -> pl.DataFrame:
    rows = found.filter(pl.col("detector") == detector)
    if not fields:
        return rows
    dtype = pl.Struct(dict(fields))
    return rows.with_columns(pl.col("facts").str.json_decode(dtype).alias("_f")).unnest("_f")


def on_truth_series(found: pl.DataFrame, detector: str, mapping: pl.DataFrame,
                    **fields: Any) -> pl.DataFrame:
    """``detector``'s findings with their facts ``fields`` and, as ``tsid``, the truth series its
    subject maps to (``mapping``: the engine's key column, then ``tsid``, from ``majority``)."""
    return facts_of(found, detector, **fields).join(
        mapping, left_on="subject", right_on=mapping.columns[0], how="left")


def found_of(due: pl.DataFrame, f: pl.DataFrame) -> int:
    """How many true cases ``due`` (series_id, customer_id) a finding mapped to that truth
    series (``tsid``) of that customer found."""
    return due.join(f.select("customer_id", pl.col("tsid").alias("series_id")),
                    on=["customer_id", "series_id"], how="semi").height


def days_of(expr: pl.Expr) -> pl.Expr:
    return expr.dt.total_days()


# -- the detectors ---------------------------------------------------------------------------


def score_upcoming(t: Tally, found: pl.DataFrame, d: date, smap: pl.DataFrame,
                    truth: Truth) -> None:
    f = on_truth_series(found, "upcoming_bill", smap, due_date=pl.Date)
    bills = truth.series.filter(pl.col("kind").is_in(BILL_TRUTH_KINDS)).select(
        pl.col("series_id").alias("tsid"))
    pay = truth.members.select(pl.col("series_id").alias("tsid"), "date")
    ok = (
        f.join(bills, on="tsid", how="semi").join(pay, on="tsid")
        .filter(days_of(pl.col("date") - pl.col("due_date")).abs() <= 1)
        .select("subject").unique()
    )
    before = truth.members.filter(pl.col("date") <= d).group_by("series_id").len()
    due = (
        truth.members.filter(pl.col("date").is_between(d + timedelta(days=1),
                                                       d + timedelta(days=3)))
        .join(truth.series.filter(pl.col("kind").is_in(BILL_TRUTH_KINDS))
              .select("series_id", "customer_id"), on="series_id")
        .join(before.filter(pl.col("len") >= 2), on="series_id", how="semi")
        .select("series_id", "customer_id").unique()
    )
    hit = found_of(due, f)
    t.add(f.height, ok.height, due.height, hit)


def score_price(t: Tally, found: pl.DataFrame, d: date, smap: pl.DataFrame,
                 truth: Truth) -> None:
    f = on_truth_series(found, "price_increase", smap, effective_date=pl.Date)
    rises = truth.price_changes.filter(
        pl.col("new_amount_minor").abs() > pl.col("old_amount_minor").abs()
    ).select(pl.col("series_id").alias("tsid"), pl.col("effective_date").alias("true_date"))
    ok = (
        f.join(rises, on="tsid")
        .filter(days_of(pl.col("true_date") - pl.col("effective_date")).abs() <= 35)
        .select("subject").unique()
    )
    first_new = (
        truth.price_changes.filter(pl.col("reason") == "price_rise")
        .join(truth.series.filter(pl.col("kind").is_in(["subscription", "bill"]))
              .select("series_id", "customer_id"), on="series_id")
        .join(truth.members.select("series_id", "date"), on="series_id")
        .filter(pl.col("date") >= pl.col("effective_date"))
        .group_by("series_id", "customer_id", "effective_date").agg(pl.col("date").min())
    )
    due = first_new.filter(pl.col("date").is_between(d - timedelta(days=29), d)).select(
        "series_id", "customer_id").unique()
    hit = found_of(due, f)
    t.add(f.height, ok.height, due.height, hit)


def fee_customers(truth: Truth, d: date, codes: tuple[str, ...], checking: bool) -> pl.DataFrame:
    fees = truth.tx.filter(
        pl.col("category_detailed").is_in(codes) & (pl.col("status") == "posted")
        & (pl.col("amount_minor") < 0)
        & pl.col("booked_on").is_between(d - timedelta(days=29), d)
    )
    if checking:
        fees = fees.filter(pl.col("account_type") == "checking")
    return (
        fees.group_by("customer_id").agg(pl.col("booked_on").max().alias("last"))
        .filter(pl.col("last") > d - timedelta(days=7)).select("customer_id")
    )


def score_customers(t: Tally, findings: pl.DataFrame, truth_customers: pl.DataFrame) -> None:
    flagged = findings.select("customer_id").unique()
    ok = flagged.join(truth_customers, on="customer_id", how="semi").height
    found = truth_customers.join(flagged, on="customer_id", how="semi").height
    t.add(flagged.height, ok, truth_customers.height, found)


def score_shortfall(t: Tally, found: pl.DataFrame, d: date, truth: Truth) -> None:
    f = facts_of(found, "shortfall", shortfall_date=pl.Date)
    income = (
        truth.members.filter(pl.col("series_id").is_in(truth.income_ids.implode())
                             & (pl.col("date") > d) & (pl.col("amount_minor") > 0))
        .join(truth.series.select("series_id", "customer_id"), on="series_id")
        .group_by("customer_id").agg(pl.col("date").min().alias("next_income"))
    )
    eod = truth.eod_open(d)
    today = eod.filter(pl.col("day") == d).filter(pl.col("eod") >= 0).select("account_id")
    ahead = (
        eod.filter(pl.col("day").is_between(d + timedelta(days=1), d + timedelta(days=14)))
        .join(today, on="account_id", how="semi")
        .join(income, on="customer_id", how="left")
        .filter(pl.col("next_income").is_null() | (pl.col("day") < pl.col("next_income")))
        .filter(pl.col("eod") < 0)
        .group_by("customer_id").agg(pl.col("day").min().alias("true_date"))
    )
    score_customers(t, f, ahead.select("customer_id"))
    errors = f.join(ahead, on="customer_id").select(
        days_of(pl.col("shortfall_date") - pl.col("true_date")).abs())
    t.extra.setdefault("date_error", []).extend(errors.to_series().to_list())


def score_balances(tl: Tally, ti: Tally, found: pl.DataFrame, d: date, truth: Truth) -> None:
    monthly = truth.customers.select(
        "customer_id", (pl.col("income_net_annual_minor") / 12).alias("monthly"))
    eod = truth.eod_open(d)
    today = eod.filter(pl.col("day") == d).join(monthly, on="customer_id", how="left")
    low = today.filter(
        pl.col("eod") < pl.max_horizontal(0.10 * pl.col("monthly").fill_null(0), pl.lit(100_00)))
    score_customers(tl, found.filter(pl.col("detector") == "low_balance"),
                     low.select("customer_id").unique())
    first = truth.tx.filter(pl.col("status") == "posted").group_by("account_id").agg(
        pl.col("booked_on").min().alias("first"))
    idle = (
        eod.filter(pl.col("day").is_between(d - timedelta(days=59), d))
        .group_by("account_id", "customer_id").agg(pl.col("eod").min().alias("lowest"))
        .join(first, on="account_id").filter(pl.col("first") <= d - timedelta(days=60))
        .join(monthly, on="customer_id")
        .filter((pl.col("monthly") > 0) & (pl.col("lowest") > 1.5 * pl.col("monthly"))
                & (pl.col("lowest") >= 1000_00)
                & ((pl.col("lowest") - pl.col("monthly")) >= 100_00))
    )
    score_customers(ti, found.filter(pl.col("detector") == "idle_cash"),
                     idle.select("customer_id").unique())


def score_spike(t: Tally, found: pl.DataFrame, d: date, truth: Truth) -> None:
    tx = truth.tx.filter(
        (pl.col("status") == "posted") & (pl.col("amount_minor") < 0)
        & (pl.col("account_type") != "savings")
        & ~pl.col("category_primary").is_in(SPENDING_EXCLUDED)
        & pl.col("category_primary").is_in(DISCRETIONARY)
        & ~pl.col("category_detailed").is_in(list(SENSITIVE))
        & pl.col("truth_series").is_null()
        & pl.col("booked_on").is_between(d - timedelta(days=119), d)
    ).with_columns(
        pl.when(pl.col("category_primary") == "FOOD_AND_DRINK").then(pl.col("category_detailed"))
        .otherwise(pl.col("category_primary")).alias("category"),
        (-pl.col("amount_minor")).alias("spend"),
    )
    first = truth.tx.filter(pl.col("status") == "posted").group_by("customer_id").agg(
        pl.col("booked_on").min().alias("first"))
    recent = pl.col("booked_on") > d - timedelta(days=30)
    spikes = (
        tx.group_by("customer_id", "category").agg(
            pl.col("spend").filter(recent).sum().alias("cur"),
            (pl.col("spend").filter(~recent).sum() / 3).alias("base"))
        .join(first, on="customer_id").filter(pl.col("first") <= d - timedelta(days=112))
        .filter((pl.col("base") >= 30_00) & (pl.col("cur") > 1.3 * pl.col("base"))
                & (pl.col("cur") - pl.col("base") >= 50_00))
        .select("customer_id", "category")
    )
    f = found.filter(pl.col("detector") == "spending_spike").select(
        "customer_id", pl.col("subject").alias("category"))
    ok = f.join(spikes, on=["customer_id", "category"], how="semi").height
    hit = spikes.join(f, on=["customer_id", "category"], how="semi").height
    t.add(f.height, ok, spikes.height, hit)


def score_bill_unusual(t: Tally, found: pl.DataFrame, d: date, smap: pl.DataFrame,
                        truth: Truth) -> None:
    varying = truth.series.filter(pl.col("amount_varies")
                                  & pl.col("kind").is_in(BILL_TRUTH_KINDS)).select("series_id")
    pays = (
        truth.members.join(varying, on="series_id", how="semi").sort("series_id", "date")
        .with_columns(
            pl.col("amount_minor").abs().alias("amt"),
            pl.col("amount_minor").abs().shift(1).rolling_median(window_size=12, min_samples=4)
            .over("series_id").alias("usual"),
        )
    )
    unusual = pays.filter((pl.col("amt") >= 1.5 * pl.col("usual"))
                          & (pl.col("amt") - pl.col("usual") >= 15_00))
    f = on_truth_series(found, "bill_unusual", smap, date=pl.Date)
    ok = f.join(unusual.select(pl.col("series_id").alias("tsid"), pl.col("date").alias("td")),
                on="tsid").filter(days_of(pl.col("td") - pl.col("date")).abs() <= 1)
    due = unusual.filter(pl.col("date").is_between(d - timedelta(days=6), d)).join(
        truth.series.select("series_id", "customer_id"), on="series_id").select(
        "series_id", "customer_id").unique()
    hit = found_of(due, f)
    t.add(f.height, ok.select("subject").n_unique(), due.height, hit)


def score_new(t: Tally, found: pl.DataFrame, d: date, smap: pl.DataFrame,
               truth: Truth) -> None:
    lo = d - timedelta(days=InsightSettings().new_recurring_window_days - 1)
    new = truth.series.filter(pl.col("kind").is_in(["subscription", "bill"])
                              & pl.col("start_date").is_between(lo, d))
    f = on_truth_series(found, "new_recurring", smap)
    ok = f.join(new.select(pl.col("series_id").alias("tsid")), on="tsid", how="semi").height
    paid = truth.members.filter(pl.col("date") <= d).group_by("series_id").len()
    due = new.join(paid.filter(pl.col("len") >= 3), on="series_id", how="semi").select(
        "series_id", "customer_id")
    hit = found_of(due, f)
    t.add(f.height, ok, due.height, hit)


def score_raise(t: Tally, found: pl.DataFrame, d: date, imap: pl.DataFrame,
                 truth: Truth) -> None:
    f = on_truth_series(found, "salary_raise", imap, effective_date=pl.Date)
    ups = truth.income_changes.filter(pl.col("new_amount_minor") > pl.col("old_amount_minor"))
    ok = (
        f.join(ups.select(pl.col("series_id").alias("tsid"), pl.col("effective_date")
                          .alias("td")), on="tsid")
        .filter(days_of(pl.col("td") - pl.col("effective_date")).abs() <= 35)
        .select("subject").unique().height
    )
    first_new = (
        ups.filter(pl.col("reason") == "raise")
        .join(truth.members.select("series_id", "date"), on="series_id")
        .filter(pl.col("date") >= pl.col("effective_date"))
        .group_by("series_id", "effective_date").agg(pl.col("date").min().alias("first"))
    )
    due = (
        first_new.filter(pl.col("effective_date").is_between(
            d - timedelta(days=InsightSettings().raise_window_days - 1), d)
                         & (pl.col("first") <= d))
        .join(truth.series.select("series_id", "customer_id"), on="series_id")
        .select("series_id", "customer_id").unique()
    )
    hit = found_of(due, f)
    t.add(f.height, ok, due.height, hit)


def score_late(t: Tally, found: pl.DataFrame, d: date, imap: pl.DataFrame,
                truth: Truth) -> None:
    f = on_truth_series(found, "income_late", imap, expected_date=pl.Date)
    pays = truth.members.filter(pl.col("series_id").is_in(truth.income_ids.implode())
                                & (pl.col("amount_minor") > 0))
    arrived = (
        f.join(pays.select(pl.col("series_id").alias("tsid"), "date"), on="tsid")
        .filter(days_of(pl.col("date") - pl.col("expected_date")).is_between(-3, 7))
        .select("subject").unique()
    )
    ok = f.join(arrived, on="subject", how="anti").height
    regular = truth.series.filter(pl.col("series_id").is_in(truth.income_ids.implode())
                                  & (pl.col("cadence") != "irregular"))
    gaps = (
        pays.filter(pl.col("date") <= d).join(regular.select("series_id"), on="series_id",
                                               how="semi")
        .sort("series_id", "date")
        .group_by("series_id").agg(
            pl.len().alias("n"), pl.col("date").max().alias("last"),
            pl.col("date").diff().dt.total_days().median().alias("gap"))
        .filter(pl.col("n") >= 3)
        .with_columns(days_of(pl.lit(d) - pl.col("last")).alias("since"))
    )
    due = gaps.filter((pl.col("since") > pl.col("gap") + 4)
                      & (pl.col("since") <= pl.col("gap") + 31)).join(
        truth.series.select("series_id", "customer_id"), on="series_id").select(
        "series_id", "customer_id")
    hit = found_of(due, f)
    t.add(f.height, ok, due.height, hit)


def score_large(t: Tally, found: pl.DataFrame, d: date, truth: Truth) -> None:
    f = found.filter(pl.col("detector") == "large_transaction")
    fraud_ids = truth.fraud.select(pl.col("transaction_id").alias("subject"))
    ok = f.join(fraud_ids, on="subject", how="semi").height
    attempts = truth.fraud.filter((pl.col("pattern") == "unusual_amount") & ~pl.col("declined"))
    due = truth.tx.join(attempts.select("transaction_id"), on="transaction_id", how="semi"
                        ).filter(pl.col("booked_on").is_between(d - timedelta(days=2), d))
    hit = due.join(f.select(pl.col("subject").alias("transaction_id")), on="transaction_id",
                   how="semi").height
    t.add(f.height, ok, due.height, hit)


def inject(tx: pl.DataFrame, d: date, truth_members: pl.DataFrame,
            seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``tx`` with ``DUPLICATES`` injected copies of posted card outflows of the last 7 days
    (not truth series members), 1-8 minutes after the original, and the copies' ids."""
    pool = tx.filter(
        (pl.col("status") == "posted") & pl.col("channel").is_in(["card", "online"])
        & (pl.col("amount_minor") < 0) & (pl.col("booked_on") > d - timedelta(days=7))
        & pl.col("merchant_key").is_not_null()
    ).join(truth_members.select(pl.col("transaction_id").alias("id")), on="id", how="anti")
    picked = pool.sample(min(DUPLICATES, pool.height), seed=seed)
    rng = np.random.default_rng(seed)
    minutes = rng.integers(1, 9, picked.height)
    copies = picked.with_columns(
        (pl.col("id") + "-dup").alias("id"),
        (pl.col("booked_at") + pl.Series(minutes).cast(pl.Int64) * pl.duration(minutes=1))
        .alias("booked_at"),
    )
    return pl.concat([tx, copies]), copies.select("id")


DEFINITIONS = {
    "daily_summary": "truth: the simulator made the customer a daily app user (login habit "
                     "daily_morning or daily_evening); recall over those with a checking "
                     "account, per customer and day",
    "upcoming_bill": "correct if the series maps to a truth bill/subscription/rent/mortgage/"
                     "loan/childcare series with a payment within +-1 day of the due date; "
                     "recall over truth payments of such series in (d, d+3] with >= 2 payments "
                     "by d",
    "price_increase": "correct if the mapped truth series has a price change new > old within "
                      "+-35 days of the finding's effective date; recall over truth price_rise "
                      "changes of subscriptions/bills first paid at the new amount in (d-30, d]",
    "bill_unusual": "correct if the mapped truth series (varying bill) has a payment within "
                    "+-1 day of the finding's date >= 1.5x and >= 15 above the median of its "
                    "previous (up to 12, >= 4) payments; recall over such payments in (d-7, d]",
    "new_recurring": "correct if the mapped truth series is a subscription/bill with start_date "
                     "in (d-100, d] (the detector's window); recall over those with >= 3 "
                     "payments by d (a series is recognizable from its third payment)",
    "fees_paid": "truth: a true overdraft / insufficient-funds / interest-charge fee on the "
                 "customer's checking account in (d-30, d], one in (d-7, d]; per customer",
    "foreign_fees": "truth: a true foreign-transaction fee in (d-30, d], one in (d-7, d]; "
                    "per customer",
    "shortfall": "truth: the true end-of-day checking balance (truth opening balance + posted "
                 "amounts; accounts still open at d) is >= 0 at d and < 0 on a day in "
                 "(d, d+14] before the next true income payment; per customer",
    "low_balance": "truth: true end-of-day balance of an open checking account at d < "
                   "max(10 % of the true monthly net income (customers.income_net_annual_minor"
                   " / 12), 100); per customer",
    "idle_cash": "truth: lowest true end-of-day balance over (d-60, d] > 1.5x true monthly "
                 "income and >= 1,000, the account older than 60 days; per customer",
    "spending_spike": "truth: the detector's own rule (last 30 days > 1.3x the mean of the 3 "
                      "periods before, +50, baseline >= 30) on true categories and true "
                      "non-series spending; per customer and category",
    "salary_raise": "correct if the mapped truth income stream has a raise or uprating within "
                    "+-35 days of the finding's effective date; recall over truth raises "
                    "effective in (d-75, d] (the detector's window) already paid by d",
    "income_late": "correct if the mapped truth income stream has no payment in "
                   "[expected-3, expected+7]; recall over regular truth income streams (>= 3 "
                   "payments) whose last payment is 5-31 days later than their median gap",
    "large_transaction": "precision = share of findings that are truth fraud (not a target: it "
                         "also flags real large purchases); recall over approved "
                         "'unusual_amount' fraud booked in (d-3, d]",
    "duplicate_charge": f"the simulator books no duplicates: the eval INJECTS {DUPLICATES} "
                        "copies per day of random posted card outflows of the last 7 days (not "
                        "truth series members), 1-8 minutes after the original; precision = "
                        "flagged rows that are injected copies / flagged; recall = injected "
                        "copies flagged / injected",
}
