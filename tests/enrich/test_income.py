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
    """Stopped against a day the account is known to be up to date to (the store's as-of for
    it); without that, its own last activity, and there the pay had not stopped."""
    frame = payroll([200000] * 8)
    last = frame["booked_on"].max()
    assert isinstance(last, date)
    later = last + timedelta(days=60)
    series = detect_series(frame, as_of=later)
    income = detect_income(frame, series, as_of=later, accounts_as_of={"acc-1": later})
    assert income.streams["status"].to_list() == ["stopped"]
    assert detect_income(frame, series, as_of=later).streams["status"].to_list() == ["active"]


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


# -- income from amounts, dates and a payer id alone ----------------------------------------


def account(
    credits_by_payer: dict[str, list[tuple[date, int]]],
    *,
    spend_per_week: int = 60000,
    weeks: int = 40,
    start: date = date(2025, 1, 6),
) -> pl.DataFrame:
    """A checking account with no descriptions nor categories: credits from opaque payer ids
    and a week's card spending spread over the days, as an export with amounts, dates and a
    payer id would give it."""
    rows: list[tuple[str, date, int, str | None]] = []
    for payer, bookings in credits_by_payer.items():
        rows += [(payer, d, a, payer) for d, a in bookings]
    for w in range(weeks):
        for day, share in ((1, 0.3), (3, 0.3), (5, 0.4)):
            rows.append(("", start + timedelta(days=7 * w + day), -round(spend_per_week * share),
                         None))
    return pl.DataFrame(
        {
            "id": [f"r{i:04d}" for i in range(len(rows))],
            "account_id": "acc-9",
            "customer_id": "cus-9",
            "account_type": "checking",
            "booked_on": [r[1] for r in rows],
            "amount_minor": [r[2] for r in rows],
            "currency": "EUR",
            "description": None,
            "counterparty": [r[3] for r in rows],
            "mcc": None,
            "channel": "other",
            "status": "posted",
            "merchant_key": [r[3] for r in rows],
        },
        schema_overrides={"description": pl.String, "mcc": pl.String},
    )


def streams_of(frame: pl.DataFrame) -> pl.DataFrame:
    return detect_income(frame, detect_series(frame)).streams


def test_weekly_gig_payouts_of_varying_amounts_are_income() -> None:
    """A platform paying every Tuesday, a different sum each week and nothing some weeks."""
    rng = np.random.default_rng(5)
    weeks = [w for w in range(40) if rng.random() > 0.2]
    pay = [(date(2025, 1, 7) + timedelta(days=7 * w), int(30000 * rng.lognormal(0, 0.45)))
           for w in weeks]
    income = detect_income(frame := account({"P000111": pay}), detect_series(frame))
    stream = income.streams.row(0, named=True)
    assert income.streams.height == 1
    assert stream["kind"] in ("gig", "payroll")
    assert income.members.height >= 0.9 * len(pay)


def test_weekly_small_transfers_from_a_friend_are_not_payroll() -> None:
    """A friend paying back 15.00 every Friday: regular, but a sliver of the money."""
    friend = [(date(2025, 1, 10) + timedelta(days=7 * w), 1500) for w in range(40)]
    streams = streams_of(account({"P000222": friend}))
    assert streams.filter(pl.col("kind") == "payroll").is_empty()
    assert streams.is_empty()


def test_a_friend_on_random_days_is_not_income() -> None:
    rng = np.random.default_rng(9)
    days = sorted({int(d) for d in rng.integers(0, 280, 25)})
    friend = [(date(2025, 1, 6) + timedelta(days=d), int(rng.integers(1000, 6000))) for d in days]
    assert streams_of(account({"P000333": friend})).is_empty()


def test_a_four_weekly_hourly_wage_of_30_percent_swings_is_income() -> None:
    rng = np.random.default_rng(13)
    pay = [(date(2025, 1, 10) + timedelta(days=28 * k), int(240000 * (1 + rng.uniform(-0.3, 0.3))))
           for k in range(10)]
    streams = streams_of(account({"P000444": pay}))
    assert streams.select("kind", "schedule").rows() == [("payroll", "four_weekly")]


def test_a_monthly_commission_that_varies_is_income() -> None:
    rng = np.random.default_rng(17)
    pay = [(date(2025, m, 28), int(180000 * rng.lognormal(0, 0.3))) for m in range(1, 10)]
    streams = streams_of(account({"P000555": pay}))
    assert streams.select("kind", "schedule").rows() == [("payroll", "monthly")]


def test_small_monthly_interest_is_not_income() -> None:
    """The bank's own interest each month end: varying, small against the account's money."""
    rng = np.random.default_rng(19)
    interest = [(date(2025, m, 1) - timedelta(days=1), int(rng.integers(150, 400)))
                for m in range(2, 11)]
    assert streams_of(account({"P000666": interest})).is_empty()


def test_a_small_fixed_benefit_every_four_weeks_is_income() -> None:
    """Child benefit is a few percent of a family's spending, but a fixed sum on a fixed day."""
    benefit = [(date(2025, 1, 6) + timedelta(days=28 * k), 10240) for k in range(10)]
    streams = streams_of(account({"P000777": benefit}))
    assert streams["schedule"].to_list() == ["four_weekly"]
    assert streams["kind"].to_list() != ["payroll"]


def test_a_stream_that_ends_when_the_account_ends_is_not_stopped() -> None:
    """The export (or another account) runs to December; this account's last activity is its
    last pay in June: its pay did not stop, the account's record did."""
    pay = [(date(2025, m, 25), 250000) for m in range(1, 7)]
    spend = [(date(2025, m, d), -40000) for m in range(1, 7) for d in (3, 12, 20)]
    mine = credits(pay + spend, key="P000888", prefix="m").with_columns(
        pl.when(pl.col("amount_minor") < 0).then(None).otherwise(pl.col("merchant_key"))
        .alias("merchant_key")
    )
    other = credits([(date(2025, 12, 20), -1000)], key="SHOP", prefix="o").with_columns(
        pl.lit("acc-2").alias("account_id")
    )
    frame = pl.concat([mine, other])
    income = detect_income(frame, detect_series(frame))
    assert income.streams.select("account_id", "status").rows() == [("acc-1", "active")]


def test_pay_that_stops_while_the_account_goes_on_is_stopped() -> None:
    pay = [(date(2025, m, 25), 250000) for m in range(1, 7)]
    spend = [(date(2025, m, d), -40000) for m in range(1, 12) for d in (3, 12, 20)]
    frame = credits(pay + spend, key="P000888").with_columns(
        pl.when(pl.col("amount_minor") < 0).then(None).otherwise(pl.col("merchant_key"))
        .alias("merchant_key")
    )
    income = detect_income(frame, detect_series(frame))
    assert income.streams["status"].to_list() == ["stopped"]


def test_an_irregular_benefit_of_one_odd_sum_is_income() -> None:
    """A hardship payment or a tax credit: the same 317.82 at irregular intervals."""
    offsets = [0, 19, 61, 75, 130, 171, 230]
    pay = [(date(2025, 1, 9) + timedelta(days=d), 31782) for d in offsets]
    streams = streams_of(account({"P000999": pay}))
    assert streams.select("kind", "schedule").rows() == [("benefit", "irregular")]


def test_a_friend_repeating_a_round_sum_on_random_days_is_not_income() -> None:
    offsets = [3, 40, 52, 97, 150, 199, 240]
    friend = [(date(2025, 1, 9) + timedelta(days=d), 50000) for d in offsets]  # 500.00
    assert streams_of(account({"P000998": friend})).is_empty()


def test_direct_debits_returned_unpaid_are_not_income() -> None:
    """A mortgage debit bounced three times: the same odd sum back from the same party."""
    debits = [(date(2025, m, 7), -91259) for m in range(1, 10)]
    returns = [(date(2025, m, 9), 91259) for m in (3, 5, 8)]
    assert streams_of(account({"P000997": debits + returns})).is_empty()
