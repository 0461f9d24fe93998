"""The cash-flow forecast on a case worked by hand, and the rules the catalog applies to every
detector: consent, personalization level, sensitive categories."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime

import polars as pl

from tactful.enrich.frames import INCOME_STREAMS, SERIES
from tactful.insights.catalog import Catalog
from tactful.insights.forecast import forecast
from tactful.insights.inputs import ACCOUNTS, CUSTOMERS, TRANSACTIONS, InsightInputs

AS_OF = date(2025, 3, 10)


def _tiny() -> InsightInputs:
    """Balance 500.00; rent of 800.00 due on the 13th; pay on the 16th; 8 weeks of groceries
    of 10.00 a day outside any series."""
    customers = pl.DataFrame([{"customer_id": "C", "region": "EU", "locale": "en_GB",
                               "timezone": "Europe/Berlin",
                               "personalization_level": "advanced"}], schema=CUSTOMERS)
    accounts = pl.DataFrame([{"account_id": "A", "customer_id": "C", "type": "checking",
                              "currency": "EUR", "balance_minor": 50_000,
                              "credit_limit_minor": 0, "opened_on": date(2020, 1, 1),
                              "closed_on": None, "product_id": None, "product_name": None}],
                            schema=ACCOUNTS)
    days = pl.date_range(date(2025, 1, 13), AS_OF, "1d", eager=True)
    tx = pl.DataFrame({
        "id": [f"T{i}" for i in range(len(days))], "account_id": "A", "customer_id": "C",
        "account_type": "checking",
        "booked_at": [datetime(d.year, d.month, d.day, 12, tzinfo=UTC) for d in days],
        "booked_on": days, "amount_minor": -1_000, "currency": "EUR", "channel": "card",
        "status": "posted", "merchant": "Lidl", "merchant_key": "LIDL",
        "category": "FOOD_AND_DRINK", "category_detailed": "FOOD_AND_DRINK_GROCERIES",
        "series_id": None}, schema=TRANSACTIONS)
    series = pl.DataFrame([{
        "series_id": "S-RENT", "customer_id": "C", "account_id": "A", "merchant_key": "LANDLORD",
        "merchant": "Landlord", "kind": "rent", "cadence": "monthly", "direction": "out",
        "category_detailed": "RENT_AND_UTILITIES_RENT", "currency": "EUR",
        "typical_amount_minor": -80_000, "last_amount_minor": -80_000, "amount_varies": False,
        "first_date": date(2024, 1, 13), "last_date": date(2025, 2, 13), "occurrences": 14,
        "next_date": date(2025, 3, 13), "next_amount_minor": -80_000, "status": "active"}],
        schema=SERIES)
    income = pl.DataFrame([{
        "stream_id": "S-PAY", "customer_id": "C", "account_id": "A", "merchant": "Acme",
        "kind": "payroll", "schedule": "monthly", "currency": "EUR",
        "typical_amount_minor": 250_000, "monthly_amount_minor": 250_000,
        "first_date": date(2024, 1, 16), "last_date": date(2025, 2, 16),
        "next_date": date(2025, 3, 16), "occurrences": 14, "status": "active"}],
        schema=INCOME_STREAMS)
    consents = pl.DataFrame({"customer_id": ["C"], "purpose": ["personalization"]})
    return InsightInputs(as_of=AS_OF, customers=customers, accounts=accounts, transactions=tx,
                         series=series, income=income, consents=consents)


def test_forecast_by_hand() -> None:
    f = forecast(_tiny())
    path = f.path.sort("day")
    assert path.get_column("day").to_list() == [date(2025, 3, d) for d in range(11, 16)]
    # usual essentials: -10.00 on each day of the 56-day history window -> -10.00 a day
    expected = [50_000 - 1_000 * k - (80_000 if k >= 3 else 0) for k in range(1, 6)]
    assert path.get_column("expected_minor").to_list() == expected
    # steady spending has no spread: the band is the path itself
    assert path.get_column("low_minor").to_list() == expected
    assert f.accounts.row(0, named=True)["next_income"] == date(2025, 3, 16)


def test_a_card_payment_is_forecast_from_the_statement_not_its_typical_amount() -> None:
    """The card statement closed three weeks before the payment due on the 14th (on 21
    February): the card owed 300.00 then and owes 420.00 now, after 120.00 of purchases since.
    The payment usually runs at 900.00; this month's is the statement's 300.00."""
    data = _tiny()
    card = data.accounts.with_columns(
        pl.lit("CARD").alias("account_id"), pl.lit("credit_card").alias("type"),
        pl.lit(-42_000, pl.Int64).alias("balance_minor"))
    bought = pl.DataFrame({
        "id": ["P1", "P2"], "account_id": "CARD", "customer_id": "C",
        "account_type": "credit_card",
        "booked_at": [datetime(2025, 2, 20, 12, tzinfo=UTC), datetime(2025, 3, 1, 12, tzinfo=UTC)],
        "booked_on": [date(2025, 2, 20), date(2025, 3, 1)], "amount_minor": [-5_000, -12_000],
        "currency": "EUR", "channel": "card", "status": "posted", "merchant": "Shop",
        "merchant_key": "SHOP", "category": "GENERAL_MERCHANDISE",
        "category_detailed": "GENERAL_MERCHANDISE_OTHER_GENERAL_MERCHANDISE", "series_id": None},
        schema=TRANSACTIONS)
    payment = data.series.with_columns(
        pl.lit("S-CARD").alias("series_id"), pl.lit("loan_payment").alias("kind"),
        pl.lit("LOAN_PAYMENTS_CREDIT_CARD_PAYMENT").alias("category_detailed"),
        pl.lit(-90_000, pl.Int64).alias("typical_amount_minor"),
        pl.lit(-90_000, pl.Int64).alias("next_amount_minor"),
        pl.lit(date(2025, 3, 14)).alias("next_date"))
    with_card = replace(data, accounts=pl.concat([data.accounts, card]),
                        transactions=pl.concat([data.transactions, bought]),
                        series=pl.concat([data.series, payment]))
    path = forecast(with_card).path.sort("day")
    on_14th = path.filter(pl.col("day") == date(2025, 3, 14)).row(0, named=True)
    assert on_14th["scheduled_minor"] == -80_000 - 30_000
    # a revolver who usually pays less than the statement keeps their usual amount
    small = replace(with_card, series=pl.concat([data.series, payment.with_columns(
        pl.lit(-20_000, pl.Int64).alias("next_amount_minor"))]))
    on_14th = forecast(small).path.filter(pl.col("day") == date(2025, 3, 14)).row(0, named=True)
    assert on_14th["scheduled_minor"] == -80_000 - 20_000


def test_shortfall_says_when_and_why() -> None:
    catalog = Catalog.default(only=["shortfall"])
    [ins] = catalog.insights(_tiny(), at=datetime(2025, 3, 10, 23, tzinfo=UTC))
    assert ins.facts["shortfall_date"] == "2025-03-13"
    assert ins.facts["projected_minor"] == 50_000 - 3_000 - 80_000
    assert ins.explanation == (
        "Because your balance of €500, less €800 of regular payments and about €30 of everyday "
        "essentials, leaves -€330 on 13 March.")


def test_a_small_gap_is_said_only_to_a_customer_who_has_been_below_zero() -> None:
    """Rent of 600.00 leaves -130 on the 13th: a clear gap for a customer who went below zero
    in February, not for one whose balance has stayed above it (they mostly close 130 alone)."""
    catalog = Catalog.default(only=["shortfall"])
    at = datetime(2025, 3, 10, 23, tzinfo=UTC)
    data = _tiny()
    small = replace(data, series=data.series.with_columns(
        pl.lit(-60_000, pl.Int64).alias("next_amount_minor")))
    assert catalog.insights(small, at=at) == []
    dip = pl.DataFrame({
        "id": ["OUT", "BACK"], "account_id": "A", "customer_id": "C", "account_type": "checking",
        "booked_at": [datetime(2025, 2, 1, 9, tzinfo=UTC), datetime(2025, 2, 3, 9, tzinfo=UTC)],
        "booked_on": [date(2025, 2, 1), date(2025, 2, 3)], "amount_minor": [-90_000, 90_000],
        "currency": "EUR", "channel": "transfer", "status": "posted", "merchant": None,
        "merchant_key": None, "category": ["TRANSFER_OUT", "TRANSFER_IN"],
        "category_detailed": ["TRANSFER_OUT_ACCOUNT_TRANSFER", "TRANSFER_IN_ACCOUNT_TRANSFER"],
        "series_id": None},
        schema=TRANSACTIONS)
    been_below = replace(small, transactions=pl.concat([small.transactions, dip]))
    [ins] = catalog.insights(been_below, at=at)
    assert ins.facts["projected_minor"] == 50_000 - 3_000 - 60_000


def test_consent_and_level_gate_every_detector() -> None:
    data = _tiny()
    catalog = Catalog.default(only=["shortfall", "weekly_roundup"])
    assert set(catalog.findings(data).get_column("detector")) == {"shortfall", "weekly_roundup"}
    no_consent = replace(data, consents=data.consents.clear())
    assert catalog.findings(no_consent).height == 0
    basic = replace(data, customers=data.customers.with_columns(
        pl.lit("basic").alias("personalization_level")))
    assert set(catalog.findings(basic).get_column("detector")) == {"weekly_roundup"}
    none = replace(data, customers=data.customers.with_columns(
        pl.lit("none").alias("personalization_level")))
    assert catalog.findings(none).height == 0


def test_sensitive_spending_never_makes_a_spike() -> None:
    """The same jump in spending is a spike in personal care and nothing in health."""
    data = _tiny()
    days = pl.date_range(date(2024, 11, 1), AS_OF, "1d", eager=True)

    def jump(category: str, detailed: str) -> pl.DataFrame:
        return pl.DataFrame({
            "id": [f"{category}{i}" for i in range(len(days))], "account_id": "A",
            "customer_id": "C", "account_type": "checking",
            "booked_at": [datetime(d.year, d.month, d.day, 15, tzinfo=UTC) for d in days],
            "booked_on": days,
            "amount_minor": [-20_000 if d > date(2025, 2, 8) else -500 for d in days],
            "currency": "EUR", "channel": "card", "status": "posted", "merchant": "Shop",
            "merchant_key": "SHOP", "category": category, "category_detailed": detailed,
            "series_id": None}, schema=TRANSACTIONS)

    tx = pl.concat([data.transactions, jump("MEDICAL", "MEDICAL_PHARMACIES_AND_SUPPLEMENTS"),
                    jump("PERSONAL_CARE", "PERSONAL_CARE_HAIR_AND_BEAUTY")])
    found = Catalog.default(only=["spending_spike"]).findings(replace(data, transactions=tx))
    categories = [json.loads(f)["category"] for f in found.get_column("facts")]
    assert "PERSONAL_CARE" in categories
    assert not any(c.startswith("MEDICAL") for c in categories)


def test_the_explanation_reads_right_when_credits_outweigh_spending() -> None:
    from tactful.insights.render import Renderer

    facts = {"shortfall_date": "2025-11-03", "projected_minor": -16_790,
             "balance_minor": 122_812, "scheduled_minor": 148_608, "usual_minor": -9_006,
             "next_income_date": None, "currency": "USD"}
    text = Renderer.default().render("shortfall", facts, "en_US").explanation
    assert text == ("Because your balance of $1,228.12, less $1,486.08 of regular payments, "
                    "plus about $90.06 of usual credits, leaves -$167.90 on November 3.")
