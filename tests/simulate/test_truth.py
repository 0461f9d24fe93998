"""Truth and exports agree: every fact the truth records can be found in the exports."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl

from tactful.simulate import SimulationSummary


def test_files_are_written(written: tuple[Path, SimulationSummary]) -> None:
    out, summary = written
    for name in ("customers", "accounts", "transactions", "consents", "products"):
        assert (out / f"{name}.parquet").is_file()
    assert (out / "events.jsonl").is_file()
    assert (out / "truth" / "README.md").read_text().startswith("# Simulator truth")
    assert summary.transactions > 0 and summary.events > 0


def test_transaction_truth_covers_every_transaction(tables: dict[str, pl.DataFrame]) -> None:
    tx, truth = tables["transactions"], tables["truth_transaction_truth"]
    assert tx["transaction_id"].is_unique().all()
    assert tx["transaction_id"].sort().equals(truth["transaction_id"].sort())


def test_series_members_are_transactions_with_the_series_amount(
    tables: dict[str, pl.DataFrame],
) -> None:
    tx = tables["transactions"].select("transaction_id", "account_id", "amount_minor", "booked_at")
    members = tables["truth_series_members"]
    series = tables["truth_recurring_series"]
    changes = tables["truth_price_changes"]
    joined = members.join(tx, on="transaction_id", how="left")
    assert joined["account_id"].null_count() == 0, "a series member is missing from the exports"
    assert (joined["amount_minor"] == joined["amount_minor_right"]).all()
    joined = joined.join(
        series.select(
            "series_id", "account_id", "amount_varies", pl.col("amount_minor").alias("base")
        ),
        on="series_id",
    )
    assert (joined["account_id"] == joined["account_id_right"]).all()
    # Fixed-amount series: the amount on each date is the base amount after the changes before it.
    fixed = joined.filter(~pl.col("amount_varies")).sort("date")
    ch = changes.sort("effective_date")
    expected = fixed.join_asof(
        ch.select("series_id", "effective_date", "new_amount_minor"),
        left_on="date",
        right_on="effective_date",
        by="series_id",
        strategy="backward",
        check_sortedness=False,
    )
    due = expected["new_amount_minor"].fill_null(expected["base"])
    assert (due == expected["amount_minor"]).all()


def test_monthly_income_arrives_on_its_schedule(tables: dict[str, pl.DataFrame]) -> None:
    streams = tables["truth_income_streams"].filter(
        (pl.col("cadence") == "monthly") & (pl.col("kind") == "payroll")
    )
    members = tables["truth_series_members"].join(
        streams.select("series_id", "anchor_day"), on="series_id"
    )
    assert members.height > 0
    for d, anchor in members.select(pl.col("date").str.to_date(), "anchor_day").iter_rows():
        nominal = _nominal(d, anchor)
        # Paid on the scheduled day or, if that is a weekend, the Friday before.
        assert nominal - timedelta(days=2) <= d <= nominal, (d, anchor)


def _nominal(d: date, anchor: int) -> date:
    for month in (d.month, d.month % 12 + 1):
        year = d.year + (1 if month < d.month else 0)
        last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
        candidate = date(year, month, min(anchor, last))
        if candidate >= d:
            return candidate
    raise AssertionError((d, anchor))


def test_every_fraud_id_exists(tables: dict[str, pl.DataFrame]) -> None:
    fraud, tx = tables["truth_fraud"], tables["transactions"]
    assert fraud.height > 0
    assert fraud["transaction_id"].is_in(tx["transaction_id"].implode()).all()
    declined = fraud.join(tx, on="transaction_id").filter(pl.col("declined"))
    assert (declined["status"] == "declined").all()


def test_churned_accounts_close_after_the_closure_date(tables: dict[str, pl.DataFrame]) -> None:
    churn = tables["truth_churn"].filter(pl.col("closure_date").is_not_null())
    assert churn.height > 0
    accounts = tables["accounts"].join(churn, on="customer_id")
    assert (accounts["closed_on"] == accounts["closure_date"]).all()
    assert (accounts["balance_minor"] == 0).all()
    tx = tables["transactions"].join(accounts.select("account_id", "closure_date"), on="account_id")
    assert (tx["booked_at"].str.slice(0, 10) <= tx["closure_date"]).all()


def test_running_balances_are_coherent(tables: dict[str, pl.DataFrame]) -> None:
    tx = tables["transactions"]
    opening = tables["truth_accounts"].select("account_id", "opening_balance_minor", "limit_minor")
    booked = tx.filter(pl.col("status") != "declined").join(opening, on="account_id")
    check = booked.with_columns(
        expected=pl.col("opening_balance_minor")
        + pl.col("amount_minor").cum_sum().over("account_id")
    )
    assert (check["expected"] == check["balance_after_minor"]).all()
    assert (
        tx.filter(pl.col("status") == "declined")["balance_after_minor"].null_count()
        == tx.filter(pl.col("status") == "declined").height
    )
    last = booked.group_by("account_id").agg(pl.col("balance_after_minor").last())
    accounts = tables["accounts"].join(last, on="account_id")
    assert (accounts["balance_minor"] == accounts["balance_after_minor"]).all()


def test_declines_exceed_the_available_balance(tables: dict[str, pl.DataFrame]) -> None:
    tx = tables["transactions"].join(tables["truth_accounts"], on="account_id")
    tx = tx.with_columns(
        before=pl.col("balance_after_minor")
        .forward_fill()
        .shift(1)
        .over("account_id")
        .fill_null(pl.col("opening_balance_minor"))
    )
    card = tx.filter(
        (pl.col("status") == "declined") & pl.col("channel").is_in(["card", "online", "atm"])
    )
    fraud = tables["truth_fraud"].filter(pl.col("declined"))["transaction_id"]
    genuine = card.filter(~pl.col("transaction_id").is_in(fraud.implode()))
    assert genuine.height > 0
    assert (genuine["before"] + genuine["amount_minor"] < -genuine["limit_minor"]).all()


def test_overdraft_fees_follow_a_negative_balance(tables: dict[str, pl.DataFrame]) -> None:
    fees = (
        tables["transactions"]
        .join(tables["truth_transaction_truth"], on="transaction_id")
        .filter(pl.col("category_detailed") == "BANK_FEES_OVERDRAFT_FEES")
    )
    assert (fees["balance_after_minor"] < 0).all()


def test_exports_follow_the_contract(tables: dict[str, pl.DataFrame]) -> None:
    tx, customers = tables["transactions"], tables["customers"]
    assert tx["mcc"].drop_nulls().str.contains(r"^\d{4}$").all()
    assert 0 < tx["mcc"].null_count() < tx.height
    assert tx["description"].null_count() == 0
    assert tx["booked_at"].str.contains(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$").all()
    assert set(tx["status"].unique()) <= {"posted", "pending", "declined"}
    assert set(customers["region"].unique()) <= {"EU", "UK", "US"}
    joined = tx.join(tables["accounts"], on="account_id")
    assert (joined["currency"] == joined["currency_right"]).all()
