"""The simulator's truth for the insight evaluation, and how each detector's findings are scored
against it: a detector's finding is correct, and a true case is found, by the rules written in
``DEFINITIONS`` (which ``docs/evaluation.md`` prints beside the table).

No truth here reuses an engine setting: this module imports nothing from the engine's insights,
models or enrichment (only the shared taxonomy). A spending spike is true because the simulator
changed the customer's behaviour (``truth/behaviour_changes.parquet``), a balance message because
of the customer's hidden needs (``truth/customer_needs.parquet``, defined in
``tactful.simulate.people.needs`` from public buffer figures), not because an engine threshold
says so.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import select

from tactful.evaluation.bank import EvalBank
from tactful.store import schema

DUPLICATES = 300
BILL_TRUTH_KINDS = ("bill", "subscription", "rent", "mortgage", "loan_payment", "childcare")
FEES = ("BANK_FEES_OVERDRAFT_FEES", "BANK_FEES_INSUFFICIENT_FUNDS", "BANK_FEES_INTEREST_CHARGE")
FOREIGN = "BANK_FEES_FOREIGN_TRANSACTION_FEES"
SPIKE_NEWS_DAYS = 60
"""A change of spending is news for two months after it starts (it must also still be going on
in the last 30 days, the month a "this month vs usual" message talks about)."""
NEW_FOR_DAYS = 90
"""A recurring charge is new for its first three monthly cycles."""
RAISE_NEWS_DAYS = 60
"""A raise is news until the second monthly pay at the new amount has passed."""


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
        self.customers = pl.read_parquet(folder / "customers.parquet")
        self.changes = pl.read_parquet(folder / "behaviour_changes.parquet").with_columns(
            pl.col("start_date").str.to_date(), pl.col("end_date").str.to_date())
        self.needs = pl.read_parquet(folder / "customer_needs.parquet").with_columns(
            pl.col("date").str.to_date(), pl.col("shortfall_date").str.to_date())
        truth = mapped(pl.read_parquet(folder / "transaction_truth.parquet"))
        # every exported row, with its local day and its true category, series and fraud flag
        self.tx = cats.select(
            pl.col("id").alias("transaction_id"), "customer_id", "account_id", "account_type",
            "booked_on", "amount_minor", "currency", "channel", "status",
        ).join(truth.select("transaction_id", "category_primary", "category_detailed",
                            pl.col("series_id").alias("truth_series"), "fraud"),
               on="transaction_id", how="left")
        self.income_ids = pl.read_parquet(folder / "income_streams.parquet")["series_id"]

    def daily_users(self, accounts: pl.DataFrame) -> pl.DataFrame:
        """Customers the simulator made daily app users, with a checking account."""
        daily = self.customers.filter(
            pl.col("login_habit").is_in(["daily_morning", "daily_evening"])).select("customer_id")
        checking = accounts.filter(pl.col("type") == "checking").select("customer_id").unique()
        return daily.join(checking, on="customer_id", how="semi")


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
    ahead = truth.needs.filter((pl.col("date") == d) & pl.col("shortfall_date").is_not_null()
                               ).select("customer_id", pl.col("shortfall_date").alias("true_date"))
    score_customers(t, f, ahead.select("customer_id"))
    errors = f.join(ahead, on="customer_id").select(
        days_of(pl.col("shortfall_date") - pl.col("true_date")).abs())
    t.extra.setdefault("date_error", []).extend(errors.to_series().to_list())


def score_balances(tl: Tally, ti: Tally, found: pl.DataFrame, d: date, truth: Truth) -> None:
    today = truth.needs.filter(pl.col("date") == d)
    score_customers(tl, found.filter(pl.col("detector") == "low_balance"),
                     today.filter(pl.col("stressed")).select("customer_id").unique())
    score_customers(ti, found.filter(pl.col("detector") == "idle_cash"),
                     today.filter(pl.col("idle_cash")).select("customer_id").unique())


def spending_changes(truth: Truth, d: date) -> pl.DataFrame:
    """The simulator-caused rises of a customer's spending in a category that are news at ``d``:
    started in the last ``SPIKE_NEWS_DAYS`` days and still going on in the last 30."""
    return truth.changes.filter(
        (pl.col("factor").is_null() | (pl.col("factor") > 1))
        & pl.col("start_date").is_between(d - timedelta(days=SPIKE_NEWS_DAYS - 1), d)
        & (pl.col("end_date").is_null() | (pl.col("end_date") > d - timedelta(days=30)))
    ).select("customer_id", "category_primary", "category_detailed").unique()


def score_spike(t: Tally, found: pl.DataFrame, d: date, truth: Truth) -> None:
    """A finding names a category at either level (the engine reports food by detailed code,
    the rest by primary); it is correct if a true change falls in it."""
    rises = spending_changes(truth, d)
    f = found.filter(pl.col("detector") == "spending_spike").select(
        "customer_id", pl.col("subject").alias("category"))
    levels = pl.concat([
        rises.select("customer_id", pl.col("category_primary").alias("category"),
                     "category_detailed"),
        rises.select("customer_id", pl.col("category_detailed").alias("category"),
                     "category_detailed"),
    ])
    ok = f.join(levels, on=["customer_id", "category"], how="semi").height
    hit = (levels.join(f, on=["customer_id", "category"], how="semi")
           .select("customer_id", "category_detailed").unique().height)
    t.add(f.height, ok, rises.height, hit)


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
    lo = d - timedelta(days=NEW_FOR_DAYS - 1)
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
    news = first_new.filter(pl.col("effective_date").is_between(
        d - timedelta(days=RAISE_NEWS_DAYS - 1), d) & (pl.col("first") <= d))
    due = (
        news.join(truth.series.select("series_id", "customer_id"), on="series_id")
        .select("series_id", "customer_id").unique()
    )
    hit = found_of(due, f)
    t.add(f.height, ok, due.height, hit)
    t.extra.setdefault("confirmable", []).append(_confirmable(news, d, truth))


def _confirmable(news: pl.DataFrame, d: date, truth: Truth) -> int:
    """How many of the raises due on ``d`` any detector that waits for the new level to repeat
    could have seen: paid at least twice at the new level by ``d`` (three times on pay that
    varies, where one payment is hours, not a rate). The rest were paid once: a one-off
    payment looks the same until the next pay day, so they bound the recall of a detector that
    does not guess."""
    paid = (
        news.select("series_id", "effective_date")
        .join(truth.members.select("series_id", "date"), on="series_id")
        .filter(pl.col("date").is_between(pl.col("effective_date"), d))
        .group_by("series_id", "effective_date").agg(pl.len().alias("n"))
        .join(truth.series.select("series_id", "amount_varies"), on="series_id")
        .filter(pl.col("n") >= pl.when(pl.col("amount_varies")).then(3).otherwise(2))
    )
    return paid.select("series_id").n_unique()


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
                     f"in (d-{NEW_FOR_DAYS}, d] (new for three monthly cycles); recall over those "
                     "with >= 3 payments by d (a series is recognizable from its third payment)",
    "fees_paid": "truth: a true overdraft / insufficient-funds / interest-charge fee on the "
                 "customer's checking account in (d-30, d], one in (d-7, d]; per customer",
    "foreign_fees": "truth: a true foreign-transaction fee in (d-30, d], one in (d-7, d]; "
                    "per customer",
    "shortfall": "truth: the simulator's own checking balance is >= 0 at the end of d and goes "
                 "below zero before the customer's next income payment (their own pay cycle; at "
                 "most 35 days ahead without one) -- truth/customer_needs.parquet, "
                 "simulate/people/needs.py; flows never react to messages, so this is the balance "
                 "without a reaction to the warning; per customer",
    "low_balance": "truth: the customer is stressed at d -- the simulated checking balance less "
                   "the true bills due before the next pay is below an emergency buffer of $400 "
                   "at the region's price level (Fed SHED 2023) -- truth/customer_needs.parquet; "
                   "per customer",
    "idle_cash": "truth: the simulated checking balance stayed above six weeks of the "
                 "customer's true take-home pay (JPMorgan Chase Institute cash-buffer estimate) "
                 "on every day of the last 90 -- truth/customer_needs.parquet; per customer",
    "spending_spike": "truth: the simulator raised the customer's spending in the category (a "
                      "new habit, a move's furnishing spree, baby shopping -- truth/"
                      f"behaviour_changes.parquet) starting in (d-{SPIKE_NEWS_DAYS}, d] and still "
                      "going on in (d-30, d]; a finding naming the change's primary or detailed "
                      "category is correct; recall per customer and changed category",
    "salary_raise": "correct if the mapped truth income stream has a raise or uprating within "
                    "+-35 days of the finding's effective date; recall over truth raises "
                    f"effective in (d-{RAISE_NEWS_DAYS}, d] (news until the second monthly pay) "
                    "already paid by d",
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
