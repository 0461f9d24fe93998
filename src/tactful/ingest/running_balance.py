"""A CSV statement's running balance, checked on every import.

A bank CSV that carries a balance after each row says, row by row, what its amounts must add up
to: the previous balance plus this amount is this balance. That is the one check that catches a
wrong amount in a file that otherwise reads fine (a sign lost, a decimal misread, a digit
dropped in transit), so it runs on every import that has a balance, in the file's row order,
whichever way it runs (newest first or oldest first).

Rows within a day are not always in booking order (a bank sorts by date, then by something
else): when the rows do not add up one by one but every day's total takes the balance from one
day's end to the next, the file reconciles by day and says so. Otherwise the first row where
the balances diverge is named, and the file is refused (or, with
``on_balance_mismatch = "flag"`` in the mapping, loaded with a note).

A balance given *before* each row (``balance_before``, ASN Bank's headerless export) becomes the
balance after it: before + amount.

>>> rows = pl.DataFrame({"amount": [-550, 5000, -290], "balance": [15000, 15550, 10550],
...                      "day": ["28.12", "28.12", "27.12"], "line": ["2", "3", "4"]})
>>> reconcile(rows["amount"].to_list(), rows["balance"].to_list(), rows["day"].to_list()).ok
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

__all__ = ["Divergence", "Reconciliation", "reconcile"]


@dataclass(frozen=True, slots=True)
class Divergence:
    """The first row (index in file order) where the balances stop adding up."""

    row: int
    previous: int
    amount: int
    expected: int
    stated: int


@dataclass(frozen=True, slots=True)
class Reconciliation:
    ok: bool
    checked: int
    """Rows whose balance was compared with the one before."""
    newest_first: bool
    by_day: bool = False
    """True when only the days' totals add up (rows within a day out of booking order)."""
    divergence: Divergence | None = None


def _row_breaks(
    amounts: Sequence[int | None], balances: Sequence[int | None], newest_first: bool
) -> tuple[int, Divergence | None]:
    """(rows compared, first divergence in file order) with the rows in the given order."""
    checked = 0
    n = len(amounts)
    for i in range(n):
        j = i + 1 if newest_first else i - 1  # the row before it in time
        if j < 0 or j >= n:
            continue
        a, b, prev = amounts[i], balances[i], balances[j]
        if a is None or b is None or prev is None:
            continue
        checked += 1
        if prev + a != b:
            return checked, Divergence(i, prev, a, prev + a, b)
    return checked, None


def _day_breaks(
    amounts: Sequence[int | None],
    balances: Sequence[int | None],
    days: Sequence[object],
    newest_first: bool,
) -> Divergence | None:
    """The first day (its last row in time) whose total does not take the balance from the
    previous day's end to its own."""
    groups: list[list[int]] = []
    for i, day in enumerate(days):
        if groups and days[groups[-1][0]] == day:
            groups[-1].append(i)
        else:
            groups.append([i])
    order = list(reversed(groups)) if newest_first else groups  # oldest day first
    previous_end: int | None = None
    for rows in order:
        end_row = rows[0] if newest_first else rows[-1]
        end = balances[end_row]
        total = [amounts[i] for i in rows]
        if previous_end is not None and end is not None and None not in total:
            day_sum = sum(t for t in total if t is not None)
            if previous_end + day_sum != end:
                return Divergence(end_row, previous_end, day_sum, previous_end + day_sum, end)
        previous_end = end
    return None


def reconcile(
    amounts: Sequence[int | None], balances: Sequence[int | None], days: Sequence[object]
) -> Reconciliation:
    """Check ``balances`` (after each row, minor units) against ``amounts`` in both row orders;
    a None (a rejected row, a blank balance) is skipped."""
    up_checked, up = _row_breaks(amounts, balances, newest_first=False)
    down_checked, down = _row_breaks(amounts, balances, newest_first=True)
    if up is None or down is None:
        newest_first = up is not None
        return Reconciliation(True, down_checked if newest_first else up_checked, newest_first)
    # Both orders break: the order whose first break comes later is the file's order.
    newest_first = down.row > up.row if down.row != up.row else False
    first = down if newest_first else up
    by_day = _day_breaks(amounts, balances, days, newest_first)
    checked = down_checked if newest_first else up_checked
    if by_day is None:
        return Reconciliation(True, checked, newest_first, by_day=True)
    # The row that broke, when it is on the day that does not add up; else that day's end.
    named = first if days[first.row] == days[by_day.row] else by_day
    return Reconciliation(False, checked, newest_first, divergence=named)


def as_after(amount: pl.Series, before: pl.Series) -> pl.Series:
    """The balance after each row from the balance before it."""
    return (before + amount).alias("balance_after_minor")
