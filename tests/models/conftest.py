"""A small hand-built history: three customers whose lives the tests can reason about."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from tactful.models.history import ACCOUNT_SCHEMA, EVENT_SCHEMA, TXN_SCHEMA, History

START = datetime(2025, 1, 1, tzinfo=UTC)


def txn(
    i: int,
    customer: str,
    day: int,
    amount: int,
    *,
    category: str = "FOOD_AND_DRINK",
    merchant: str = "Shop",
    channel: str = "card",
    status: str = "posted",
    hour: int = 12,
    currency: str = "EUR",
    account: str | None = None,
) -> dict[str, object]:
    return {
        "id": f"T{customer}{i:05d}",
        "external_id": None,
        "account_id": account or f"A-{customer}",
        "customer_id": customer,
        "account_type": "checking",
        "booked_at": START + timedelta(days=day, hours=hour),
        "amount_minor": amount,
        "currency": currency,
        "status": status,
        "channel": channel,
        "category": category,
        "merchant": merchant,
        "balance_after_minor": 100_000 + amount,
    }


def make_history(
    extra_txns: list[dict[str, object]] | None = None,
    extra_accounts: list[dict[str, object]] | None = None,
    extra_logins: list[dict[str, object]] | None = None,
) -> History:
    rows = []
    for c in ("C1", "C2", "C3"):
        for d in range(0, 300, 3):
            if c == "C2" and d > 200:  # C2 goes quiet: a churner
                continue
            rows.append(txn(len(rows), c, d, -2_500, merchant=f"M{d % 4}"))
            if d % 30 == 0:
                rows.append(
                    txn(
                        len(rows),
                        c,
                        d,
                        300_000,
                        category="INCOME",
                        channel="transfer",
                        merchant="Employer",
                    )
                )
    rows += extra_txns or []
    accounts = [
        {
            "id": f"A-{c}",
            "customer_id": c,
            "type": "checking",
            "opened_on": date(2020, 1, 1),
            "closed_on": date(2025, 9, 1) if c == "C2" else None,
            "product_id": "P-CHK",
        }
        for c in ("C1", "C2", "C3")
    ]
    accounts.append(
        {
            "id": "S-C3",
            "customer_id": "C3",
            "type": "savings",
            "opened_on": date(2025, 8, 15),
            "closed_on": None,
            "product_id": "P-SAV",
        }
    )
    accounts += extra_accounts or []
    logins = [
        {"customer_id": c, "occurred_at": START + timedelta(days=d)}
        for c in ("C1", "C2", "C3")
        for d in range(0, 300, 7)
    ]
    logins += extra_logins or []
    return History(
        customers=pl.DataFrame({"customer_id": ["C1", "C2", "C3"], "timezone": ["UTC"] * 3}),
        accounts=pl.DataFrame(accounts, schema=ACCOUNT_SCHEMA),
        transactions=pl.DataFrame(rows, schema=TXN_SCHEMA),
        logins=pl.DataFrame(logins, schema=EVENT_SCHEMA),
    )


@pytest.fixture
def history() -> History:
    return make_history()
