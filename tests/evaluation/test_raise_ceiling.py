"""The salary_raise recall ceiling counts only raises whose new level has repeated by the day
scored: twice on fixed pay, three times on pay that varies."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import polars as pl

from tactful.evaluation.insight_truth import _confirmable

SERIES = pl.DataFrame({"series_id": ["fixed", "hourly"], "amount_varies": [False, True]})
MEMBERS = pl.DataFrame({
    "series_id": ["fixed"] * 3 + ["hourly"] * 4,
    "date": [date(2025, 9, 30), date(2025, 10, 31), date(2025, 11, 28),
             date(2025, 10, 3), date(2025, 10, 10), date(2025, 10, 17), date(2025, 10, 24)],
})
NEWS = pl.DataFrame({"series_id": ["fixed", "hourly"],
                     "effective_date": [date(2025, 10, 1), date(2025, 10, 6)]})
TRUTH = SimpleNamespace(series=SERIES, members=MEMBERS)


def test_a_raise_paid_once_is_not_yet_confirmable() -> None:
    # by 2025-11-05 fixed pay has one payment at the new level (10-31); hourly pay three
    assert _confirmable(NEWS.filter(pl.col("series_id") == "fixed"), date(2025, 11, 5),
                        TRUTH) == 0  # type: ignore[arg-type]
    assert _confirmable(NEWS, date(2025, 11, 5), TRUTH) == 1  # type: ignore[arg-type]


def test_varying_pay_needs_a_third_payment() -> None:
    assert _confirmable(NEWS, date(2025, 10, 20), TRUTH) == 0  # type: ignore[arg-type]
    assert _confirmable(NEWS, date(2025, 12, 1), TRUTH) == 2  # type: ignore[arg-type]
