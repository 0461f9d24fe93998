"""Income streams: what a customer is paid, on what schedule, and when the pay changes or stops.

Regular income is read off the credit series ``detect_series`` found (payroll, pension, benefit
and other regular credits into a current account); irregular gig and business income is what is
left: repeated credits from a platform payer (Uber, Upwork, Deliveroo, Stripe payouts, Etsy, ...)
or from invoiced clients, with no cadence. A raise or a cut is a step of at least ``MIN_STEP``
that persists for at least two payments; on pay that varies (hourly pay) the step is the split
of the pay history whose before/after medians differ most, if it stands out of the noise.

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

import hashlib
import itertools
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from tactful.enrich.frames import INCOME_CHANGES, INCOME_STREAMS, conform, empty
from tactful.enrich.recurring import COUNTED_STATUSES, SeriesResult
from tactful.errors import ValidationError

__all__ = ["GIG_PAYERS", "IncomeResult", "detect_income"]

MIN_STEP = 0.02
VARYING_SCORE = 10.0
"""How far out of the pay noise a step of varying pay must stand (before/after medians apart
by this many standard deviations, times the root of the shorter side)."""
"""The smallest relative pay change reported as a raise or a cut."""

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
_TRAILING_DAYS = 91


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
    if not varies:
        out: list[tuple[int, int, int]] = []
        level, i = amounts[0], 1
        while i < len(amounts):
            a = amounts[i]
            if abs(a / level - 1) >= MIN_STEP:
                stays = amounts[i : i + 2]
                if len(stays) == 2 and all(abs(x / a - 1) < MIN_STEP for x in stays):
                    out.append((i, level, a))
                    level = a
                    i += 2
                    continue
            i += 1
        return out
    # the pay's own noise, from consecutive differences: a step moves one difference only
    diffs = sorted(abs(b - a) for a, b in itertools.pairwise(amounts))
    noise = max(diffs[len(diffs) // 2] / 0.954, 1.0)  # median |diff| of normal noise ~ 0.954 sd
    best: tuple[float, int, float, float] | None = None
    for k in range(3, len(amounts) - 1):
        before, after = amounts[max(0, k - 6) : k], amounts[k : k + 6]
        if len(after) < 2:
            continue
        mb, ma = _median(before), _median(after)
        score = abs(ma - mb) / noise * min(len(before), len(after)) ** 0.5
        if (
            abs(ma / mb - 1) >= MIN_STEP
            and score > VARYING_SCORE
            and (best is None or score > best[0])
        ):
            best = (score, k, mb, ma)
    if best is None:
        return []
    return [(best[1], round(best[2]), round(best[3]))]


def detect_income(
    frame: pl.DataFrame, series: SeriesResult, *, as_of: date | None = None
) -> IncomeResult:
    """The income streams of ``frame`` (the frame ``series`` was detected on), as of ``as_of``
    (default: the last booking date in the frame)."""
    for column in ("id", "account_id", "amount_minor", "booked_on", "merchant_key", "status"):
        if column not in frame.columns:
            raise ValidationError(f"detect_income: frame lacks column {column!r}")
    if frame.is_empty():
        return IncomeResult.empty()
    latest = frame["booked_on"].max()
    as_of = as_of or (latest if isinstance(latest, date) else None)
    if as_of is None:
        raise ValidationError("detect_income: booked_on has no dates")
    regular = _regular(frame, series, as_of)
    taken = series.members.select(pl.col("transaction_id").alias("id"))
    irregular = _irregular(frame.join(taken, on="id", how="anti"), as_of)
    streams = pl.concat([regular[0], irregular[0]]).sort("stream_id")
    members = pl.concat([regular[1], irregular[1]]).sort("transaction_id")
    return IncomeResult(
        conform(streams, INCOME_STREAMS, what="income streams").select(list(INCOME_STREAMS)),
        conform(regular[2], INCOME_CHANGES, what="income changes").sort(
            "stream_id", "effective_date"
        ),
        members,
    )


def _regular(
    frame: pl.DataFrame, series: SeriesResult, as_of: date
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    s = series.series.filter(
        (pl.col("direction") == "in")
        & ~pl.col("account_id").is_in(
            frame.filter(pl.col("account_type").is_in(_OWN_ACCOUNTS))["account_id"]
            .unique()
            .implode()
            if "account_type" in frame.columns
            else pl.Series([], dtype=pl.String).implode()
        )
        & pl.col("kind").is_in([*_INCOME_KINDS, "transfer", "other"])
    )
    kind = pl.col("kind").replace_strict(_INCOME_KINDS, default="other", return_dtype=pl.String)
    per_month = pl.col("cadence").replace_strict(_PER_MONTH, return_dtype=pl.Float64)
    status = pl.col("status").replace_strict(
        {"active": "active", "late": "late", "cancelled": "stopped"}, return_dtype=pl.String
    )
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
        status.alias("status"),
    )
    members = series.members.join(
        streams.select(pl.col("stream_id").alias("series_id")), on="series_id"
    ).select("transaction_id", pl.col("series_id").alias("stream_id"))
    amounts = (
        members.join(
            frame.select("id", "amount_minor", "booked_on"), left_on="transaction_id", right_on="id"
        )
        .sort("stream_id", "booked_on", "amount_minor")
        .group_by("stream_id", maintain_order=True)
        .agg("amount_minor", "booked_on")
        .join(
            s.select(pl.col("series_id").alias("stream_id"), "amount_varies", "customer_id"),
            on="stream_id",
        )
    )
    rows = []
    for sid, values, dates, varies, customer in amounts.iter_rows():
        for i, old, new in _steps(values, bool(varies)):
            ratio = round(new / old - 1, 4)
            rows.append((sid, customer, dates[i], old, new, "raise" if ratio > 0 else "cut", ratio))
    changes = pl.DataFrame(rows, schema=dict(INCOME_CHANGES), orient="row")
    del as_of
    return streams, members, changes


def _irregular(rest: pl.DataFrame, as_of: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Repeated credits from platform payers or invoiced clients that no series holds."""
    category = (
        pl.col("category_detailed").fill_null("")
        if "category_detailed" in rest.columns
        else pl.lit("")
    )
    account_type = (
        pl.col("account_type").fill_null("") if "account_type" in rest.columns else pl.lit("")
    )
    key = pl.col("merchant_key").fill_null("")
    text = key + pl.lit(" ") + pl.col("description").fill_null("").str.to_uppercase()
    gig = key.str.contains(GIG_PAYERS)
    business = text.str.contains(_INVOICE) | (category == "INCOME_OTHER_INCOME")
    credits = rest.filter(
        pl.col("status").is_in(COUNTED_STATUSES)
        & (pl.col("amount_minor") > 0)
        & (pl.col("booked_on") <= as_of)
        & (key != "")
        & ~account_type.is_in(_OWN_ACCOUNTS)
        & (gig | business)
    ).with_columns(gig.alias("_gig"))
    trailing_from = as_of - timedelta(days=_TRAILING_DAYS)
    grouped = (
        credits.group_by("account_id", "merchant_key")
        .agg(
            pl.col("customer_id").first(),
            pl.col("merchant").drop_nulls().last()
            if "merchant" in credits.columns
            else pl.col("merchant_key").first().alias("merchant"),
            pl.col("currency").first(),
            pl.col("_gig").any(),
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
    months = _TRAILING_DAYS / (365.25 / 12)
    idle = (pl.lit(as_of) - pl.col("last_date")).dt.total_days()
    ids = [
        "inc-" + hashlib.sha1(f"{a}\x1f{k}\x1fin\x1firregular".encode()).hexdigest()[:16]
        for a, k in grouped.select("account_id", "merchant_key").iter_rows()
    ]
    streams = grouped.with_columns(
        pl.Series("stream_id", ids, dtype=pl.String),
        pl.when(pl.col("_gig")).then(pl.lit("gig")).otherwise(pl.lit("business")).alias("kind"),
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
