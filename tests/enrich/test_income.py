"""Income streams: pay schedules, raises and cuts, gig income and stopped pay."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
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


def hourly(seed: int, *, raise_at: int | None, weeks: int = 52) -> pl.DataFrame:
    """Weekly hourly pay: 38 hours at 21.50 an hour, the hours varying about +-6% (seeded
    noise), and the rate up 6% from payment ``raise_at`` on."""
    rng = np.random.default_rng(seed)
    hours = 38 * (1 + rng.normal(0, 0.03, weeks))
    rate = np.where(np.arange(weeks) >= (raise_at if raise_at is not None else weeks), 1.06, 1.0)
    amounts = np.round(hours * 2150 * rate).astype(int).tolist()
    days = [date(2025, 1, 3) + timedelta(days=7 * i) for i in range(weeks)]
    return credits(
        list(zip(days, amounts, strict=True)), key="NORTHWIND STAFFING", category="INCOME_WAGES"
    )


def test_a_rate_raise_on_noisy_hourly_pay() -> None:
    frame = hourly(7, raise_at=30)
    series = detect_series(frame)
    assert series.series["amount_varies"].to_list() == [True]
    income = detect_income(frame, series)
    assert income.changes.height == 1
    change = income.changes.row(0, named=True)
    assert change["change"] == "raise"
    assert abs(change["change_ratio"] - 0.06) <= 0.02
    truth = date(2025, 1, 3) + timedelta(days=7 * 30)
    assert abs((change["effective_date"] - truth).days) <= 7


def test_noisy_hourly_pay_without_a_raise_has_no_change() -> None:
    frame = hourly(11, raise_at=None)
    income = detect_income(frame, detect_series(frame))
    assert income.streams.height == 1
    assert income.changes.is_empty()


def test_a_small_raise_of_fixed_pay() -> None:
    frame = payroll([200000] * 6 + [203000] * 4)
    change = detect_income(frame, detect_series(frame)).changes.row(0, named=True)
    assert (change["change"], change["change_ratio"]) == ("raise", 0.015)


def test_the_payments_before_a_stream_tell_its_old_level() -> None:
    """A series that starts at the new rate still shows the raise, read off the same payer's
    payments into the account just before it."""
    bookings = [(date(2025, m, 20), 665074 if m <= 2 else 690871) for m in range(1, 13)]
    frame = credits(bookings, key="GRANITE EDUCATION", category="INCOME_WAGES")
    series = detect_series(frame.filter(pl.col("booked_on") >= date(2025, 3, 1)))
    income = detect_income(frame, series)
    assert income.members.height == 10
    change = income.changes.row(0, named=True)
    assert (change["effective_date"], change["old_amount_minor"], change["new_amount_minor"]) == (
        date(2025, 3, 20),
        665074,
        690871,
    )


def test_a_temporary_cut_of_hourly_pay() -> None:
    """Hours cut by a quarter for ten weeks, then back: no one split sees it, a spell does."""
    rng = np.random.default_rng(3)
    cut = np.where((np.arange(52) >= 20) & (np.arange(52) < 30), 0.75, 1.0)
    amounts = np.round(38 * 2150 * (1 + rng.normal(0, 0.04, 52)) * cut).astype(int).tolist()
    days = [date(2025, 1, 3) + timedelta(days=7 * i) for i in range(52)]
    frame = credits(list(zip(days, amounts, strict=True)), key="NORTHWIND STAFFING")
    changes = detect_income(frame, detect_series(frame)).changes
    assert changes["change"].to_list() == ["cut", "raise"]
    assert changes["effective_date"].to_list() == [days[20], days[30]]
