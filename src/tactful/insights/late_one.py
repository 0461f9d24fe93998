"""The late-income risk's features for one customer on an event, in plain Python.

``late_features`` builds a shard's candidate streams with some twenty Polars operations (the
streams' gap history, the credits since each expected date, five per-account aggregates and
their joins): right for a night's thousands of customers, but on one customer each
operation's fixed cost adds up to 3-5 ms, the whole of the real-time budget (issue 17:
p99 < 5 ms for the whole on-event path). ``one_late_features`` walks the same definitions over
the customer's own rows -- a few hundred transactions, a handful of income streams -- and
returns, per candidate stream, the very vector ``feature_matrix(late_features(...),
LATE_FEATURES)`` holds (tested equal to 1e-9 over the candidates of a simulated bank on many
days). Each step names the batch step it mirrors; a change to one is a change to both, and the
equality test says so.
"""

from __future__ import annotations

import calendar
import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tactful.insights.inputs import InsightInputs, frame_rows
from tactful.insights.late_income_risk import (
    EARLY_DAYS,
    KINDS,
    LATE_FEATURES,
    LOOK_BACK,
    MIN_LATE,
    SCHEDULE_DAYS,
    SIMILAR,
)
from tactful.insights.shortfall_risk import NO_EVENT

__all__ = ["LateCandidate", "one_late_features"]

_NAN = math.nan
_TX = ("customer_id", "account_id", "booked_on", "amount_minor", "status", "category",
       "merchant", "merchant_key")
_INCOME = ("stream_id", "customer_id", "account_id", "merchant", "kind", "schedule", "currency",
           "typical_amount_minor", "first_date", "last_date", "next_date", "occurrences",
           "status")


@dataclass(frozen=True, slots=True)
class LateCandidate:
    """One stream ``late_features`` would score: its identifying columns and ``features`` (the
    ``LATE_FEATURES`` vector, missing values as NaN)."""

    stream_id: str
    customer_id: str
    account_id: str
    merchant: str | None
    currency: str
    typical_amount_minor: int | None
    next_date: date
    features: NDArray[np.float64]


def _f(value: float | None) -> float:
    return _NAN if value is None else float(value)


def _ratio(num: float | None, den: float | None) -> float | None:
    """``num / den`` as Polars divides floats: NaN or +-inf on a zero denominator."""
    if num is None or den is None:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(num) / np.float64(den))


def _std(values: Sequence[float]) -> float | None:
    """Polars' ``std`` (one degree of freedom): null under two values."""
    return float(np.std(np.asarray(values, dtype=np.float64), ddof=1)) if len(values) >= 2 \
        else None


def _mean(values: Sequence[float]) -> float | None:
    return float(np.mean(np.asarray(values, dtype=np.float64))) if values else None


def _history(stream: tuple[Any, ...], credits: list[tuple[Any, ...]]) -> dict[str, float | None]:
    """``_stream_history``'s row for one stream: None when the stream has no credit (the left
    join's nulls)."""
    _sid, _cid, account_id, merchant, _kind, schedule, *_rest = stream
    first_date = stream[8]
    if merchant is None or first_date is None:  # the join does not match nulls
        return {}
    rows = sorted((r for r in credits if r[1] == account_id and r[8] == merchant
                   and r[2] >= first_date), key=lambda r: r[2])
    if not rows:
        return {}
    gaps = [float((b[2] - a[2]).days) for a, b in pairwise(rows)]
    amounts = [float(r[3]) for r in rows]
    median = statistics.median(gaps) if gaps else None
    over = [g - median for g in gaps] if median is not None else []
    top = max(over) if over else None
    sched = SCHEDULE_DAYS.get(schedule) if schedule is not None else None
    return {
        "gap": median if median is not None else sched,
        "gap_cv": _ratio(_std(gaps), _mean(gaps)),
        "gap_max_over": top,
        "late_share": _mean([float(o > 2) for o in over]),
        "late_max": max(top, 0.0) if top is not None else None,
        "early_share": _mean([float(o < -2) for o in over]),
        "amount_cv": _ratio(_std(amounts), _mean(amounts)),
    }


def one_late_features(data: InsightInputs) -> list[LateCandidate]:
    """The candidate streams of ``data`` (one customer's inputs, as the real-time path holds
    them) with ``LATE_FEATURES``: the rows of ``late_features(data)``, in no given order."""
    d = data.as_of
    # point_in_time: nothing booked after as_of
    tx = [r for r in data.transaction_lists.rows(_TX) if r[2] <= d]
    # _credits: posted money in, with its payer (merchant, else merchant key) at index 8
    credits = [(*r, r[6] if r[6] is not None else r[7]) for r in tx
               if r[3] > 0 and r[4] == "posted"]
    income = frame_rows(data.income, _INCOME)
    first, last = d - timedelta(days=LOOK_BACK), d - timedelta(days=MIN_LATE)
    # candidates
    chosen: list[tuple[tuple[Any, ...], dict[str, float | None], date]] = []
    for stream in income:
        occurrences, last_date = stream[11], stream[9]
        if occurrences is None or occurrences < 3:
            continue
        hist = _history(stream, credits)
        next_date = stream[10]
        if next_date is None:
            gap = hist.get("gap")
            if last_date is None or gap is None:
                continue
            next_date = last_date + timedelta(days=round(gap))
        if first <= next_date <= last and last_date is not None and last_date < next_date:
            chosen.append((stream, hist, next_date))
    if not chosen:
        return []
    accounts = dict(zip(data.accounts.get_column("account_id").to_list(),
                        data.accounts.get_column("balance_minor").to_list(), strict=True))
    # income_days, activity, last_tx: per account
    last_income: dict[str, date] = {}
    for r in credits:
        if r[5] == "INCOME" and (r[1] not in last_income or r[2] > last_income[r[1]]):
            last_income[r[1]] = r[2]
    tx_14: dict[str, int] = defaultdict(int)
    last_tx: dict[str, date] = {}
    recent = d - timedelta(days=14)
    for r in tx:
        if r[2] > recent:
            tx_14[r[1]] += 1
        if r[1] not in last_tx or r[2] > last_tx[r[1]]:
            last_tx[r[1]] = r[2]
    # streams: the customer's streams not stopped (a null status is not "not stopped")
    streams: dict[str, int] = defaultdict(int)
    for s in income:
        if s[12] is not None and s[12] != "stopped":
            streams[s[1]] += 1
    out = []
    for stream, hist, nd in chosen:
        (stream_id, customer_id, account_id, merchant, kind, schedule, currency, typical,
         first_date, _last, _next, occurrences, status) = stream
        # since: the customer's credits from other payers since the expected date
        similar = 0
        new_payer = False
        biggest: int | None = None
        for r in credits:
            if r[0] != customer_id or r[2] < nd - timedelta(days=EARLY_DAYS):
                continue
            if (r[8] or "") == (merchant or ""):
                continue
            biggest = r[3] if biggest is None else max(biggest, r[3])
            if typical is not None and r[3] >= SIMILAR * typical:
                similar += 1
                new_payer = new_payer or r[5] == "INCOME"
        share = _ratio(biggest, typical)
        similar_share = 0.0 if share is None else share
        weekday = nd.isoweekday()
        month_end = nd.replace(day=calendar.monthrange(nd.year, nd.month)[1])
        balance = accounts.get(account_id)
        values: dict[str, float] = {
            "days_late": float((d - nd).days),
            "gap": _f(hist.get("gap")) if hist.get("gap") is not None else 30.0,
            "irregular": _f(None if schedule is None else float(schedule == "irregular")),
            "gap_cv": _f(hist.get("gap_cv")),
            "gap_max_over": _f(hist.get("gap_max_over")),
            "late_share": _f(hist.get("late_share")),
            "late_max": _f(hist.get("late_max")),
            "early_share": _f(hist.get("early_share")),
            "occurrences": float(occurrences),
            "age_days": _f(None if first_date is None else (d - first_date).days),
            "amount_cv": _f(hist.get("amount_cv")),
            "expected_weekday": float(weekday),
            "expected_weekend": float(weekday >= 6),
            "expected_month_end": float((month_end - nd).days <= 2),
            "status_late": _f(None if status is None else float(status == "late")),
            "status_stopped": _f(None if status is None else float(status == "stopped")),
            "other_streams": float(max(streams.get(customer_id, 0) - 1, 0)),
            "similar_credits": float(similar),
            "similar_share": similar_share,
            "new_payer": float(new_payer),
            "days_since_any_income": (float((d - last_income[account_id]).days)
                                      if account_id in last_income else NO_EVENT),
            "tx_14": float(tx_14.get(account_id, 0)),
            "days_since_tx": (float((d - last_tx[account_id]).days)
                              if account_id in last_tx else NO_EVENT),
            "balance_to_pay": _f(None if balance is None else
                                 _ratio(balance, max(typical if typical is not None else 1, 1))),
            **{f"kind_{k}": _f(None if kind is None else float(kind == k)) for k in KINDS},
        }
        out.append(LateCandidate(
            stream_id=stream_id, customer_id=customer_id, account_id=account_id,
            merchant=merchant, currency=currency, typical_amount_minor=typical, next_date=nd,
            features=np.array([values[f] for f in LATE_FEATURES], dtype=np.float64)))
    return out
