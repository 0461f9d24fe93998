"""Income streams: pay schedules, raises and cuts, gig income and stopped pay."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from tactful.enrich.frames import INCOME_CHANGES, INCOME_STREAMS
from tactful.enrich.income import detect_income
from tactful.enrich.recurring import detect_series


def credits(
    bookings: list[tuple[date, int]],
    *,
    key: str,
    category: str | None = None,
    prefix: str = "t",
    description: str | None = None,
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": [f"{prefix}{i:03d}" for i in range(len(bookings))],
            "account_id": "acc-1",
            "customer_id": "cus-1",
            "account_type": "checking",
            "booked_on": [d for d, _ in bookings],
            "amount_minor": [a for _, a in bookings],
            "currency": "USD",
            "description": description or key,
            "counterparty": key,
            "mcc": None,
            "channel": "transfer",
            "status": "posted",
            "merchant_key": key,
            "merchant": key.title(),
            "category_detailed": category,
        },
        schema_overrides={"mcc": pl.String, "category_detailed": pl.String},
    )


def payroll(amounts: list[int]) -> pl.DataFrame:
    days = [date(2025, 1, 3) + timedelta(days=14 * i) for i in range(len(amounts))]
    return credits(
        list(zip(days, amounts, strict=True)), key="HORIZON SYSTEMS LLC", category="INCOME_WAGES"
    )


def test_payroll_stream_with_a_raise() -> None:
    frame = payroll([200000] * 6 + [206000] * 4)
    income = detect_income(frame, detect_series(frame))
    assert dict(income.streams.schema) == dict(INCOME_STREAMS)
    assert dict(income.changes.schema) == dict(INCOME_CHANGES)
    stream = income.streams.row(0, named=True)
    assert (stream["kind"], stream["schedule"], stream["status"]) == (
        "payroll",
        "biweekly",
        "active",
    )
    assert stream["monthly_amount_minor"] == round(206000 * 26 / 12)
    change = income.changes.row(0, named=True)
    assert (change["change"], change["change_ratio"]) == ("raise", 0.03)
    assert change["effective_date"] == date(2025, 1, 3) + timedelta(days=14 * 6)


def test_a_one_off_different_payment_is_no_raise() -> None:
    frame = payroll([200000] * 5 + [260000] + [200000] * 4)
    income = detect_income(frame, detect_series(frame))
    assert income.changes.is_empty()


def test_a_cut_must_persist_two_payments() -> None:
    frame = payroll([200000] * 6 + [150000] * 3)
    change = detect_income(frame, detect_series(frame)).changes.row(0, named=True)
    assert change["change"] == "cut" and change["change_ratio"] == -0.25


def test_job_loss_stops_the_stream() -> None:
    frame = payroll([200000] * 8)
    last = frame["booked_on"].max()
    assert isinstance(last, date)
    later = last + timedelta(days=60)
    income = detect_income(frame, detect_series(frame, as_of=later), as_of=later)
    assert income.streams["status"].to_list() == ["stopped"]


def test_pension_from_category() -> None:
    frame = credits(
        [(date(2025, m, 1), 95000) for m in range(1, 7)],
        key="SSA TREAS",
        category="INCOME_RETIREMENT_PENSION",
    )
    assert detect_income(frame, detect_series(frame)).streams["kind"].to_list() == ["pension"]


def test_irregular_gig_income() -> None:
    offsets = [2, 5, 19, 23, 40, 61, 66, 88]
    bookings = [(date(2025, 6, 1) + timedelta(days=d), 4000 + 531 * d % 9000) for d in offsets]
    frame = credits(bookings, key="UBER BV", description="UBER BV PAYOUT")
    income = detect_income(frame, detect_series(frame))
    stream = income.streams.row(0, named=True)
    assert (stream["kind"], stream["schedule"], stream["next_date"]) == ("gig", "irregular", None)
    trailing = sum(a for d, a in bookings if d > date(2025, 8, 28) - timedelta(days=91))
    assert stream["monthly_amount_minor"] == round(trailing / (91 / (365.25 / 12)))
    assert income.members.height == len(offsets)
