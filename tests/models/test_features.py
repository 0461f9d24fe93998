"""Point-in-time features and labels: nothing after the cutoff leaks into the features."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tactful.errors import ValidationError
from tactful.models.features import FEATURES, customer_features
from tactful.models.history import History
from tactful.models.labels import churn_labels, product_labels
from tactful.models.training import Target, plan_cutoffs, time_split

from .conftest import START, make_history, txn

CUTOFF = START + timedelta(days=150)


def test_features_ignore_everything_after_the_cutoff(history: History) -> None:
    before = customer_features(history, CUTOFF)
    later = make_history(
        extra_txns=[
            txn(90_001, "C1", 151, -9_999_999, merchant="Jeweller"),
            txn(90_002, "C1", 150, 5_000_000, category="INCOME"),  # day 150 at noon: after
            txn(90_003, "C3", 200, -1, status="declined"),
        ],
        extra_accounts=[
            {
                "id": "L-C1",
                "customer_id": "C1",
                "type": "loan",
                "opened_on": CUTOFF.date(),
                "closed_on": None,
                "product_id": "P-L",
            }
        ],
        extra_logins=[{"customer_id": "C1", "occurred_at": CUTOFF}],
    )
    assert_frame_equal(before, customer_features(later, CUTOFF))


def test_a_row_just_before_the_cutoff_does_count(history: History) -> None:
    just_before = make_history(
        extra_txns=[txn(90_001, "C1", 149, -1_000_000, merchant="Jeweller", hour=23)]
    )
    a = customer_features(history, CUTOFF).filter(pl.col("customer_id") == "C1")
    b = customer_features(just_before, CUTOFF).filter(pl.col("customer_id") == "C1")
    assert b["outflow_30d"][0] == pytest.approx(a["outflow_30d"][0] + 10_000.0)


def test_features_have_every_column_and_sensible_values(history: History) -> None:
    f = customer_features(history, CUTOFF)
    assert f.columns == ["customer_id", *FEATURES]
    assert f["customer_id"].to_list() == ["C1", "C2", "C3"]
    c1 = f.row(0, named=True)
    assert c1["income_30d"] == pytest.approx(3_000.0)
    assert c1["holds_savings"] == 0.0
    assert c1["tenure_days"] == (CUTOFF.date() - date(2020, 1, 1)).days
    assert 0.9 < c1["activity_trend"] < 1.1


def test_naive_cutoff_is_refused(history: History) -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        customer_features(history, datetime(2025, 5, 1))


def test_churn_label_is_closure_or_dormancy_after_the_cutoff(history: History) -> None:
    labels = churn_labels(history, START + timedelta(days=180))
    assert dict(labels.iter_rows()) == {"C1": 0, "C2": 1, "C3": 0}
    # Before C2 slows down, 90 days ahead still covers the closure on 1 September.
    assert dict(churn_labels(history, START + timedelta(days=170)).iter_rows())["C2"] == 1
    # Far earlier, nothing happens within 90 days.
    assert dict(churn_labels(history, START + timedelta(days=60)).iter_rows())["C2"] == 0


def test_labels_need_the_whole_horizon_in_the_data(history: History) -> None:
    with pytest.raises(ValidationError, match="labels need 90 days after the cutoff"):
        churn_labels(history, START + timedelta(days=280))


def test_product_label_counts_openings_only_among_non_holders(history: History) -> None:
    labels = product_labels(history, START + timedelta(days=180), "savings")
    assert dict(labels.iter_rows()) == {"C1": 0, "C2": 0, "C3": 1}
    after = product_labels(history, START + timedelta(days=240), "savings", horizon_days=30)
    assert "C3" not in after["customer_id"].to_list()  # holds it by then
    with pytest.raises(ValidationError, match="no account in the store has type or product"):
        product_labels(history, START + timedelta(days=180), "mortgage")


def test_out_of_time_split_keeps_training_labels_before_the_test_cutoff() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    end = datetime(2025, 12, 31, 20, tzinfo=UTC)
    train, test = plan_cutoffs(start, end)
    assert test == datetime(2025, 10, 2, 20, 0, 0, 1, tzinfo=UTC)  # the data end's time of day
    assert train and all(c + timedelta(days=90) <= test for c in train)
    assert all(c - timedelta(days=90) >= start for c in train)


def test_short_history_falls_back_to_customers_held_out(history: History) -> None:
    split = time_split(history, Target.churn())
    assert "out of time" in split.protocol
    assert set(split.test.customer_ids) <= {"C1", "C2", "C3"}
    short = History(
        history.customers,
        history.accounts,
        history.transactions.filter(pl.col("booked_at") < START + timedelta(days=200)),
        history.logins.filter(pl.col("occurred_at") < START + timedelta(days=200)),
    )
    assert "customers held out" in time_split(short, Target.churn()).protocol
