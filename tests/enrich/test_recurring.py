"""Recurring series detection, read as a specification: one hand-built account per behaviour."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from tactful.enrich.frames import SERIES, SERIES_CHANGES, SERIES_MEMBERS
from tactful.enrich.recurring import SeriesResult, detect_series
from tactful.errors import ValidationError

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
BERKA = SHARED_DATA / "berka_pkdd99"


def frame(
    bookings: list[tuple[date, int]],
    *,
    key: str = "NETFLIX",
    account: str = "acc-1",
    currency: str = "EUR",
    category: str | None = None,
    status: str = "posted",
    prefix: str = "t",
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": [f"{prefix}{i:03d}" for i in range(len(bookings))],
            "account_id": account,
            "customer_id": "cus-1",
            "account_type": "checking",
            "booked_on": [d for d, _ in bookings],
            "amount_minor": [a for _, a in bookings],
            "currency": currency,
            "description": key,
            "counterparty": None,
            "mcc": None,
            "channel": "direct_debit",
            "status": status,
            "merchant_key": key,
            "merchant": key.title(),
            "category_detailed": category,
        },
        schema_overrides={
            "counterparty": pl.String,
            "mcc": pl.String,
            "category_detailed": pl.String,
        },
    )


def monthly(day: int, months: range, amount: int, year: int = 2025) -> list[tuple[date, int]]:
    return [(date(year, m, day), amount) for m in months]


def only(result: SeriesResult) -> dict[str, object]:
    assert result.series.height == 1, result.series
    return result.series.row(0, named=True)


def test_frames_follow_the_contract() -> None:
    result = detect_series(frame(monthly(5, range(1, 7), -1549)))
    assert dict(result.series.schema) == dict(SERIES)
    assert dict(result.changes.schema) == dict(SERIES_CHANGES)
    assert dict(result.members.schema) == dict(SERIES_MEMBERS)
    assert result.members.height == 6


def test_monthly_subscription() -> None:
    s = only(
        detect_series(frame(monthly(5, range(1, 7), -1549), category="ENTERTAINMENT_TV_AND_MOVIES"))
    )
    assert s["cadence"] == "monthly"
    assert s["kind"] == "subscription"
    assert s["direction"] == "out"
    assert s["typical_amount_minor"] == -1549
    assert s["next_date"] == date(2025, 7, 7)  # 5 July 2025 is a Saturday: debited Monday
    assert s["status"] == "active"
    assert not s["amount_varies"]


def every(start: date, days: int, n: int, amount: int) -> list[tuple[date, int]]:
    return [(start + timedelta(days=days * i), amount) for i in range(n)]


@pytest.mark.parametrize(
    ("bookings", "cadence"),
    [
        (every(date(2025, 1, 3), 7, 10, 45000), "weekly"),
        (every(date(2025, 1, 3), 14, 8, 120000), "biweekly"),
        (every(date(2025, 1, 3), 28, 6, 90000), "four_weekly"),
        ([(date(2025, m, 10), -4500) for m in (1, 4, 7, 10)], "quarterly"),
        ([(date(2024, 3, 12), -8900), (date(2025, 3, 12), -8900)], "yearly"),
    ],
)
def test_cadences(bookings: list[tuple[date, int]], cadence: str) -> None:
    assert only(detect_series(frame(bookings)))["cadence"] == cadence


def test_yearly_needs_two_and_others_three() -> None:
    assert detect_series(frame([(date(2025, 3, 12), -8900)])).series.is_empty()
    assert detect_series(frame(monthly(5, range(1, 3), -999))).series.is_empty()


def test_semi_monthly_fifteenth_and_last_with_weekend_shifts() -> None:
    # payroll on the 15th and the last day, paid the business day before when it is a weekend
    days = [
        date(2025, 1, 15),
        date(2025, 1, 31),
        date(2025, 2, 14),
        date(2025, 2, 28),
        date(2025, 3, 14),
        date(2025, 3, 31),
        date(2025, 4, 15),
        date(2025, 4, 30),
    ]
    s = only(
        detect_series(
            frame(
                [(d, 210000) for d in days],
                key="HORIZON SYSTEMS LLC",
                currency="USD",
                category="INCOME_WAGES",
            )
        )
    )
    assert (s["cadence"], s["kind"]) == ("semi_monthly", "payroll")
    assert s["next_date"] == date(2025, 5, 15)


def test_month_end_anchoring() -> None:
    days = [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30)]
    s = only(
        detect_series(
            frame([(d, -95000) for d in days], key="J MEYER", category="RENT_AND_UTILITIES_RENT")
        )
    )
    assert (s["cadence"], s["kind"]) == ("monthly", "rent")
    assert s["next_date"] == date(2025, 6, 2)  # 31 May 2025 is a Saturday


def test_weekend_and_bank_holiday_shifts_stay_one_series() -> None:
    # due on the 21st; 21 April 2025 is Easter Monday in England, 21 June a Saturday
    days = [
        date(2025, 1, 21),
        date(2025, 2, 21),
        date(2025, 3, 21),
        date(2025, 4, 22),
        date(2025, 5, 21),
        date(2025, 6, 23),
        date(2025, 7, 21),
    ]
    s = only(
        detect_series(
            frame(
                [(d, -3500) for d in days],
                key="VIRGIN MEDIA",
                account="GB29NWBK60161331926819",
                currency="GBP",
            )
        )
    )
    assert s["occurrences"] == 7
    assert s["next_date"] == date(2025, 8, 21)


def test_price_rise_is_one_series_with_a_change() -> None:
    result = detect_series(frame(monthly(18, range(1, 4), -999) + monthly(18, range(4, 7), -1199)))
    s = only(result)
    assert s["typical_amount_minor"] == -1199
    assert not s["amount_varies"]
    assert result.changes.rows() == [(s["series_id"], date(2025, 4, 18), -999, -1199)]


def test_cancellation_and_lateness() -> None:
    bookings = frame(monthly(5, range(1, 5), -1549))
    assert only(detect_series(bookings))["status"] == "active"
    assert only(detect_series(bookings, as_of=date(2025, 5, 14)))["status"] == "late"
    assert only(detect_series(bookings, as_of=date(2025, 7, 15)))["status"] == "cancelled"


def test_two_subscriptions_from_one_merchant_split_by_amount() -> None:
    both = monthly(3, range(1, 7), -299) + monthly(17, range(1, 7), -999)
    result = detect_series(frame(sorted(both), key="APPLE.COM/BILL"))
    assert sorted(result.series["typical_amount_minor"].to_list()) == [-999, -299]
    assert result.series["cadence"].to_list() == ["monthly", "monthly"]


def test_fixed_rent_beside_a_variable_bill_from_one_counterparty() -> None:
    rent = monthly(1, range(1, 9), -80000)
    heat = [
        (date(2025, m, 20), -a)
        for m, a in zip(range(1, 9), (9100, 8700, 7600, 6100, 4900, 4100, 3900, 4500), strict=True)
    ]
    result = detect_series(frame(sorted(rent + heat), key="HAUSVERWALTUNG MEIER"))
    by_amount = {r["typical_amount_minor"]: r for r in result.series.iter_rows(named=True)}
    assert not by_amount[-80000]["amount_varies"]
    varying = [r for r in by_amount.values() if r["amount_varies"]]
    assert len(varying) == 1 and varying[0]["occurrences"] == 8


def test_amount_varying_bill_is_recurring() -> None:
    amounts = (6420, 5911, 7234, 4980, 4410, 3977, 4102, 5203)
    s = only(
        detect_series(
            frame(
                [(date(2025, m, 12), -a) for m, a in zip(range(1, 9), amounts, strict=True)],
                key="VATTENFALL",
            )
        )
    )
    assert s["amount_varies"] and s["cadence"] == "monthly"


def test_a_non_recurring_merchant_is_no_series() -> None:
    days = [3, 9, 10, 24, 41, 45, 77, 80, 81, 130, 151, 152, 190]
    bookings = [(date(2025, 1, 1) + timedelta(days=d), -(1000 + 137 * d % 4000)) for d in days]
    assert detect_series(frame(bookings, key="TESCO STORES")).series.is_empty()


def test_declined_rows_never_count() -> None:
    declined = frame(monthly(5, range(1, 7), -1549), status="declined")
    assert detect_series(declined).series.is_empty()
    mixed = pl.concat(
        [
            frame(monthly(5, range(1, 5), -1549)),
            frame([(date(2025, 4, 6), -1549)], status="declined", prefix="d"),
        ]
    )
    assert detect_series(mixed).members["transaction_id"].to_list() == [
        "t000",
        "t001",
        "t002",
        "t003",
    ]


def test_works_without_categories() -> None:
    s = only(detect_series(frame(monthly(25, range(1, 7), 250000), key="ACME PAYROLL")))
    assert s["kind"] == "payroll" and s["category_detailed"] is None


def test_series_id_is_stable_when_new_bookings_arrive() -> None:
    before = only(detect_series(frame(monthly(5, range(1, 5), -1549))))
    after = only(detect_series(frame(monthly(5, range(1, 8), -1549))))
    assert before["series_id"] == after["series_id"]


def test_missing_columns_are_named() -> None:
    with pytest.raises(
        ValidationError, match="detect_series: frame lacks column\\(s\\): merchant_key"
    ):
        detect_series(frame(monthly(5, range(1, 5), -1549)).drop("merchant_key"))


@pytest.mark.realdata
@pytest.mark.skipif(not BERKA.is_dir(), reason=f"the PKDD'99 Czech bank data is not in {BERKA}")
def test_berka_standing_orders_are_found() -> None:
    from tactful.enrich.income import detect_income
    from tactful.evaluation.recurring import berka_frame, score_standing_orders
    from tactful.ingest.readers.berka import read_standing_orders

    transactions = berka_frame(BERKA / "feup_ecac_variant" / "trans_test.csv")
    series = detect_series(transactions)
    score = score_standing_orders(
        series,
        read_standing_orders(BERKA / "order.asc"),
        frame=transactions,
        income=detect_income(transactions, series),
    )
    assert score.orders > 100
    assert score.orders_booked > 300
    assert score.booked_recall >= 0.95
    assert score.series_precision >= 0.6


def test_rows_without_a_merchant_group_by_their_description() -> None:
    # the normalizer leaves own-account transfers without a merchant
    bookings = frame(monthly(28, range(1, 7), -17500), key="X").with_columns(
        pl.lit(None, dtype=pl.String).alias("merchant_key"),
        pl.format("UMBUCHUNG AUF KONTO {}", pl.lit("5976")).alias("description"),
    )
    s = only(detect_series(bookings))
    assert (s["merchant_key"], s["cadence"]) == ("UMBUCHUNG AUF KONTO", "monthly")


def test_a_skipped_payment_does_not_break_the_series() -> None:
    # council tax: ten monthly instalments, none in February and March
    months = (1, 4, 5, 6, 7, 8, 9)
    s = only(detect_series(frame([(date(2025, m, 20), -15058) for m in months], key="COUNCIL")))
    assert (s["cadence"], s["occurrences"]) == ("monthly", 7)


def test_a_pay_day_on_the_28th_is_not_a_month_end() -> None:
    # in 2025 the 28th is February's last day and, in March and June, the last business day
    # before a weekend: half the bookings look like month-end pay, all of them fit the 28th
    days = [date(2025, m, 28) for m in range(1, 6)] + [date(2025, 6, 27)]
    s = only(detect_series(frame([(d, 250_000) for d in days], key="ACME GMBH",
                                 account="DE89370400440532013000", category="INCOME_WAGES")))
    assert (s["cadence"], s["next_date"]) == ("monthly", date(2025, 7, 28))


def test_month_end_pay_stays_at_the_month_end() -> None:
    days = [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30),
            date(2025, 5, 30), date(2025, 6, 30)]  # 31 May 2025 is a Saturday
    s = only(detect_series(frame([(d, 250_000) for d in days], key="ACME GMBH",
                                 account="DE89370400440532013000", category="INCOME_WAGES")))
    assert s["next_date"] == date(2025, 7, 31)


def test_a_payer_that_pays_after_the_weekend_is_expected_after_it() -> None:
    # a pension due on the 23rd: 23 February and 23 March 2025 are Sundays, paid on the Monday;
    # 23 August 2025 is a Saturday, so the next payment is expected on Monday the 25th
    days = [date(2025, 1, 23), date(2025, 2, 24), date(2025, 3, 24), date(2025, 4, 23),
            date(2025, 5, 23), date(2025, 6, 23), date(2025, 7, 23)]
    s = only(detect_series(frame([(d, 120_000) for d in days], key="DEUTSCHE RENTENVERSICHERUNG",
                                 account="DE89370400440532013000", category="INCOME_RETIREMENT")))
    assert s["next_date"] == date(2025, 8, 25)
    # one that brought a weekend date forward (23 August to Friday the 22nd) does it again:
    # 23 November 2025 is a Sunday
    early = [date(2025, 5, 23), date(2025, 6, 23), date(2025, 7, 23), date(2025, 8, 22),
             date(2025, 9, 23), date(2025, 10, 23)]
    s = only(detect_series(frame([(d, 120_000) for d in early], key="DEUTSCHE RENTENVERSICHERUNG",
                                 account="DE89370400440532013000", category="INCOME_RETIREMENT")))
    assert s["next_date"] == date(2025, 11, 21)
