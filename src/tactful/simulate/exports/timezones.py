"""Local wall-clock times to ISO 8601 strings with the right UTC offset, in bulk.

Everything in the simulator happens at a local day and second. Per zone and day we ask zoneinfo
once for the offset at the start and end of the day and, on the two DST days a year, for the
second the clock changes; rows then take their offset by comparison. A time that does not exist
(the hour skipped in spring) is moved forward by the size of the gap, as a clock would show it; an
ambiguous time (the hour repeated in autumn) takes the first, summer-time, offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
from numpy.typing import NDArray

from tactful.simulate.base.calendar import Window

I64 = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class ZoneDays:
    """Per day d in [lo, hi): offsets (seconds) before/after the switch and the switch second."""

    lo: int
    before: I64
    after: I64
    switch: I64


def _offset(tz: ZoneInfo, dt: datetime) -> int:
    off = dt.replace(tzinfo=tz).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


@cache
def zone_days(zone: str, start_iso: str, lo: int, hi: int) -> ZoneDays:
    tz = ZoneInfo(zone)
    start = datetime.fromisoformat(start_iso)
    n = hi - lo
    before = np.zeros(n, dtype=np.int64)
    after = np.zeros(n, dtype=np.int64)
    switch = np.full(n, 86_400, dtype=np.int64)
    for k in range(n):
        day = start + timedelta(days=lo + k)
        a = _offset(tz, day)
        b = _offset(tz, day + timedelta(hours=23, minutes=59))
        before[k], after[k] = a, b
        if a != b:
            for h in range(1, 24):
                if _offset(tz, day + timedelta(hours=h)) == b:
                    switch[k] = h * 3600
                    break
    return ZoneDays(lo, before, after, switch)


def localize(
    w: Window, zone: NDArray[np.int64], zones: tuple[str, ...], day: I64, sec: I64
) -> tuple[I64, I64]:
    """(second of day moved out of DST gaps, UTC offset in seconds) per row."""
    out_sec = sec.copy()
    offset = np.zeros(len(day), dtype=np.int64)
    lo, hi = -2, w.n_days + 2
    for zi, name in enumerate(zones):
        m = np.flatnonzero(zone == zi)
        if len(m) == 0:
            continue
        d = day[m]
        inside = (d >= lo) & (d < hi)
        b = np.zeros(len(m), dtype=np.int64)
        a = np.zeros(len(m), dtype=np.int64)
        sw = np.zeros(len(m), dtype=np.int64)
        zd = zone_days(name, w.start.isoformat(), lo, hi)
        k = d[inside] - lo
        b[inside], a[inside], sw[inside] = zd.before[k], zd.after[k], zd.switch[k]
        if not np.all(inside):
            # Days far from the window (account openings years ago): one lookup per distinct day.
            out_days, inv = np.unique(d[~inside], return_inverse=True)
            tabs = [zone_days(name, w.start.isoformat(), int(x), int(x) + 1) for x in out_days]
            b[~inside] = np.array([t.before[0] for t in tabs])[inv]
            a[~inside] = np.array([t.after[0] for t in tabs])[inv]
            sw[~inside] = np.array([t.switch[0] for t in tabs])[inv]
        s = sec[m]
        gap = np.maximum(a - b, 0)
        in_gap = (s >= sw - gap) & (s < sw) & (gap > 0)
        s = np.where(in_gap, s + gap, s)
        out_sec[m] = s
        offset[m] = np.where(s < sw, b, a)
    return out_sec, offset


@cache
def _offset_strings() -> dict[int, str]:
    out = {}
    for minutes in range(-14 * 60, 14 * 60 + 1, 15):
        sign = "+" if minutes >= 0 else "-"
        out[minutes * 60] = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return out


@cache
def _clock_strings() -> pl.Series:
    """``THH:MM:SS`` for every second of a day."""
    second = pl.int_range(86_400, eager=True)

    def two(part: pl.Series) -> pl.Expr:
        return pl.lit(part).cast(pl.Utf8).str.zfill(2)

    return pl.select(
        pl.concat_str(
            [
                pl.lit("T"),
                two(second // 3600),
                pl.lit(":"),
                two(second // 60 % 60),
                pl.lit(":"),
                two(second % 60),
            ]
        )
    ).to_series()


def iso_strings(w: Window, day: I64, sec: I64, offset: I64) -> pl.Series:
    """``YYYY-MM-DDTHH:MM:SS+HH:MM`` for each row.

    Glued from three small tables (the dates the rows span, the seconds of a day, the offsets)
    by index: a few gathers instead of formatting a million datetimes, same text.
    """
    if len(day) == 0:
        return pl.Series([], dtype=pl.Utf8)
    local_day, local_sec = np.divmod(day * 86_400 + sec, 86_400)
    lo, hi = int(local_day.min()), int(local_day.max())
    dates = pl.Series(
        (np.datetime64(w.start, "D") + np.arange(lo, hi + 1)).astype(str).tolist(), dtype=pl.Utf8
    )
    table = _offset_strings()
    uniq, inv = np.unique(offset, return_inverse=True)
    offs = pl.Series([table[int(u)] for u in uniq], dtype=pl.Utf8)
    return pl.select(
        pl.concat_str(
            [
                pl.lit(dates).gather(pl.Series(local_day - lo)),
                pl.lit(_clock_strings()).gather(pl.Series(local_sec)),
                pl.lit(offs).gather(pl.Series(inv.astype(np.int64).ravel())),
            ]
        )
    ).to_series()
