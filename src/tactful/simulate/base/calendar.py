"""Days of the window and the dates on which schedules fall.

Days are integers counted from the window's first day (negative before it); ``Window`` converts
them to weekdays, months and ISO dates. ``occurrences`` expands many schedules at once into
their dates, rolling weekend dates the way payers do: payroll moves to the Friday before
(``ROLL_PRECEDING``), direct debits to the Monday after (``ROLL_FOLLOWING``), card subscriptions
are charged on weekends too (``ROLL_NONE``). Public holidays are not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import Final

import numpy as np
from numpy.typing import NDArray

I64 = NDArray[np.int64]

CADENCES: Final = (
    "weekly",
    "biweekly",
    "semi_monthly",
    "monthly",
    "quarterly",
    "yearly",
    "four_weekly",
    "irregular",
)
WEEKLY, BIWEEKLY, SEMI_MONTHLY, MONTHLY, QUARTERLY, YEARLY, FOUR_WEEKLY, IRREGULAR = range(8)
_PERIOD: Final = {WEEKLY: 7, BIWEEKLY: 14, FOUR_WEEKLY: 28}
ROLL_NONE, ROLL_PRECEDING, ROLL_FOLLOWING = 0, 1, 2
NEVER: Final = 1 << 30
"""Day of an event that does not happen; compares greater than every real day."""

_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Window:
    """The simulated period: ``n_days`` days from ``start``; ``months`` calendar months."""

    start: date
    months: int

    @property
    def epoch(self) -> int:
        return (self.start - _EPOCH).days

    @cached_property
    def month_starts(self) -> I64:
        """Day of the 1st of each month, from 12 months before the window to 13 after."""
        base = np.datetime64(self.start, "M")
        months = base + np.arange(-12, self.months + 14)
        days = months.astype("datetime64[D]").astype(np.int64) - self.epoch
        return days.astype(np.int64)

    @property
    def n_days(self) -> int:
        return int(self.month_starts[12 + self.months] - self.month_starts[12])

    def weekday(self, day: I64) -> I64:
        """Monday 0 ... Sunday 6."""
        return ((day + self.epoch + 3) % 7).astype(np.int64)

    def month_of(self, day: I64) -> I64:
        """Month index relative to the window's first month (0 = first month)."""
        return (np.searchsorted(self.month_starts, day, side="right") - 1 - 12).astype(np.int64)

    def calendar_month(self, day: I64) -> I64:
        """Calendar month 0 (January) ... 11 (December)."""
        return ((self.start.month - 1 + self.month_of(day)) % 12).astype(np.int64)

    def month_start(self, m: I64) -> I64:
        return self.month_starts[np.asarray(m) + 12]

    def day_of_month(self, day: I64) -> I64:
        return (day - self.month_start(self.month_of(day)) + 1).astype(np.int64)

    def to_date(self, day: int) -> date:
        return self.start + timedelta(days=int(day))

    def iso_dates(self, lo: int, hi: int) -> list[str]:
        """ISO strings of days lo..hi-1 (a lookup table for formatting)."""
        return [(self.start + timedelta(days=d)).isoformat() for d in range(lo, hi)]


def roll(w: Window, day: I64, rule: I64) -> I64:
    wd = w.weekday(day)
    back = np.where(wd == 5, -1, np.where(wd == 6, -2, 0))
    fwd = np.where(wd == 5, 2, np.where(wd == 6, 1, 0))
    return (
        day + np.where(rule == ROLL_PRECEDING, back, np.where(rule == ROLL_FOLLOWING, fwd, 0))
    ).astype(np.int64)


@dataclass(frozen=True, slots=True)
class Occurrences:
    series: I64
    """Index of the schedule each date belongs to."""
    day: I64
    """The (rolled) day the payment is made."""
    nominal: I64
    """The scheduled day before rolling; stable key for per-payment draws."""


def occurrences(
    w: Window, cadence: I64, anchor_day: I64, anchor_month: I64, start: I64, end: I64, rule: I64
) -> Occurrences:
    """All scheduled days of many series inside ``[max(start, 0), min(end, n_days))``.

    ``anchor_day`` is, per cadence: a reference payment day (weekly, biweekly, four-weekly),
    the day of month 1-31 (monthly, quarterly, yearly; 31 means the last day), or 0 for the
    15th and last day / 1 for the 1st and 15th (semi-monthly). ``anchor_month`` is the calendar
    month (0-11) of a yearly payment or its phase modulo 3 for a quarterly one.
    """
    lo = np.maximum(start, -3)
    hi = np.minimum(end, w.n_days + 3)
    out_s: list[I64] = []
    out_d: list[I64] = []
    for cad, period in _PERIOD.items():
        sel = np.flatnonzero((cadence == cad) & (hi > lo))
        if len(sel) == 0:
            continue
        a = anchor_day[sel]
        k0 = -((a - lo[sel]) // period)
        k1 = -((a - hi[sel]) // period)
        count = np.maximum(k1 - k0, 0)
        rep = np.repeat(np.arange(len(sel)), count)
        offs = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        out_s.append(sel[rep])
        out_d.append(a[rep] + (k0[rep] + offs) * period)
    n_m = w.months + 2
    m_rel = np.arange(-1, n_m - 1)
    ms = w.month_start(m_rel)
    dim = w.month_start(m_rel + 1) - ms
    cal = (w.start.month - 1 + m_rel) % 12
    for cad in (MONTHLY, QUARTERLY, YEARLY, SEMI_MONTHLY):
        sel = np.flatnonzero((cadence == cad) & (hi > lo))
        if len(sel) == 0:
            continue
        if cad == SEMI_MONTHLY:
            first = np.where(anchor_day[sel] == 1, 1, 15)[:, None]
            second = np.where(anchor_day[sel] == 1, 15, 31)[:, None]
            doms = [first, second]
        else:
            doms = [anchor_day[sel][:, None]]
        for dom in doms:
            d = ms[None, :] + np.minimum(dom, dim[None, :]) - 1
            ok = np.ones(d.shape, dtype=bool)
            if cad == QUARTERLY:
                ok = (cal[None, :] % 3) == (anchor_month[sel][:, None] % 3)
            elif cad == YEARLY:
                ok = cal[None, :] == anchor_month[sel][:, None]
            ok &= (d >= lo[sel][:, None]) & (d < hi[sel][:, None])
            si, mi = np.nonzero(ok)
            out_s.append(sel[si])
            out_d.append(d[si, mi])
    if not out_s:
        empty = np.zeros(0, dtype=np.int64)
        return Occurrences(empty, empty, empty)
    s = np.concatenate(out_s).astype(np.int64)
    nominal = np.concatenate(out_d).astype(np.int64)
    keep = (nominal >= start[s]) & (nominal < end[s])
    s, nominal = s[keep], nominal[keep]
    day = roll(w, nominal, rule[s])
    keep = (day >= 0) & (day < w.n_days)
    s, nominal, day = s[keep], nominal[keep], day[keep]
    order = np.lexsort((day, s))
    return Occurrences(s[order], day[order], nominal[order])
