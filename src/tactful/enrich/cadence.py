"""Cadences and business-day tolerance: when a regular payment may land, and when it is due next.

A payment due on a weekend or a bank holiday moves to the next business day (or the one before:
many payers bring salaries forward). Rather than guess the direction, every booking date gets a
*slack*: how many non-business days sit right before it (a Monday has two) and right after it (a
Friday has two). A nominal due date anywhere in ``[date - slack_before, date + slack_after]`` is
consistent with the booking, so an interval between two bookings is regular for a cadence when
its range of possible nominal intervals meets the cadence's.

>>> CADENCES["monthly"].nominal_min, CADENCES["monthly"].nominal_max
(28, 31)
>>> country_of("DE89370400440532013000", "EUR"), country_of("acc-1", "GBP"), country_of("x", "EUR")
('DE', 'GB', '')
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays
import numpy as np
import polars as pl

__all__ = [
    "CADENCES",
    "CURRENCY_COUNTRY",
    "Cadence",
    "business_calendar",
    "country_expr",
    "country_of",
]


@dataclass(frozen=True, slots=True)
class Cadence:
    """A payment rhythm: the nominal interval range in days and how far bookings may drift."""

    name: str
    nominal_min: int  # shortest nominal interval (a monthly due date: February's 28 days)
    nominal_max: int
    mean_days: float  # average interval over a long run
    tolerance: int  # extra days of drift beyond business-day slack (posting lag)
    grace: int  # days after the due date before a payment counts as late
    min_occurrences: int
    months: int  # calendar months per period, 0 for day-counted cadences
    step_days: int  # days per period for day-counted cadences

    def __post_init__(self) -> None:
        if self.nominal_min > self.nominal_max:
            raise ValueError(f"nominal_min > nominal_max for cadence {self.name!r}")


CADENCES: dict[str, Cadence] = {
    c.name: c
    for c in (
        Cadence("weekly", 7, 7, 7.0, 1, 3, 3, 0, 7),
        Cadence("biweekly", 14, 14, 14.0, 1, 4, 3, 0, 14),
        Cadence("semi_monthly", 13, 17, 365.25 / 24, 1, 4, 3, 0, 0),
        Cadence("four_weekly", 28, 28, 28.0, 1, 4, 3, 0, 28),
        Cadence("monthly", 28, 31, 365.25 / 12, 2, 5, 3, 1, 0),
        Cadence("quarterly", 89, 92, 365.25 / 4, 3, 7, 3, 3, 0),
        Cadence("yearly", 365, 366, 365.25, 4, 10, 2, 12, 0),
    )
}
"""Every cadence the detector knows, shortest first."""

CURRENCY_COUNTRY: dict[str, str] = {"USD": "US", "GBP": "GB", "CZK": "CZ", "CHF": "CH"}
"""Where an account's currency names one country; the euro does not (weekends only)."""

_SUBDIVISIONS: dict[str, str] = {"GB": "ENG"}


def country_of(account_id: str, currency: str | None) -> str:
    """The country whose bank holidays apply to an account: an IBAN's country code, else the
    currency's country, else ``""`` (weekends only)."""
    head = account_id[:4]
    if len(head) == 4 and head[:2].isalpha() and head[:2].isupper() and head[2:].isdigit():
        return head[:2]
    return CURRENCY_COUNTRY.get(currency or "", "")


def country_expr() -> pl.Expr:
    """``country_of`` as an expression over ``account_id`` and ``currency``."""
    iban = pl.col("account_id").str.extract(r"^([A-Z]{2})\d{2}", 1)
    by_currency = pl.col("currency").replace_strict(
        CURRENCY_COUNTRY, default="", return_dtype=pl.String
    )
    return pl.coalesce(iban, by_currency, pl.lit(""))


@lru_cache(maxsize=64)
def _holiday_set(country: str, first_year: int, last_year: int) -> frozenset[date]:
    if not country:
        return frozenset()
    try:
        found = holidays.country_holidays(
            country, subdiv=_SUBDIVISIONS.get(country), years=range(first_year, last_year + 1)
        )
    except NotImplementedError:
        return frozenset()
    return frozenset(found.keys())


def business_calendar(countries: list[str], start: date, end: date) -> pl.DataFrame:
    """One row per (country, day) from ``start`` to ``end``: whether it is a business day, the
    slack around it (``slack_before``/``slack_after``: non-business days right before / after a
    business day, 0 on a non-business day) and the nearest business days on or after
    (``next_business``) and on or before (``prev_business``) it.

    >>> cal = business_calendar(["GB"], date(2025, 4, 14), date(2025, 4, 25))
    >>> cal.filter(pl.col("day") == date(2025, 4, 22)).select("slack_before").item()  # Easter
    4
    """
    pad = 21
    lo, hi = start - timedelta(days=pad), end + timedelta(days=pad)
    days = np.arange(np.datetime64(lo, "D"), np.datetime64(hi, "D") + 1)
    index = np.arange(days.size)
    weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday: Monday = 0
    parts = []
    for country in sorted(set(countries)):
        closed = _holiday_set(country, lo.year, hi.year)
        business = weekday < 5
        if closed:
            holiday = np.isin(days, np.array(sorted(closed), dtype="datetime64[D]"))
            business &= ~holiday
        last_open = np.maximum.accumulate(np.where(business, index, -1))
        next_open = np.minimum.accumulate(np.where(business, index, days.size)[::-1])[::-1]
        prev_before = np.concatenate([[-1], last_open[:-1]])
        next_after = np.concatenate([next_open[1:], [days.size]])
        slack_before = np.where(business, index - prev_before - 1, 0)
        slack_after = np.where(business, next_after - index - 1, 0)
        next_idx = np.minimum(next_open, days.size - 1)
        prev_idx = np.maximum(last_open, 0)
        parts.append(
            pl.DataFrame(
                {
                    "country": [country] * days.size,
                    "day": days,
                    "business": business,
                    "slack_before": np.minimum(slack_before, pad).astype("int32"),
                    "slack_after": np.minimum(slack_after, pad).astype("int32"),
                    "next_business": days[next_idx],
                    "prev_business": days[prev_idx],
                }
            )
        )
    if not parts:
        return pl.DataFrame(
            schema={
                "country": pl.String,
                "day": pl.Date,
                "business": pl.Boolean,
                "slack_before": pl.Int32,
                "slack_after": pl.Int32,
                "next_business": pl.Date,
                "prev_business": pl.Date,
            }
        )
    return pl.concat(parts).with_columns(
        pl.col("day").cast(pl.Date),
        pl.col("next_business").cast(pl.Date),
        pl.col("prev_business").cast(pl.Date),
    )
