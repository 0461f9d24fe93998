"""Income streams: what a customer is paid, on what schedule, and when the pay changes or stops.

Regular income is read off the credit series ``detect_series`` found (payroll, pension, benefit
and other regular credits into a current account); irregular gig and business income is what is
left: repeated credits from a platform payer (Uber, Upwork, Deliveroo, Stripe payouts, Etsy, ...)
or from invoiced clients, with no cadence. On fixed pay a raise or a cut is a step of at least
``FIXED_STEP`` that persists for at least two payments. On pay that varies (hourly pay, where
the hours hide a small rate rise in any one payment) it is a change point of the log amounts:
the split of the pay history whose before/after means differ by at least ``VARYING_T`` in t,
with ``MIN_SEGMENT`` payments a side, found again within each side (binary segmentation), or a
spell at another level (a temporary cut); the new level starts at the first payment after the
split and the change is that of the segment medians. A stream that starts at a new rate (the
series split at the raise) is read together with the same payer's payments just before it.

>>> import polars as pl
>>> from datetime import date
>>> from tactful.enrich.recurring import detect_series
>>> days = [date(2025, m, 25) for m in range(1, 7)]
>>> frame = pl.DataFrame({
...     "id": [f"t{i}" for i in range(6)], "account_id": "a", "customer_id": "c",
...     "account_type": "checking", "booked_on": days,
...     "amount_minor": [300000] * 3 + [309000] * 3, "currency": "EUR",
...     "description": "ACME PAYROLL", "counterparty": "ACME", "mcc": None,
...     "channel": "transfer", "status": "posted", "merchant_key": "ACME",
...     "category_detailed": "INCOME_WAGES",
... })
>>> income = detect_income(frame, detect_series(frame))
>>> income.streams.select("kind", "schedule", "monthly_amount_minor").row(0)
('payroll', 'monthly', 309000)
>>> income.changes.select("change", "change_ratio").row(0)
('raise', 0.03)
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from tactful.enrich.frames import INCOME_CHANGES, INCOME_STREAMS, conform, empty
from tactful.enrich.income_evidence import (
    account_as_of,
    benefit,
    evidence,
    income_like,
    payouts,
)
from tactful.enrich.recurring import (
    BANK_CHANNELS,
    COUNTED_STATUSES,
    SeriesResult,
    missed_payments,
)
from tactful.errors import ValidationError

__all__ = ["GIG_PAYERS", "IncomeResult", "detect_income"]

MIN_STEP = 0.02
"""The smallest relative change of varying pay reported as a raise or a cut."""
FIXED_STEP = 0.01
"""The smallest step of fixed pay reported: fixed pay repeats to the cent, so a smaller step that
persists is still a new rate (a one-off payment is no step: the new amount must repeat)."""
VARYING_T = 5.0
"""How far out of the pay noise a level shift of varying pay must stand: the two-sample t
statistic of the log amounts before and after the split. High, because hours can also shift
for a while without a change of rate, and the split is the best of many tried."""
SPELL_T = 8.0
"""The bar in t for a spell of varying pay at another level (a temporary cut): higher, as many
more spells than splits are tried."""
MIN_SEGMENT = 3
"""The fewest payments on either side of a level shift of varying pay."""
MIN_PAYMENTS = 8
"""The fewest payments of varying pay searched for a level shift (fewer give no noise level)."""
MAX_NOISE = 0.15
"""Pay noisier than this (deviation of the log amounts) has no level to shift: gig income."""
CLIP = 2.5
"""Payments are clipped to this many noise deviations of their running median."""
_RUNNING = 5

GIG_PAYERS = (
    r"UBER|LYFT|DOORDASH|DELIVEROO|JUST EAT|UPWORK|FIVERR|ETSY|STRIPE|PAYPAL PAYOUT|INSTACART|"
    r"MALT|GLOVO|WOLT|BOLT|TASKRABBIT|AIRBNB|SHOPIFY|AMAZON FLEX|VINTED|EBAY"
)
"""Payers whose credits are gig or platform income."""

_INVOICE = r"INVOICE|FACTURA|FACTURE|RECHNUNG|FATTURA|FACTUUR|\bINV\b"
_INCOME_KINDS = {
    "payroll": "payroll",
    "pension": "pension",
    "benefit": "benefit",
    "gig_income": "gig",
}
_OWN_ACCOUNTS = ("savings", "investment", "loan", "mortgage", "credit_card")
_PER_MONTH = {
    "weekly": 52 / 12,
    "biweekly": 26 / 12,
    "semi_monthly": 2.0,
    "four_weekly": 13 / 12,
    "monthly": 1.0,
    "quarterly": 1 / 3,
    "yearly": 1 / 12,
}
_PAY_CADENCES = ("weekly", "biweekly", "semi_monthly", "four_weekly", "monthly")
PAY_SIZE = 0.25
"""A regular stream known only by its shape is called payroll when it is pay-sized: at least
this share of what the account spends a month (less is an income of unknown kind, ``other``)."""
_TRAILING_DAYS = 91
_RETURN_DAYS = 10
_LEAD_SLACK = 0.35
_LEAD_MAX = 6


@dataclass(frozen=True, slots=True)
class IncomeResult:
    """The income streams, their raises and cuts, and which credit belongs to which stream."""

    streams: pl.DataFrame  # INCOME_STREAMS
    changes: pl.DataFrame  # INCOME_CHANGES
    members: pl.DataFrame  # transaction_id, stream_id

    @classmethod
    def empty(cls) -> IncomeResult:
        members = pl.DataFrame(schema={"transaction_id": pl.String, "stream_id": pl.String})
        return cls(empty(INCOME_STREAMS), empty(INCOME_CHANGES), members)


def _median(values: list[int]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return float(ordered[mid]) if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _steps(amounts: list[int], varies: bool) -> list[tuple[int, int, int]]:
    """(index of the first new payment, old, new) for each persistent pay step."""
    if len(amounts) < 3:
        return []
    if varies:
        return _level_shifts(amounts)
    out: list[tuple[int, int, int]] = []
    level, i = amounts[0], 1
    while i < len(amounts):
        a = amounts[i]
        if abs(a / level - 1) >= FIXED_STEP:
            stays = amounts[i : i + 2]
            if len(stays) == 2 and all(abs(x / a - 1) < MIN_STEP for x in stays):
                out.append((i, level, a))
                level = a
                i += 2
                continue
        i += 1
    return out


def _level_shifts(amounts: list[int]) -> list[tuple[int, int, int]]:
    """The persistent level shifts of varying pay that stand out of the pay's noise.

    Change points on the log amounts by binary segmentation: in each segment, the split with
    at least ``MIN_SEGMENT`` payments a side that maximizes the two-sample t statistic of the
    segment means (pooled within-segment deviation), kept if it reaches ``VARYING_T``; then
    both sides are searched again. A history with no such split is searched for a spell at
    another level (a temporary cut), kept if it reaches ``SPELL_T``. Before that each payment
    is clipped to ``CLIP`` noise deviations of its running median, so a one-off bonus or a
    short week is no step; the noise is read robustly off consecutive differences (a step
    moves one difference only). The old and new levels are the medians of the segments either
    side of a change point.
    """
    if not _shifting([amounts])[0]:
        return []
    n = len(amounts)
    x = _clipped(np.log(np.asarray([amounts], dtype=np.float64)))[0][0]
    splits: list[int] = []
    pending = [(0, n)]
    while pending:
        lo, hi = pending.pop()
        t, at = _split_t(x[None, lo:hi])
        if t[0] >= VARYING_T:
            split = lo + int(at[0])
            splits.append(split)
            pending += [(lo, split), (split, hi)]
        elif (lo, hi) == (0, n):  # a spell is only looked for over the whole history
            t, start, end = _spell_t(x[None, :])
            if t[0] >= SPELL_T:
                splits += [int(start[0]), int(end[0])]
                pending += [(0, int(start[0])), (int(start[0]), int(end[0])), (int(end[0]), n)]
    splits.sort()
    bounds = [0, *splits, n]
    out: list[tuple[int, int, int]] = []
    for j, split in enumerate(splits):
        old = _median(amounts[bounds[j] : split])
        new = _median(amounts[split : bounds[j + 2]])
        if abs(new / old - 1) >= MIN_STEP:
            out.append((split, round(old), round(new)))
    return out


def _shifting(histories: list[list[int]]) -> list[bool]:
    """Whether each pay history of varying pay has a level shift or a spell at another level:
    the top of the search of ``_level_shifts``, for all the histories of a length at once."""
    out = [False] * len(histories)
    by_length: dict[int, list[int]] = {}
    for i, amounts in enumerate(histories):
        if len(amounts) >= MIN_PAYMENTS and min(amounts) > 0:
            by_length.setdefault(len(amounts), []).append(i)
    for rows in by_length.values():
        x, noise = _clipped(np.log(np.asarray([histories[i] for i in rows], dtype=np.float64)))
        quiet = (noise > 0.0) & (noise <= MAX_NOISE)
        found = (_split_t(x)[0] >= VARYING_T) | (_spell_t(x)[0] >= SPELL_T)
        for i, hit in zip(rows, quiet & found, strict=True):
            out[i] = bool(hit)
    return out


def _clipped(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of log amounts clipped to ``CLIP`` noise deviations of their running median, and
    the noise of each row (median |difference| of normal noise is 0.954 deviations)."""
    noise = np.median(np.abs(np.diff(x, axis=1)), axis=1) / 0.954
    half = _RUNNING // 2
    padded = np.concatenate([x[:, half:0:-1], x, x[:, -2 : -half - 2 : -1]], axis=1)
    windows = np.lib.stride_tricks.sliding_window_view(padded, _RUNNING, axis=1)
    running = np.sort(windows, axis=2)[:, :, half]
    band = CLIP * noise[:, None]
    return np.clip(x, running - band, running + band), noise


def _split_t(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the largest two-sample t of the means before and after a split with
    ``MIN_SEGMENT`` payments a side, and that split (the index of the first payment after)."""
    m, n = x.shape
    if n < 2 * MIN_SEGMENT:
        return np.zeros(m), np.zeros(m, dtype=np.int64)
    k = np.arange(MIN_SEGMENT, n - MIN_SEGMENT + 1)
    c, c2 = np.cumsum(x, axis=1), np.cumsum(x * x, axis=1)
    head, head2 = c[:, k - 1], c2[:, k - 1]
    total, total2 = c[:, -1:], c2[:, -1:]
    before, after = head / k, (total - head) / (n - k)
    sse = (head2 - head * before) + ((total2 - head2) - (total - head) * after)
    pooled = np.sqrt(np.maximum(sse, 0.0) / (n - 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.abs(after - before) / (pooled * np.sqrt(1.0 / k + 1.0 / (n - k)))
    t = np.nan_to_num(t, nan=0.0, posinf=0.0)
    best = np.argmax(t, axis=1)
    return t[np.arange(m), best], k[best]


def _spell_t(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each row, the largest t of the mean of a spell ``[start, end)`` against the mean
    outside it, and that spell: a temporary cut (or raise) that one split cannot see, because
    the pay is at the same level either side of it."""
    m, n = x.shape
    if n < 3 * MIN_SEGMENT:
        zero = np.zeros(m, dtype=np.int64)
        return np.zeros(m), zero, zero
    c = np.concatenate([np.zeros((m, 1)), np.cumsum(x, axis=1)], axis=1)
    c2 = np.concatenate([np.zeros((m, 1)), np.cumsum(x * x, axis=1)], axis=1)
    start, end = _spells(n)
    inside, outside = end - start, n - (end - start)
    s_in, s2_in = c[:, end] - c[:, start], c2[:, end] - c2[:, start]
    s_out = c[:, n : n + 1] - s_in
    # residuals of the three segments (before, spell, after) about their own means
    before, after = c[:, start], c[:, n : n + 1] - c[:, end]
    sse = (
        (c2[:, start] - before * before / start)
        + (s2_in - s_in * s_in / inside)
        + ((c2[:, n : n + 1] - c2[:, end]) - after * after / (n - end))
    )
    pooled = np.sqrt(np.maximum(sse, 0.0) / (n - 3))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.abs(s_in / inside - s_out / outside) / (
            pooled * np.sqrt(1.0 / inside + 1.0 / outside)
        )
    t = np.nan_to_num(t, nan=0.0, posinf=0.0)
    best = np.argmax(t, axis=1)
    return t[np.arange(m), best], start[best], end[best]


@functools.lru_cache(maxsize=256)
def _spells(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every spell ``[start, end)`` of ``n`` payments with ``MIN_SEGMENT`` payments in it and
    either side of it."""
    start, end = np.triu_indices(n + 1, k=MIN_SEGMENT)
    ok = (start >= MIN_SEGMENT) & (end <= n - MIN_SEGMENT)
    return start[ok], end[ok]


def detect_income(
    frame: pl.DataFrame,
    series: SeriesResult,
    *,
    as_of: date | None = None,
    accounts_as_of: Mapping[str, date] | None = None,
    spans: pl.DataFrame | None = None,
    undone: pl.DataFrame | None = None,
) -> IncomeResult:
    """The income streams of ``frame`` (the frame ``series`` was detected on), as of ``as_of``
    (default: the last booking date in the frame).

    A credit series or a payer's repeated credits is income when its kind says so (a category
    or the payer's name: payroll, pension, benefit, a gig platform, invoices) or, without one,
    when its amounts and dates do (``income_evidence``). Whether a stream is late or stopped is
    judged against its own account's last activity, never later than ``as_of``: an account
    that ends (closed, moved, the export cut off) did not stop its pay. ``accounts_as_of``
    names the accounts known to be up to date to a later day (the store's as-of per account):
    there, silence after the last pay is judged up to that day. ``spans`` (per account: first
    and last booking, spending; ``income_evidence.account_spans``) stands in for the frame's
    own where the frame holds only some of each account's payments (a night's increment), and
    ``undone`` adds the debits of the rest that a credit could send back (same account,
    merchant key and sum; ``_returns``)."""
    for column in ("id", "account_id", "amount_minor", "booked_on", "merchant_key", "status"):
        if column not in frame.columns:
            raise ValidationError(f"detect_income: frame lacks column {column!r}")
    if frame.is_empty():
        return IncomeResult.empty()
    latest = frame["booked_on"].max()
    as_of = as_of or (latest if isinstance(latest, date) else None)
    if as_of is None:
        raise ValidationError("detect_income: booked_on has no dates")
    accounts = account_as_of(frame, as_of, accounts_as_of, spans=spans)
    credits = frame.filter(
        pl.col("status").is_in(COUNTED_STATUSES) & (pl.col("amount_minor") > 0)
    ).select("id", "account_id", "booked_on", "amount_minor", "status")
    regular = _regular(frame, series, accounts, credits)
    taken = series.members.select(pl.col("transaction_id").alias("id"))
    debits = frame if undone is None else pl.concat(
        [frame.select(undone.columns), undone], how="vertical_relaxed")
    irregular = _irregular(
        frame.join(taken, on="id", how="anti"), as_of, accounts, debits, credits
    )
    streams = pl.concat([regular[0], irregular[0]]).sort("stream_id")
    members = pl.concat([regular[1], irregular[1]]).sort("transaction_id")
    return IncomeResult(
        conform(streams, INCOME_STREAMS, what="income streams").select(list(INCOME_STREAMS)),
        conform(regular[2], INCOME_CHANGES, what="income changes").sort(
            "stream_id", "effective_date"
        ),
        members,
    )


def _own_accounts(frame: pl.DataFrame) -> pl.Expr:
    """Accounts of a type whose credits are the customer's own money moving (savings, cards)."""
    own = (
        frame.filter(pl.col("account_type").is_in(_OWN_ACCOUNTS))["account_id"].unique()
        if "account_type" in frame.columns
        else pl.Series([], dtype=pl.String)
    )
    return pl.col("account_id").is_in(own.implode())


def _status() -> pl.Expr:
    """A regular stream's status against its account's own as-of (``_as_of``): late after one
    missed payment beyond the cadence's grace, stopped after two."""
    missed = missed_payments(pl.col("_as_of"))
    return (
        pl.when(missed >= 2)
        .then(pl.lit("stopped"))
        .when(missed >= 1)
        .then(pl.lit("late"))
        .otherwise(pl.lit("active"))
    )


def _regular(
    frame: pl.DataFrame, series: SeriesResult, accounts: pl.DataFrame, credits: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    candidates = series.series.filter(
        (pl.col("direction") == "in")
        & ~_own_accounts(frame)
        & pl.col("kind").is_in([*_INCOME_KINDS, "transfer", "other"])
    )
    labelled = pl.col("kind").is_in(list(_INCOME_KINDS))
    unlabelled = candidates.filter(~labelled)
    proof = evidence(
        credits,
        series.members.join(
            unlabelled.select("series_id"), on="series_id"
        ).select("transaction_id", pl.col("series_id").alias("stream_id")),
        accounts,
    ).rename({"stream_id": "series_id"})
    s = (
        candidates.join(proof, on="series_id", how="left")
        .filter(
            labelled | income_like(pl.col("cadence"), ~pl.col("amount_varies")).fill_null(False)
        )
        .join(accounts.select("account_id", "_as_of"), on="account_id", how="left")
    )
    inferred = (
        pl.when(pl.col("cadence").is_in(_PAY_CADENCES) & (pl.col("size") >= PAY_SIZE))
        .then(pl.lit("payroll"))
        .otherwise(pl.lit("other"))
    )
    kind = pl.when(labelled).then(
        pl.col("kind").replace_strict(_INCOME_KINDS, default="other", return_dtype=pl.String)
    ).otherwise(inferred)
    per_month = pl.col("cadence").replace_strict(_PER_MONTH, return_dtype=pl.Float64)
    streams = s.select(
        pl.col("series_id").alias("stream_id"),
        "customer_id",
        "account_id",
        pl.col("merchant").fill_null(pl.col("merchant_key")),
        kind.alias("kind"),
        pl.col("cadence").alias("schedule"),
        "currency",
        "typical_amount_minor",
        (pl.col("typical_amount_minor") * per_month)
        .round()
        .cast(pl.Int64)
        .alias("monthly_amount_minor"),
        "first_date",
        "last_date",
        "next_date",
        "occurrences",
        _status().alias("status"),
    )
    s = s.drop("_as_of", *proof.columns[1:])
    members = series.members.join(
        streams.select(pl.col("stream_id").alias("series_id")), on="series_id"
    ).select("transaction_id", pl.col("series_id").alias("stream_id"))
    history = members.join(
        frame.select("id", "amount_minor", "booked_on"), left_on="transaction_id", right_on="id"
    ).select("stream_id", "booked_on", "amount_minor", pl.lit(False).alias("_lead"))
    amounts = (
        pl.concat([_lead_in(frame, series, s), history])
        .sort("stream_id", "booked_on", "amount_minor")
        .group_by("stream_id", maintain_order=True)
        .agg("amount_minor", "booked_on", pl.col("_lead").sum().alias("_leads"))
        .join(
            s.select(pl.col("series_id").alias("stream_id"), "amount_varies", "customer_id"),
            on="stream_id",
        )
    )
    histories = amounts.rows()
    shifting = iter(_shifting([row[1] for row in histories if row[4]]))
    rows = []
    for sid, values, dates, leads, varies, customer in histories:
        if varies and not next(shifting):
            continue  # varying pay with no level shift (screened all at once)
        for i, old, new in _steps(values, bool(varies)):
            if i < leads:
                continue  # a step among the lead-in payments is another stream's
            ratio = round(new / old - 1, 4)
            rows.append((sid, customer, dates[i], old, new, "raise" if ratio > 0 else "cut", ratio))
    changes = pl.DataFrame(rows, schema=dict(INCOME_CHANGES), orient="row")
    return streams, members, changes


def _lead_in(frame: pl.DataFrame, series: SeriesResult, s: pl.DataFrame) -> pl.DataFrame:
    """The payments just before each stream from the same payer into the same account, on the
    stream's schedule (stream_id, booked_on, amount_minor, _lead).

    A new rate often starts a new series (the old amount stops, the new one repeats), so the
    stream's own history begins with the raise; the payments it replaced tell the old level.
    They are those no series holds, or a series that ended before the stream began, chained
    back from the stream's first payment one pay period at a time (``_LEAD_SLACK`` either way).
    """
    mean_days = pl.col("cadence").replace_strict(_PER_MONTH, return_dtype=pl.Float64).pow(-1) * (
        365.25 / 12
    )
    streams = s.filter(pl.col("cadence").is_in(list(_PER_MONTH))).select(
        pl.col("series_id").alias("stream_id"),
        "account_id",
        "merchant_key",
        pl.col("first_date").alias("_start"),
        mean_days.alias("_period"),
    )
    ended = series.members.join(
        series.series.select("series_id", pl.col("last_date").alias("_held_until")),
        on="series_id",
    ).select(pl.col("transaction_id").alias("id"), "_held_until")
    credits = (
        frame.filter(pl.col("status").is_in(COUNTED_STATUSES) & (pl.col("amount_minor") > 0))
        .select("id", "account_id", "merchant_key", "booked_on", "amount_minor")
        .join(ended, on="id", how="left")
    )
    gap = (pl.col("_next") - pl.col("booked_on")).dt.total_days() / pl.col("_period")
    return (
        credits.join(streams, on=["account_id", "merchant_key"])
        .filter(
            (pl.col("booked_on") < pl.col("_start"))
            & (pl.col("_held_until").is_null() | (pl.col("_held_until") < pl.col("_start")))
        )
        .sort("stream_id", "booked_on", descending=[False, True])
        .with_columns(
            pl.col("booked_on")
            .shift(1)
            .over("stream_id")
            .fill_null(pl.col("_start"))
            .alias("_next")
        )
        .filter(
            ((gap >= 1 - _LEAD_SLACK) & (gap <= 1 + _LEAD_SLACK)).cum_min().over("stream_id")
            & (pl.int_range(pl.len()).over("stream_id") < _LEAD_MAX)
        )
        .select("stream_id", "booked_on", "amount_minor", pl.lit(True).alias("_lead"))
    )


def _irregular(
    rest: pl.DataFrame,
    as_of: date,
    accounts: pl.DataFrame,
    payments: pl.DataFrame,
    credits_in: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Repeated credits that no series holds: from platform payers or invoiced clients by name,
    or, without a name that says so, by their shape (``income_evidence``): weekly payouts with
    weeks skipped, or a client's invoices large against the account's money. ``payments``:
    the debits a credit may send back (``_returns``)."""
    category = (
        pl.col("category_detailed").fill_null("")
        if "category_detailed" in rest.columns
        else pl.lit("")
    )
    channel = pl.col("channel").fill_null("") if "channel" in rest.columns else pl.lit("")
    key = pl.col("merchant_key").fill_null("")
    text = key + pl.lit(" ") + pl.col("description").fill_null("").str.to_uppercase()
    gig = key.str.contains(GIG_PAYERS)
    business = text.str.contains(_INVOICE) | (category == "INCOME_OTHER_INCOME")
    credits = rest.filter(
        pl.col("status").is_in(COUNTED_STATUSES)
        & (pl.col("amount_minor") > 0)
        & (pl.col("booked_on") <= as_of)
        & (key != "")
        & ~_own_accounts(rest)
        & ~channel.is_in(BANK_CHANNELS)
    ).with_columns(gig.alias("_gig"), business.alias("_named"))
    credits = credits.join(_returns(payments, credits), on="id", how="anti")
    # the trailing window ends at the account's own as-of, as its status does: a day on which
    # the account saw nothing changes neither (and a run over only the accounts with new data
    # leaves the store what a full run writes)
    trailing_from = pl.col("_as_of") - pl.duration(days=_TRAILING_DAYS)
    grouped = (
        credits.join(accounts.select("account_id", "_as_of"), on="account_id", how="left")
        .group_by("account_id", "merchant_key")
        .agg(
            pl.col("customer_id").first(),
            pl.col("merchant").drop_nulls().last()
            if "merchant" in credits.columns
            else pl.col("merchant_key").first().alias("merchant"),
            pl.col("currency").first(),
            pl.col("_gig").any(),
            pl.col("_named").any(),
            pl.col("amount_minor").median().round().cast(pl.Int64).alias("typical_amount_minor"),
            pl.col("amount_minor")
            .filter(pl.col("booked_on") > trailing_from)
            .sum()
            .alias("_trailing"),
            pl.col("booked_on").min().alias("first_date"),
            pl.col("booked_on").max().alias("last_date"),
            pl.len().cast(pl.Int64).alias("occurrences"),
            pl.col("id"),
        )
        .filter(
            (pl.col("occurrences") >= 3)
            & ((pl.col("last_date") - pl.col("first_date")).dt.total_days() >= 28)
        )
    )
    ids = [
        "inc-" + hashlib.sha1(
            f"{a}\x1f{k}\x1fin\x1firregular".encode(), usedforsecurity=False
        ).hexdigest()[:16]
        for a, k in grouped.select("account_id", "merchant_key").iter_rows()
    ]
    grouped = grouped.with_columns(pl.Series("stream_id", ids, dtype=pl.String))
    unnamed = grouped.filter(~pl.col("_gig") & ~pl.col("_named"))
    proof = evidence(
        credits_in,
        unnamed.select("stream_id", pl.col("id").alias("transaction_id")).explode(
            "transaction_id"
        ),
        accounts,
    )
    grouped = (
        grouped.join(proof, on="stream_id", how="left")
        .with_columns(
            (pl.col("_gig") | (~pl.col("_named") & payouts().fill_null(False))).alias("_gig"),
            (~pl.col("_named") & benefit().fill_null(False)).alias("_benefit"),
        )
        .filter(
            pl.col("_gig")
            | pl.col("_named")
            | income_like(pl.lit("irregular"), pl.lit(False)).fill_null(False)
        )
        .join(accounts.select("account_id", "_as_of"), on="account_id", how="left")
    )
    months = _TRAILING_DAYS / (365.25 / 12)
    idle = (pl.col("_as_of") - pl.col("last_date")).dt.total_days()
    streams = grouped.with_columns(
        pl.when(pl.col("_gig"))
        .then(pl.lit("gig"))
        .when(pl.col("_benefit"))
        .then(pl.lit("benefit"))
        .otherwise(pl.lit("business"))
        .alias("kind"),
        pl.lit("irregular").alias("schedule"),
        (pl.col("_trailing") / months).round().cast(pl.Int64).alias("monthly_amount_minor"),
        pl.lit(None, dtype=pl.Date).alias("next_date"),
        pl.when(idle > 90)
        .then(pl.lit("stopped"))
        .when(idle > 45)
        .then(pl.lit("late"))
        .otherwise(pl.lit("active"))
        .alias("status"),
    )
    members = streams.select(pl.col("id").alias("transaction_id"), "stream_id").explode(
        "transaction_id"
    )
    return streams.select(list(INCOME_STREAMS)), members


def _returns(frame: pl.DataFrame, credits: pl.DataFrame) -> pl.DataFrame:
    """The credits (``id``) that undo a debit: the same sum back from the same party within
    ``_RETURN_DAYS`` of paying it (a direct debit returned unpaid, a reversed payment). They
    repeat when a bill bounces month after month, at the bill's odd sum; they are no income."""
    debits = frame.filter(
        pl.col("status").is_in(COUNTED_STATUSES) & (pl.col("amount_minor") < 0)
    ).select(
        "account_id",
        "merchant_key",
        (-pl.col("amount_minor")).alias("amount_minor"),
        pl.col("booked_on").alias("_paid_on"),
    )
    gap = (pl.col("booked_on") - pl.col("_paid_on")).dt.total_days()
    return (
        credits.select("id", "account_id", "merchant_key", "amount_minor", "booked_on")
        .join(debits, on=["account_id", "merchant_key", "amount_minor"])
        .filter(gap.is_between(0, _RETURN_DAYS))
        .select("id")
        .unique()
    )
