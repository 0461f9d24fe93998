"""Point-in-time customer features: what the bank knew about each customer at a cutoff.

Every figure is computed from rows dated strictly before the cutoff -- transactions booked, logins
made, accounts opened -- so a model trained on features at one cutoff and labels after it learns
only what it could have known (``tests/models/test_features.py`` proves that a row after the
cutoff changes nothing). Amounts are in major units of the account currency, by the currency's
own exponent (``domain.money.to_major``: JPY 12,345 is 12345, BHD 1.234 is 1.234): a model needs a
number, and ``FEATURE_INFO`` says each one in plain words for the reason codes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

import polars as pl

from tactful.domain.enums import AccountType
from tactful.domain.money import to_major
from tactful.errors import ValidationError
from tactful.models.base import FeatureInfo
from tactful.models.history import History

SPEND_CATEGORIES: Final = (
    "FOOD_AND_DRINK",
    "GENERAL_MERCHANDISE",
    "ENTERTAINMENT",
    "TRAVEL",
    "TRANSPORTATION",
    "RENT_AND_UTILITIES",
    "LOAN_PAYMENTS",
)
HELD: Final = (
    AccountType.SAVINGS,
    AccountType.CREDIT_CARD,
    AccountType.LOAN,
    AccountType.MORTGAGE,
    AccountType.INVESTMENT,
)

FEATURE_INFO: Final[dict[str, FeatureInfo]] = {
    "tenure_days": FeatureInfo("time with the bank", " days"),
    "accounts_open": FeatureInfo("accounts open"),
    **{
        f"holds_{t.value}": FeatureInfo(f"holds a {t.value.replace('_', ' ')}", indicator=True)
        for t in HELD
    },
    "deposit_balance": FeatureInfo("balance on current and savings accounts"),
    "inflow_30d": FeatureInfo("money in over the last 30 days"),
    "outflow_30d": FeatureInfo("money out over the last 30 days"),
    "inflow_90d": FeatureInfo("money in over the last 90 days"),
    "outflow_90d": FeatureInfo("money out over the last 90 days"),
    "income_30d": FeatureInfo("income received in the last 30 days"),
    "income_trend": FeatureInfo("last month's income against the two months before", "x"),
    "txn_count_30d": FeatureInfo("transactions in the last 30 days"),
    "txn_count_90d": FeatureInfo("transactions in the last 90 days"),
    "activity_trend": FeatureInfo("last month's activity against the quarter's average", "x"),
    "days_since_last_txn": FeatureInfo("days since the last transaction", " days"),
    "card_spend_30d": FeatureInfo("card spending in the last 30 days"),
    "declined_90d": FeatureInfo("declined payments in the last 90 days"),
    "recurring_payees_90d": FeatureInfo("payees paid in two or more of the last three months"),
    **{
        f"spend_share_{c.lower()}": FeatureInfo(
            f"share of spending on {c.lower().replace('_', ' ')}"
        )
        for c in SPEND_CATEGORIES
    },
    "logins_30d": FeatureInfo("app logins in the last 30 days"),
    "logins_90d": FeatureInfo("app logins in the last 90 days"),
    "days_since_last_login": FeatureInfo("days since the last app login", " days"),
}
FEATURES: Final[tuple[str, ...]] = tuple(FEATURE_INFO)
"""The feature list, in matrix column order. Protected attributes are never among them."""

_DEPOSIT = [AccountType.CHECKING.value, AccountType.SAVINGS.value]
_CAP_DAYS = 365.0


def open_accounts(history: History, cutoff: datetime) -> pl.DataFrame:
    """Accounts opened before the cutoff and not closed by it."""
    day = cutoff.date()
    a = history.accounts
    return a.filter(
        (pl.col("opened_on").is_null() | (pl.col("opened_on") < day))
        & (pl.col("closed_on").is_null() | (pl.col("closed_on") >= day))
    )


def customer_features(history: History, cutoff: datetime) -> pl.DataFrame:
    """One row per customer with an account open at ``cutoff``: ``customer_id`` + ``FEATURES``.

    Only rows strictly before ``cutoff`` are read. Customers without any open account at the
    cutoff are not there: nothing can be predicted of a relationship that has not started.
    """
    if cutoff.tzinfo is None:
        raise ValidationError("cutoff must be timezone-aware")
    d30, d90 = cutoff - timedelta(days=30), cutoff - timedelta(days=90)
    accounts = open_accounts(history, cutoff)
    base = accounts.group_by("customer_id").agg(
        pl.len().alias("accounts_open"),
        *[
            (pl.col("type") == t.value).any().cast(pl.Float64).alias(f"holds_{t.value}")
            for t in HELD
        ],
        ((pl.lit(cutoff.date()) - pl.col("opened_on").min()).dt.total_days())
        .cast(pl.Float64)
        .alias("tenure_days"),
    )
    txn = history.transactions.filter(pl.col("booked_at") < cutoff)
    posted = txn.filter(pl.col("status") == "posted")
    currencies = txn.get_column("currency")
    major = to_major(pl.col("amount_minor"), currencies)
    deposit = posted.filter(pl.col("account_type").is_in(_DEPOSIT))
    in30 = pl.col("booked_at") >= d30
    in90 = pl.col("booked_at") >= d90
    income = (pl.col("category") == "INCOME") & (pl.col("amount_minor") > 0)
    flows = deposit.group_by("customer_id").agg(
        major.filter(in30 & (major > 0)).sum().alias("inflow_30d"),
        (-major).filter(in30 & (major < 0)).sum().alias("outflow_30d"),
        major.filter(in90 & (major > 0)).sum().alias("inflow_90d"),
        (-major).filter(in90 & (major < 0)).sum().alias("outflow_90d"),
        major.filter(in30 & income).sum().alias("income_30d"),
        major.filter(in90 & ~in30 & income).sum().alias("_income_prior"),
    )
    balance = (
        posted.filter(
            pl.col("account_type").is_in(_DEPOSIT) & pl.col("balance_after_minor").is_not_null()
        )
        .sort("booked_at")
        .group_by("account_id")
        .agg(
            pl.col("customer_id").last(),
            to_major(pl.col("balance_after_minor"), currencies).last().alias("deposit_balance"),
        )
        .group_by("customer_id")
        .agg(pl.col("deposit_balance").sum())
    )
    spend = posted.filter(in90 & (pl.col("amount_minor") < 0))
    total_spend = (-major).sum()
    activity = posted.group_by("customer_id").agg(
        in30.sum().cast(pl.Float64).alias("txn_count_30d"),
        in90.sum().cast(pl.Float64).alias("txn_count_90d"),
        ((pl.lit(cutoff) - pl.col("booked_at").max()).dt.total_seconds() / 86_400.0).alias(
            "days_since_last_txn"
        ),
        (-major)
        .filter(in30 & (pl.col("channel") == "card") & (major < 0))
        .sum()
        .alias("card_spend_30d"),
    )
    shares = spend.group_by("customer_id").agg(
        *[
            ((-major).filter(pl.col("category") == c).sum() / total_spend).alias(
                f"spend_share_{c.lower()}"
            )
            for c in SPEND_CATEGORIES
        ]
    )
    declined = (
        txn.filter(in90 & (pl.col("status") == "declined"))
        .group_by("customer_id")
        .agg(pl.len().cast(pl.Float64).alias("declined_90d"))
    )
    recurring = (
        spend.filter(pl.col("merchant").is_not_null())
        .with_columns(
            ((pl.lit(cutoff) - pl.col("booked_at")).dt.total_days() // 30).alias("_month")
        )
        .group_by("customer_id", "merchant")
        .agg(pl.col("_month").n_unique().alias("_months"))
        .filter(pl.col("_months") >= 2)
        .group_by("customer_id")
        .agg(pl.len().cast(pl.Float64).alias("recurring_payees_90d"))
    )
    logins = (
        history.logins.filter(pl.col("occurred_at") < cutoff)
        .group_by("customer_id")
        .agg(
            (pl.col("occurred_at") >= d30).sum().cast(pl.Float64).alias("logins_30d"),
            (pl.col("occurred_at") >= d90).sum().cast(pl.Float64).alias("logins_90d"),
            ((pl.lit(cutoff) - pl.col("occurred_at").max()).dt.total_seconds() / 86_400.0).alias(
                "days_since_last_login"
            ),
        )
    )
    out = base
    for part in (flows, balance, activity, shares, declined, recurring, logins):
        out = out.join(part, on="customer_id", how="left")
    zero = [
        "inflow_30d",
        "outflow_30d",
        "inflow_90d",
        "outflow_90d",
        "income_30d",
        "_income_prior",
        "txn_count_30d",
        "txn_count_90d",
        "card_spend_30d",
        "declined_90d",
        "recurring_payees_90d",
        "logins_30d",
        "logins_90d",
        *[f"spend_share_{c.lower()}" for c in SPEND_CATEGORIES],
    ]
    out = out.with_columns([pl.col(c).fill_null(0.0).fill_nan(0.0) for c in zero])
    out = out.with_columns(
        (pl.col("income_30d") / (pl.col("_income_prior") / 2.0))
        .fill_nan(1.0)
        .clip(0.0, 5.0)
        .fill_null(1.0)
        .alias("income_trend"),
        (pl.col("txn_count_30d") * 3.0 / pl.col("txn_count_90d"))
        .fill_nan(0.0)
        .alias("activity_trend"),
        pl.col("days_since_last_txn").fill_null(_CAP_DAYS).clip(0.0, _CAP_DAYS),
        pl.col("days_since_last_login").fill_null(_CAP_DAYS).clip(0.0, _CAP_DAYS),
    )
    out = out.with_columns(
        pl.when(pl.col("income_trend").is_infinite())
        .then(5.0)
        .otherwise(pl.col("income_trend"))
        .alias("income_trend")
    )
    return out.select("customer_id", *[pl.col(f).cast(pl.Float64) for f in FEATURES]).sort(
        "customer_id"
    )
