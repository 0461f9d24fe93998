"""The shortfall risk's features for one customer on an event, in plain Python and NumPy.

``risk_features`` builds every account's features for a shard with some forty Polars
operations (the rule forecast's path, daily balances, habits, joins): right for a night's
thousands of customers, but on one customer each operation's fixed cost adds up to 10-15 ms of
the real-time budget (issue 17: p99 < 5 ms for the whole on-event path). ``one_risk_features``
walks the same definitions over the customer's own rows -- a few hundred transactions -- and
returns, per open checking account, the very vector ``feature_matrix(risk_features(...))``
holds (tested equal to 1e-9 over every customer of a simulated bank). Each step names the
batch step it mirrors; a change to one is a change to both, and the equality test says so.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tactful.insights.forecast import CARD_PAYMENT, ESSENTIALS, HISTORY_DAYS, STATEMENT_DAYS, Z_BAND
from tactful.insights.inputs import InsightInputs, frame_rows, unit_of
from tactful.insights.shortfall_risk import (
    FEATURES,
    FEES,
    HABIT_DAYS,
    INCOME,
    NO_EVENT,
    NOT_DISCRETIONARY,
    SPEND_DAYS,
    TOPUP_DAYS,
    TRANSFER_IN,
)

__all__ = ["one_risk_features"]

_REPEAT = {"weekly": 7, "biweekly": 14, "four_weekly": 28}  # forecast._REPEAT
_NAN = math.nan
_PER_SPEND_DAY = 1 / SPEND_DAYS
_PER_HISTORY_DAY = 1 / HISTORY_DAYS
"""Polars divides a per-group aggregate by a literal as a product with its reciprocal (when
there is more than one group: the nightly batch the models are trained on), one ulp away from
the quotient at times -- enough to move a rounded minor unit of the forecast path."""
_TX = ("account_id", "booked_on", "amount_minor", "status", "category", "category_detailed",
       "series_id", "account_type")


def _since(day: date | None, d: date) -> float:
    return float((d - day).days) if day is not None else NO_EVENT


def _open(closed_on: date | None, d: date) -> bool:
    return closed_on is None or closed_on > d


def one_risk_features(data: InsightInputs, *, horizon: int) -> dict[str, NDArray[np.float64]]:
    """``FEATURES`` per open checking account of ``data`` (one customer's inputs, as the
    real-time path holds them): account id -> vector, missing values as NaN, equal to the row
    of ``feature_matrix(risk_features(data, horizon=horizon))`` for that account."""
    d = data.as_of
    s = data.settings
    accounts = frame_rows(data.accounts, ("account_id", "customer_id", "type", "currency",
                                          "balance_minor", "credit_limit_minor", "closed_on"))
    checking = [a for a in accounts if a[2] == "checking" and _open(a[6], d)]
    if not checking:
        return {}
    # point_in_time: nothing booked after as_of; and nothing read below is older than the
    # habits' window (the forecast's history, the card statement and the fees are shorter)
    start = d - timedelta(days=HABIT_DAYS - 1)
    tx = [r for r in data.transaction_lists.rows(_TX) if start <= r[1] <= d]
    in_balance = [r for r in tx if r[3] != "declined"]
    posted = [r for r in tx if r[3] == "posted"]
    income = frame_rows(data.income, ("stream_id", "account_id", "customer_id", "currency",
                                      "status", "next_date", "monthly_amount_minor"))
    live = [r for r in income if r[4] != "stopped"]
    monthly = data.monthly_income_by
    series = frame_rows(data.series, ("series_id", "customer_id", "account_id", "status",
                                      "next_date", "next_amount_minor", "typical_amount_minor",
                                      "cadence", "category_detailed"))
    income_ids = {r[0] for r in income}
    spend_from = d - timedelta(days=SPEND_DAYS - 1)
    open_other = [a for a in accounts if _open(a[6], d)]
    out: dict[str, NDArray[np.float64]] = {}
    for account_id, customer_id, _type, currency, balance, _limit, _closed in checking:
        u = unit_of(currency)
        line = s.shortfall_buffer * u
        mi = monthly.get((customer_id, currency))
        mine = [r for r in live if r[1] == account_id]
        nexts = [r[5] for r in mine if r[5] is not None and r[5] > d]
        nxt = min(nexts) if nexts else None
        txa = [r for r in in_balance if r[0] == account_id and r[1] >= start]

        # paid: income_cv (std with one degree of freedom over the mean), last pay day
        pay = [r for r in txa if r[4] == INCOME and r[2] > 0]
        income_cv = _NAN
        if len(pay) >= 2:
            amounts = np.array([r[2] for r in pay], dtype=np.float64)
            income_cv = float(np.std(amounts, ddof=1) / np.mean(amounts))
        last_paid = max((r[1] for r in pay), default=None)

        # daily_eod: balance at the end of each day of [start, d], walked back
        n_days = (d - start).days + 1
        net = np.zeros(n_days, dtype=np.int64)
        origin = start.toordinal()
        np.add.at(net, np.array([r[1].toordinal() - origin for r in txa], dtype=np.int64),
                  np.array([r[2] for r in txa], dtype=np.int64))
        after = np.concatenate([np.cumsum(net[::-1])[::-1][1:], [0]])
        eod = balance - after
        low_line = max((mi or 0) * 0.10, 100 * u)
        below = eod < line
        low = eod < low_line

        # habits
        days_below = float(below.sum())
        episodes = float((below & ~np.concatenate([[False], below[:-1]])).sum())
        last_below = (start + timedelta(days=int(np.flatnonzero(below)[-1])) if below.any()
                      else None)
        min_eod_30 = int(eod[n_days - 30:].min()) / u  # the days after d - 30
        min_eod_90 = int(eod[n_days - 90:].min()) / u
        low_days = float(low.sum())

        # top-ups: money in from transfers to checking; which low days they answered
        topups = [r for r in txa if r[4] == TRANSFER_IN and r[2] > 0 and r[7] == "checking"]
        tdays = sorted({r[1] for r in topups})
        cutoff = d - timedelta(days=TOPUP_DAYS)
        answered = []
        for i in np.flatnonzero(low).tolist():
            day = start + timedelta(days=i)
            if day > cutoff:
                break  # the days come in order
            at = bisect_right(tdays, day)  # the first top-up after the day
            answered.append(at < len(tdays) and (tdays[at] - day).days <= TOPUP_DAYS)
        topup_share = float(np.mean(answered)) if answered else _NAN
        recent = [r for r in topups if r[1] > d - timedelta(days=90)]
        topup_sum = sum(r[2] for r in recent)
        topups_90 = float(len(recent))

        savings = sum(max(a[4], 0) / unit_of(a[3]) for a in open_other
                      if a[1] == customer_id and a[2] == "savings")
        cards = sum(max((a[5] or 0) + a[4], 0) / unit_of(a[3]) for a in open_other
                    if a[1] == customer_id and a[2] == "credit_card")

        # discretionary spending, all outflow and the biggest outflow outside any series
        disc_day: dict[date, int] = defaultdict(int)
        out_day: dict[date, int] = defaultdict(int)
        biggest: int | None = None
        for r in txa:
            if r[2] >= 0 or r[6] is not None or r[7] != "checking":
                continue
            if r[1] >= spend_from:
                out_day[r[1]] += -r[2]
                if (r[3] == "posted" and r[4] is not None and r[5] is not None
                        and r[4] not in NOT_DISCRETIONARY and r[5] not in ESSENTIALS):
                    disc_day[r[1]] += -r[2]
            if r[1] > d - timedelta(days=90):
                biggest = -r[2] if biggest is None else max(biggest, -r[2])
        disc_mean = disc_spread = 0.0
        if disc_day:
            total = sum(disc_day.values())
            squares = sum(v * v for v in disc_day.values())
            disc_mean = total * _PER_SPEND_DAY
            disc_spread = math.sqrt(max(squares * _PER_SPEND_DAY
                                        - (total * _PER_SPEND_DAY) ** 2, 0))
        out_mean: float | None = None
        out_p90 = 0
        if out_day:
            out_mean = sum(out_day.values()) * _PER_SPEND_DAY
            ranked = sorted(out_day.values(), reverse=True)
            out_p90 = ranked[SPEND_DAYS // 10] if len(ranked) > SPEND_DAYS // 10 else 0
        fees = float(sum(1 for r in txa if r[3] == "posted" and r[5] in FEES))

        rule = _rule(data, account_id, customer_id, balance, nxt, horizon, line, u,
                     posted, in_balance, series, income_ids, accounts)

        # analogs: last cycles' dips over the days to the next income
        ahead = (min(max((nxt - d).days, 1), horizon) if nxt is not None else horizon) - 1
        drops = []
        for back in (30, 60):
            i = n_days - 1 - back
            window = eod[i + 1:i + 1 + ahead]
            drops.append((int(eod[i]) - int(window.min())) / u if len(window) else _NAN)

        b = balance / u
        monthly_income = (mi or 0) / u
        rule_min = rule["rule_min"]
        values = {
            "balance": b,
            "balance_to_income": b / max(monthly_income, 100.0),
            "monthly_income": monthly_income,
            "income_streams": float(len(mine)),
            "income_late": float(any(r[4] == "late" for r in mine)),
            "income_cv": income_cv,
            "days_since_income": _since(last_paid, d),
            "days_to_income": float(min((nxt - d).days, horizon) if nxt is not None else horizon),
            "has_next_income": float(nxt is not None and nxt <= d + timedelta(days=horizon)),
            "rule_min": b if math.isnan(rule_min) else rule_min,
            "rule_low_min": b if math.isnan(rule["rule_low_min"]) else rule["rule_low_min"],
            "rule_min_to_income": rule_min / max(monthly_income, 100.0),
            "rule_days_to_min": rule["rule_days_to_min"],
            "rule_scheduled": rule["rule_scheduled"],
            "rule_usual": rule["rule_usual"],
            "rule_spread": rule["rule_spread"],
            "rule_dips": 0.0 if math.isnan(rule["rule_dips"]) else rule["rule_dips"],
            "rule_with_disc": rule["_rule_end"] - disc_mean / u * rule["_path_days"],
            "analog_min_30": b - drops[0],
            "analog_min_60": b - drops[1],
            "rule_min_7": b if math.isnan(rule["rule_min_7"]) else rule["rule_min_7"],
            "cover_days": min(max(balance, 0) / max(out_mean if out_mean is not None else u, u),
                              NO_EVENT),
            "out_p90": out_p90 / u,
            "days_below": days_below,
            "episodes_below": episodes,
            "days_since_below": _since(last_below, d),
            "min_eod_30": min_eod_30,
            "min_eod_90": min_eod_90,
            "low_days": low_days,
            "topup_share": topup_share,
            "topup_in_90": topup_sum / u,
            "topups_90": topups_90,
            "savings": float(savings),
            "card_headroom": float(cards),
            "disc_mean": disc_mean / u,
            "disc_spread": disc_spread / u,
            "disc_max_90": (biggest or 0) / u,
            "fees_180": fees,
        }
        out[account_id] = np.array([values[f] for f in FEATURES], dtype=np.float64)
    return out


def _rule(data: InsightInputs, account_id: str, customer_id: str, balance: int,
          nxt: date | None, horizon: int, line: float, u: int, posted: list[tuple[Any, ...]],
          in_balance: list[tuple[Any, ...]], series: list[tuple[Any, ...]],
          income_ids: set[str], accounts: list[tuple[Any, ...]]) -> dict[str, float]:
    """``forecast`` of the account over ``horizon`` days, summarized as ``_rule`` does (NaN
    where the account has no path)."""
    d = data.as_of
    last = d + timedelta(days=horizon)
    until = min(nxt - timedelta(days=1), last) if nxt is not None else last
    n = (until - d).days
    if n <= 0:
        return dict.fromkeys(("rule_min", "rule_low_min", "rule_days_to_min", "rule_scheduled",
                              "rule_usual", "rule_spread", "rule_dips", "_rule_end",
                              "_path_days", "rule_min_7"), _NAN)
    # _scheduled (with _card_payments): recurring amounts by day
    cards = [a for a in accounts if a[2] == "credit_card" and _open(a[6], d)]
    card_ids = {a[0] for a in cards}
    scheduled = np.zeros(n + 1, dtype=np.int64)
    for sid, cid, acc, status, next_date, next_amount, typical, cadence, detailed in series:
        if acc != account_id or status != "active" or next_date is None or next_date <= d:
            continue
        if sid in income_ids:
            continue
        amount = next_amount if next_amount is not None else typical
        if detailed == CARD_PAYMENT and amount is not None and amount < 0:
            mine = [a for a in cards if a[1] == cid]
            if mine:
                closed_on = min(next_date - timedelta(days=STATEMENT_DAYS), d)
                since = sum(r[2] for r in in_balance if r[0] in card_ids and r[1] > closed_on
                            and _customer_of(r[0], accounts) == cid)
                owed = max(-(sum(a[4] for a in mine) - since), 0)
                amount = -min(-amount, owed)
        step = _REPEAT.get(cadence, 0) if cadence is not None else 0
        for day in (next_date, next_date + timedelta(days=step)) if step > 0 else (next_date,):
            if day <= until and amount is not None:
                scheduled[(day - d).days] += amount
    # _usual: essentials and small credits outside any series, and the spread of daily flows
    first = d - timedelta(days=HISTORY_DAYS - 1)
    kept: dict[date, int] = defaultdict(int)
    net: dict[date, int] = defaultdict(int)
    for r in posted:
        if r[0] != account_id or r[1] < first or r[6] is not None:
            continue
        amount, category, detailed = r[2], r[4], r[5]
        keep = (detailed is not None and detailed in ESSENTIALS and amount < 0) or (
            amount > 0 and category is not None and category != TRANSFER_IN)
        kept[r[1]] += amount if keep else 0
        net[r[1]] += amount
    mean = spread = 0.0
    if net:
        mean = sum(kept.values()) * _PER_HISTORY_DAY
        total = sum(net.values())
        spread = math.sqrt(max(sum(v * v for v in net.values()) * _PER_HISTORY_DAY
                               - (total * _PER_HISTORY_DAY) ** 2, 0))
    ahead = np.arange(1, n + 1)
    sched = np.cumsum(scheduled[1:])
    usual = np.array([round(mean * a) for a in ahead.tolist()], dtype=np.int64)
    band = Z_BAND * spread * np.sqrt(ahead.astype(np.float64))
    expected = balance + sched + usual
    lows = np.round(expected - band).astype(np.int64)
    highs = np.round(expected + band).astype(np.int64)
    at = int(expected.argmin())
    return {
        "rule_min": int(expected.min()) / u,
        "rule_low_min": int(lows.min()) / u,
        "rule_days_to_min": float(ahead[at]),
        "rule_scheduled": -int(sched[-1]) / u,
        "rule_usual": -int(usual[-1]) / u,
        "rule_spread": int(highs[0] - expected[0]) / u,
        "rule_dips": float((expected < line).any()),
        "_rule_end": int(expected[-1]) / u,
        "_path_days": float(n),
        "rule_min_7": int(expected[:7].min()) / u,
    }


def _customer_of(account_id: str, accounts: list[tuple[Any, ...]]) -> str | None:
    return next((a[1] for a in accounts if a[0] == account_id), None)
