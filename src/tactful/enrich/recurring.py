"""Recurring series: the subscriptions, bills, loans, transfers and pay an account repeats.

A series is a run of bookings on one account to or from one counterparty (``merchant_key``), in
one direction, at a regular cadence. Detection is vectorized over the whole shard, in stages that
each look at a different candidate set of bookings and keep what is periodic:

1. the whole (account, merchant_key, direction) group, if its amounts are one level or step
   between a few levels over time, each held for a while (a fixed price with price changes);
2. what is left, split by exact amount: two subscriptions billed by one merchant, a fixed rent
   beside a metered bill from one landlord, a salary beside a bonus; a fixed cluster that stops
   where another level of the same group continues the schedule is joined to it (a price change);
3. what is left of each group, whole again: amount-varying series (metered utility bills, hourly
   pay, card repayments), recurring by their cadence alone.

Periodicity is judged interval by interval with business-day slack (see ``cadence``), and the
cadence is the one whose long-run mean best fits the span. ``category_detailed`` is only used to
name the ``kind``: series are found without it.

>>> import polars as pl
>>> from datetime import date
>>> frame = pl.DataFrame({
...     "id": ["t1", "t2", "t3", "t4"], "account_id": "a", "customer_id": "c",
...     "account_type": "checking", "booked_on": [date(2025, m, 5) for m in (1, 2, 3, 4)],
...     "amount_minor": -1549, "currency": "EUR", "description": "NETFLIX.COM",
...     "counterparty": None, "mcc": None, "channel": "card", "status": "posted",
...     "merchant_key": "NETFLIX",
... })
>>> result = detect_series(frame)
>>> result.series.select("cadence", "typical_amount_minor", "next_date", "status").row(0)
('monthly', -1549, datetime.date(2025, 5, 5), 'active')
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from datetime import date

import polars as pl

from tactful.enrich.cadence import CADENCES, business_calendar, country_expr
from tactful.enrich.frames import SERIES, SERIES_CHANGES, SERIES_MEMBERS, conform, empty
from tactful.errors import ValidationError

__all__ = ["SeriesResult", "description_key", "detect_series", "series_kind"]

REQUIRED = (
    "id",
    "account_id",
    "customer_id",
    "booked_on",
    "amount_minor",
    "currency",
    "description",
    "status",
)
COUNTED_STATUSES = ("posted", "pending")
BANK_CHANNELS = ("interest", "fee", "atm", "cash")
"""Bank postings (interest, fees) and cash have no counterparty that bills on a schedule."""
LEVEL_TOLERANCE = 0.005
"""Two amounts within half a percent are one price level."""

_ORDER = list(CADENCES)


def _per_cadence(attr: str, dtype: type[pl.DataType]) -> pl.Expr:
    """Each row's ``Cadence`` field ``attr``, looked up by its ``cadence`` name."""
    return pl.col("cadence").replace_strict(
        {c.name: getattr(c, attr) for c in CADENCES.values()}, return_dtype=dtype
    )


def _day_in_month(start: pl.Expr, anchor: pl.Expr) -> pl.Expr:
    """Day ``anchor`` of the month beginning ``start``, or its last day in a shorter month."""
    dim = start.dt.month_end().dt.day().cast(pl.Int32)
    return start + pl.duration(days=pl.min_horizontal(anchor, dim) - 1)


@dataclass(frozen=True, slots=True)
class SeriesResult:
    """What ``detect_series`` found: the series, their price changes, and which booking is whose."""

    series: pl.DataFrame  # SERIES
    changes: pl.DataFrame  # SERIES_CHANGES
    members: pl.DataFrame  # SERIES_MEMBERS

    @classmethod
    def empty(cls) -> SeriesResult:
        return cls(empty(SERIES), empty(SERIES_CHANGES), empty(SERIES_MEMBERS))


# -- kinds ----------------------------------------------------------------------------------

_OUT_KINDS: tuple[tuple[str, str], ...] = (
    ("LOAN_PAYMENTS_MORTGAGE", "mortgage"),
    ("LOAN_PAYMENTS_CREDIT_CARD", "credit_card_payment"),
    ("LOAN_PAYMENTS", "loan_payment"),
    ("RENT_AND_UTILITIES_RENT", "rent"),
    ("RENT_AND_UTILITIES", "bill"),
    ("GENERAL_SERVICES_INSURANCE", "bill"),
    ("GOVERNMENT_AND_NON_PROFIT", "bill"),
    ("TRANSPORTATION_PUBLIC_TRANSIT", "bill"),
    ("GENERAL_SERVICES_CHILDCARE", "bill"),
    ("TRANSFER_OUT_SAVINGS", "savings_transfer"),
    ("TRANSFER_OUT_INVESTMENT", "savings_transfer"),
    ("TRANSFER_OUT", "transfer"),
    ("ENTERTAINMENT", "subscription"),
    ("PERSONAL_CARE_GYMS", "subscription"),
    ("GENERAL_MERCHANDISE", "subscription"),
    ("GENERAL_SERVICES", "subscription"),
)
_IN_KINDS: tuple[tuple[str, str], ...] = (
    ("INCOME_WAGES", "payroll"),
    ("INCOME_RETIREMENT_PENSION", "pension"),
    ("INCOME_UNEMPLOYMENT", "benefit"),
    ("INCOME_OTHER_INCOME", "benefit"),
    ("INCOME_MILITARY", "payroll"),
    ("INCOME_TAX_REFUND", "other"),
    ("INCOME_DIVIDENDS", "other"),
    ("INCOME_INTEREST", "other"),
    ("LOAN_PAYMENTS_CREDIT_CARD", "credit_card_payment"),
    ("TRANSFER_IN", "transfer"),
)
_KEYWORDS: tuple[tuple[str, str, str], ...] = (
    ("in", r"PAYROLL|SALARY|SALAIRE|GEHALT|LOHN|NOMINA|WAGES|\bPAY\b", "payroll"),
    ("in", r"PENSION|RENTE|RETRAITE|ANNUITY|DUCHOD|SOCIAL SECURITY|SSA TREAS", "pension"),
    ("in", r"BENEFIT|UNIVERSAL CREDIT|KINDERGELD|ALLOCATION|PRESTACION|DWP|HMRC", "benefit"),
    ("in", r"UBER|LYFT|DOORDASH|DELIVEROO|UPWORK|FIVERR|ETSY|STRIPE|INSTACART|MALT", "gig_income"),
    ("out", r"MORTGAGE|HYPOTHEK|BAUFINANZ", "mortgage"),
    ("out", r"LOAN|DARLEHEN|KREDIT|CREDIT AUTO|UVER|LEASING", "loan_payment"),
    ("out", r"\bRENT\b|MIETE|LOYER|ALQUILER|HUUR", "rent"),
    ("out", r"SAVINGS|\bSAV\b|SPAREN|EPARGNE|ISA\b", "savings_transfer"),
    ("out", r"ENERGY|ELECTRIC|WATER|GAS\b|TELE|MOBILE|BROADBAND|INSURANCE|VERSICHERUNG", "bill"),
    ("out", r"NETFLIX|SPOTIFY|APPLE\.COM|GOOGLE|DISNEY|PRIME|HULU|AUDIBLE|GYM", "subscription"),
)


def series_kind() -> pl.Expr:
    """The ``kind`` of a series from ``category_detailed``, ``direction``, ``account_type`` and,
    when the category is missing, keywords of ``merchant_key``."""
    category = pl.col("category_detailed").fill_null("")
    direction = pl.col("direction")
    key = pl.col("merchant_key").fill_null("")
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    rules: list[tuple[pl.Expr, str]] = []
    rules += [((direction == "out") & category.str.starts_with(p), k) for p, k in _OUT_KINDS]
    rules += [((direction == "in") & category.str.starts_with(p), k) for p, k in _IN_KINDS]
    rules.append(
        ((direction == "in") & (pl.col("account_type") == "credit_card"), "credit_card_payment")
    )
    rules.append(((direction == "in") & (pl.col("account_type") == "savings"), "savings_transfer"))
    rules += [((direction == d) & key.str.contains(p), k) for d, p, k in _KEYWORDS]
    for condition, kind in reversed(rules):
        expr = pl.when(condition).then(pl.lit(kind)).otherwise(expr)
    return expr.fill_null("other")


# -- candidate sets -------------------------------------------------------------------------


def _check(frame: pl.DataFrame) -> None:
    missing = [c for c in (*REQUIRED, "merchant_key") if c not in frame.columns]
    if missing:
        raise ValidationError(f"detect_series: frame lacks column(s): {', '.join(missing)}")


def description_key() -> pl.Expr:
    """A grouping key from ``description`` for rows the normalizer gave no merchant (transfers
    between own accounts, card repayments: "TRANSFER TO 4064 SAVINGS", "AUTOPAY PAYMENT - THANK
    YOU"): upper case, words with digits or masks dropped, the first four words."""
    cleaned = (
        pl.col("description")
        .fill_null("")
        .str.to_uppercase()
        .str.replace_all(r"\S*\d\S*|\bX{3,}\S*", " ")
        .str.replace_all(r"[^A-Z ]+", " ")
        .str.replace_all(r"\s+", " ")
    )
    return cleaned.str.extract(r"^\s*([A-Z]+(?:\s+[A-Z]+){0,3})", 1)


def with_group_key(frame: pl.DataFrame, into: str = "group_key") -> pl.DataFrame:
    """``frame`` with ``into``: the key its rows group under in series, ``merchant_key``, or
    the description's key (``description_key``) where the normalizer left it null. Stored on
    each transaction (``group_key``), so a night's increment reads a group by its key."""
    missing = frame.filter(pl.col("merchant_key").is_null())
    if missing.is_empty():
        return frame.with_columns(pl.col("merchant_key").alias(into))
    keys = (
        missing.select("description")
        .unique()
        .with_columns(description_key().alias("_description_key"))
    )
    return (
        frame.join(keys, on="description", how="left", nulls_equal=True, maintain_order="left")
        .with_columns(pl.coalesce("merchant_key", "_description_key").alias(into))
        .drop("_description_key")
    )


def _with_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """``merchant_key``, or the description's key where the normalizer left it null: the
    ``group_key`` the pipeline already gave the rows (``pipeline._derived``), else computed."""
    if "group_key" in frame.columns:
        return frame.with_columns(pl.col("group_key").alias("merchant_key"))
    return with_group_key(frame, into="merchant_key")


def _eligible(frame: pl.DataFrame, as_of: date) -> pl.DataFrame:
    optional = {
        "merchant": pl.col("merchant_key"),
        "category_detailed": pl.lit(None, dtype=pl.String),
        "account_type": pl.lit(None, dtype=pl.String),
        "channel": pl.lit(None, dtype=pl.String),
    }
    rows = frame.with_columns(
        [expr.alias(name) for name, expr in optional.items() if name not in frame.columns]
    )
    rows = _with_keys(rows)
    return (
        rows.filter(
            pl.col("status").is_in(COUNTED_STATUSES)
            & pl.col("merchant_key").is_not_null()
            & (pl.col("merchant_key") != "")
            & (pl.col("amount_minor") != 0)
            & (pl.col("booked_on") <= as_of)
            & ~pl.col("channel").fill_null("").is_in(BANK_CHANNELS)
        )
        .select(
            "id",
            "account_id",
            "customer_id",
            "merchant_key",
            pl.col("merchant").cast(pl.String),
            pl.col("category_detailed").cast(pl.String),
            pl.col("account_type").cast(pl.String),
            pl.col("channel").cast(pl.String),
            "currency",
            pl.when(pl.col("amount_minor") > 0)
            .then(pl.lit("in"))
            .otherwise(pl.lit("out"))
            .alias("direction"),
            pl.col("amount_minor").abs().alias("amount"),
            "booked_on",
            pl.col("booked_on").cast(pl.Int32).alias("t"),
        )
        .with_columns(
            pl.struct("account_id", "merchant_key", "direction").hash(seed=7).alias("gid"),
            country_expr().alias("country"),
        )
        .with_columns(pl.struct("gid", "amount").hash(seed=11).alias("acid"))
    )


def _fit(rows: pl.DataFrame, *, min_extra: int = 0) -> pl.DataFrame:
    """Per candidate set (``cid``): the best-fitting cadence, or no row if none fits.

    ``rows`` needs ``cid``, ``t`` (days since the epoch), ``slack_before`` and ``slack_after``.
    """
    r = rows.select("cid", "t", "slack_before", "slack_after").sort("cid", "t")
    same = pl.col("cid") == pl.col("cid").shift()
    d = pl.when(same).then(pl.col("t") - pl.col("t").shift())
    r = r.with_columns(
        (d - pl.col("slack_before") - pl.col("slack_after").shift()).alias("lo"),
        (d + pl.col("slack_after") + pl.col("slack_before").shift()).alias("hi"),
    )
    flags = []
    for c in CADENCES.values():
        lo, hi, tol = pl.col("lo"), pl.col("hi"), c.tolerance
        regular = (lo - tol <= c.nominal_max) & (hi + tol >= c.nominal_min)
        # one to two payments skipped (a declined debit, council tax's ten-month year)
        missed = ~regular & (lo - tol <= 3 * c.nominal_max) & (hi + tol >= 2 * c.nominal_min)
        flags += [regular.alias(f"reg_{c.name}"), missed.alias(f"mis_{c.name}")]
    r = r.with_columns(flags)
    stats = r.group_by("cid").agg(
        pl.len().alias("n"),
        pl.col("t").min().alias("first_t"),
        pl.col("t").max().alias("last_t"),
        *[pl.col(f"reg_{c}").sum() for c in CADENCES],
        *[pl.col(f"mis_{c}").sum() for c in CADENCES],
    )
    m = pl.col("n") - 1
    span = pl.col("last_t") - pl.col("first_t")
    scores = []
    for c in CADENCES.values():
        reg, mis = pl.col(f"reg_{c.name}"), pl.col(f"mis_{c.name}")
        irregular = m - reg - mis
        periods = (span / c.mean_days).round()
        drift = 0.0 if c.months == 0 else 1.5 * max(1, c.months // 3)
        allow = 6 + c.tolerance + drift
        error = (span - periods * c.mean_days).abs()
        ok = (
            (pl.col("n") >= c.min_occurrences + min_extra)
            & (reg >= (1 if c.name == "yearly" else 2))
            & (reg >= mis)
            & (irregular <= m // 8)
            & (mis <= pl.max_horizontal(pl.lit(1), m // 4))
            & (error <= allow)
            & (periods >= reg)
        )
        scores.append(pl.when(ok).then(error / c.mean_days).otherwise(float("inf")))
    best = pl.concat_list(scores)
    stats = stats.with_columns(
        best.list.arg_min().alias("cadence_idx"), best.list.min().alias("fit_error")
    ).filter(pl.col("fit_error").is_finite())
    return stats.select(
        "cid",
        pl.col("cadence_idx")
        .replace_strict(dict(enumerate(_ORDER)), return_dtype=pl.String)
        .alias("cadence"),
        "n",
    )


def _level_changes(rows: pl.DataFrame, by: str) -> pl.DataFrame:
    """Per ``by``: how many times the amount changes level between consecutive bookings."""
    r = rows.select(by, "t", "amount").sort(by, "t", "amount")
    prev = pl.col("amount").shift()
    step = (pl.col(by) == pl.col(by).shift()) & (
        (pl.col("amount") - prev).abs() > prev * LEVEL_TOLERANCE
    )
    return r.group_by(by).agg(step.sum().alias("level_changes"))


def _accept(rows: pl.DataFrame, cid: pl.Expr, *, fixed: bool, min_extra: int = 0) -> pl.DataFrame:
    """``rows`` of the candidate sets (``cid``) that are periodic: ``id``, ``cid``, ``cadence``."""
    cand = rows.with_columns(cid.alias("cid"))
    # more than one booking per five days on average is no weekly-or-slower rhythm
    sizes = cand.group_by("cid").agg(
        pl.len().alias("_n"), (pl.col("t").max() - pl.col("t").min()).alias("_span")
    )
    keep = sizes.filter((pl.col("_n") >= 2) & (pl.col("_n") <= pl.col("_span") / 5 + 2))
    cand = cand.join(keep.select("cid"), on="cid")
    fits = _fit(cand, min_extra=min_extra)
    if fixed:
        steps = _level_changes(cand.join(fits.select("cid"), on="cid"), "cid")
        # a few price levels in a row (price changes, a quarterly energy price cap), not two
        # prices alternating (two subscriptions) nor a new amount each time (a metered bill)
        fits = fits.join(steps, on="cid").filter(
            (pl.col("level_changes") <= 2) | (pl.col("level_changes") * 3 <= pl.col("n") - 1)
        )
    return cand.join(fits.select("cid", "cadence"), on="cid").select("id", "cid", "cadence")


def _merge_steps(rows: pl.DataFrame, found: pl.DataFrame) -> pl.DataFrame:
    """Join fixed clusters that continue one another's schedule at a new price (a price change
    inside a group that holds more than one series): ``found`` with merged ``cid``s."""
    rows = rows.join(found.join(rows.select("id", "gid"), on="id").select("gid").unique(), on="gid")
    tagged = rows.join(found, on="id", how="left")
    spans = tagged.group_by("gid", "cid").agg(
        pl.col("t").min().alias("first_t"),
        pl.col("t").max().alias("last_t"),
        pl.len().alias("n"),
        pl.col("amount").median().alias("level"),
        pl.col("cadence").first(),
    )
    series = spans.filter(pl.col("cadence").is_not_null())
    loose = (
        tagged.filter(pl.col("cid").is_null())
        .with_columns(pl.col("acid").alias("cid"))
        .group_by("gid", "cid")
        .agg(
            pl.col("t").min().alias("first_t"),
            pl.col("t").max().alias("last_t"),
            pl.len().alias("n"),
            pl.col("amount").median().alias("level"),
        )
    )
    if series.is_empty() or loose.is_empty():
        return found
    mean = _per_cadence("mean_days", pl.Float64)
    pairs = series.join(loose, on="gid", suffix="_x").filter(
        (pl.col("first_t_x") > pl.col("last_t"))
        & ((pl.col("first_t_x") - pl.col("last_t") - mean).abs() <= mean * 0.2 + 3)
        & (
            (pl.col("last_t_x") - pl.col("first_t_x") - (pl.col("n_x") - 1) * mean).abs()
            <= mean * 0.2 + 3
        )
        & ((pl.col("level_x") / pl.col("level")).is_between(0.5, 2.0))
    )
    pairs = (
        pairs.sort("first_t_x", "cid", "cid_x")
        .unique(["cid"], keep="first", maintain_order=True)
        .unique(["cid_x"], keep="first", maintain_order=True)
    )
    if pairs.is_empty():
        return found
    extra = (
        rows.with_columns(pl.col("acid").alias("cid_x"))
        .join(found.select("id"), on="id", how="anti")
        .join(pairs.select("cid_x", "cid", "cadence"), on="cid_x")
        .select("id", "cid", "cadence")
    )
    return pl.concat([found, extra])


# -- series attributes ----------------------------------------------------------------------


def _series_id(account: str, key: str, direction: str, label: str) -> str:
    text = f"{account}\x1f{key}\x1f{direction}\x1f{label}"
    digest = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()  # an id, not a secret
    return f"ser-{digest[:16]}"


def _price_levels(amounts: list[int]) -> list[tuple[int, int, int]]:
    """Persistent price levels of a fixed series: (first index, length, amount); one-off
    amounts in the middle are dropped."""
    segments: list[list[int]] = []
    for i, a in enumerate(amounts):
        if segments and abs(a - segments[-1][2]) <= segments[-1][2] * LEVEL_TOLERANCE:
            segments[-1][1] += 1
        else:
            segments.append([i, 1, a])
    kept = [s for j, s in enumerate(segments) if s[1] >= 2 or j in (0, len(segments) - 1)]
    merged: list[list[int]] = []
    for s in kept:
        if merged and abs(s[2] - merged[-1][2]) <= merged[-1][2] * LEVEL_TOLERANCE:
            merged[-1][1] += s[1]
        else:
            merged.append(list(s))
    return [(s[0], s[1], s[2]) for s in merged]


def _next_dates(series: pl.DataFrame, calendar: pl.DataFrame) -> pl.DataFrame:
    """``next_nominal`` from the last booking, the cadence and the anchor, rolled onto a business
    day the way the payer moved its earlier dates (``_roll``/``_roll_end`` votes of calendar-month
    series); without any, forward for payments out and back for money in (most employers bring
    a pay day forward, but many pension and benefit payers pay on the next business day)."""
    last = pl.col("last_date")
    day = last.dt.day()
    month_start = last.dt.truncate("1mo")
    months = _per_cadence("months", pl.Int32)
    step = _per_cadence("step_days", pl.Int32)
    anchor = pl.when(pl.col("month_end")).then(31).otherwise(pl.col("anchor_day"))
    # the month the last booking was due in: a booking far from its anchor was moved across
    shift = pl.when(anchor - day > 15).then(-1).when(day - anchor > 15).then(1).otherwise(0)
    by_month = _day_in_month(month_start.dt.offset_by(pl.format("{}mo", shift + months)), anchor)
    offset = ((last.dt.weekday() - pl.col("weekday") + 3) % 7) - 3
    by_day = last - pl.duration(days=offset) + pl.duration(days=step)
    semi_end = (
        pl.when(day.is_between(8, 22))
        .then(month_start.dt.month_end())
        .when(day > 22)
        .then(month_start.dt.offset_by("1mo") + pl.duration(days=14))
        .otherwise(month_start + pl.duration(days=14))
    )
    semi_first = (
        pl.when(day.is_between(8, 22))
        .then(month_start.dt.offset_by("1mo"))
        .when(day > 22)
        .then(month_start.dt.offset_by("1mo") + pl.duration(days=14))
        .otherwise(month_start + pl.duration(days=14))
    )
    nominal = (
        pl.when(pl.col("cadence") == "semi_monthly")
        .then(pl.when(pl.col("month_end")).then(semi_end).otherwise(semi_first))
        .when(months > 0)
        .then(by_month)
        .otherwise(by_day)
    )
    out = series.with_columns(nominal.alias("next_nominal"))
    out = out.join(
        calendar.select("country", "day", "next_business", "prev_business"),
        left_on=["country", "next_nominal"],
        right_on=["country", "day"],
        how="left",
    )
    # the way this payer moved its own earlier dates; without any, the direction's usual way
    votes = pl.when(pl.col("month_end")).then("_roll_end").otherwise("_roll")
    forward = pl.when(votes != 0).then(votes > 0).otherwise(pl.col("direction") != "in")
    rolled = pl.when(forward).then("next_business").otherwise("prev_business")
    return out.with_columns(pl.coalesce(rolled, "next_nominal").alias("next_date"))


def detect_series(frame: pl.DataFrame, *, as_of: date | None = None) -> SeriesResult:
    """The recurring series in ``frame`` (``TRANSACTIONS`` plus ``merchant_key``; ``merchant``
    and ``category_detailed`` are used when present), judged as of ``as_of`` (default: the last
    booking date in the frame; later bookings are ignored)."""
    _check(frame)
    if frame.is_empty():
        return SeriesResult.empty()
    latest = frame["booked_on"].max()
    as_of = as_of or (latest if isinstance(latest, date) else None)
    if as_of is None:
        raise ValidationError("detect_series: booked_on has no dates")
    rows = _eligible(frame, as_of)
    if rows.is_empty():
        return SeriesResult.empty()
    first, last = rows["booked_on"].min(), rows["booked_on"].max()
    assert isinstance(first, date) and isinstance(last, date)  # noqa: S101 -- narrows a type; holds by construction
    countries = rows["country"].unique().to_list()
    calendar = business_calendar(countries, first, max(last, as_of).replace(year=as_of.year + 1))
    rows = rows.join(
        calendar.select("country", "day", "slack_before", "slack_after"),
        left_on=["country", "booked_on"],
        right_on=["country", "day"],
        how="left",
    ).with_columns(pl.col("slack_before").fill_null(0), pl.col("slack_after").fill_null(0))

    found = _accept(rows, pl.col("gid"), fixed=True)
    rest = rows.join(found, on="id", how="anti")
    by_amount = _accept(rest, pl.col("acid"), fixed=True)
    found = _merge_steps(rows, pl.concat([found, by_amount]))
    rest = rows.join(found, on="id", how="anti")
    varying = _accept(rest, pl.col("gid").hash(seed=13), fixed=False, min_extra=1)
    found = pl.concat([found, varying])
    if found.is_empty():
        return SeriesResult.empty()
    return _describe(rows.join(found, on="id"), calendar, as_of)


def series_status(as_of: date) -> pl.Expr:
    """A series' status as of ``as_of`` from its ``cadence`` and ``next_date`` alone: late after
    one payment missed beyond the cadence's grace, cancelled after two.

    Nothing but the day moves it, so a run that re-reads only the customers with new data ages
    everyone else's series with this expression over the stored rows (``repository.age_series``)
    and the store stays what a full run would write."""
    missed = missed_payments(pl.lit(as_of))
    return (
        pl.when(missed >= 2)
        .then(pl.lit("cancelled"))
        .when(missed >= 1)
        .then(pl.lit("late"))
        .otherwise(pl.lit("active"))
    )


def missed_payments(as_of: pl.Expr) -> pl.Expr:
    """How many payments of a schedule (``cadence``, ``next_date``) are missing by ``as_of``
    beyond the cadence's grace: none before the grace ends, then one more per mean interval.
    A series' status and an income stream's are both read from it."""
    grace = pl.col("cadence").replace_strict(
        {c.name: c.grace for c in CADENCES.values()}, default=5, return_dtype=pl.Int64
    )
    mean = pl.col("cadence").replace_strict(
        {c.name: c.mean_days for c in CADENCES.values()}, default=30.0, return_dtype=pl.Float64
    )
    overdue = (as_of - pl.col("next_date")).dt.total_days() - grace
    return pl.when(overdue > 0).then((overdue / mean).floor() + 1).otherwise(0)


def _month_end_votes() -> list[pl.Expr]:
    """Per booking (with its series' median ``anchor_day``): ``_end``, booked near a month's end
    (its last business day, or one day before it); ``_end_exact``, booked on the month end itself
    rolled onto a business day; ``_on_anchor``, booked on the anchor day rolled the same way; and
    the way a date off business days was moved (``_roll``, ``_roll_end``).

    A pay day on the 28th falls on a month's last business day whenever the 29th to the 31st
    are a weekend or February ends: in 2025 that is half of its bookings, enough for ``_end``
    alone to call it a month-end series and expect the next pay on the 31st, three days late.
    ``_describe`` lets the month end win only when it fits the bookings better than the anchor.
    """
    booked, day = pl.col("booked_on"), pl.col("booked_on").dt.day()
    to_end = booked.dt.month_end().dt.day() - day
    after, before = pl.col("slack_after"), pl.col("slack_before")
    month = booked.dt.truncate("1mo")
    # days from the booking to the anchor day of its own month, the one before and the one after
    offsets = [
        (_day_in_month(month.dt.offset_by(f"{k}mo"), pl.col("anchor_day")) - booked)
        .dt.total_days()
        for k in (-1, 0, 1)
    ]
    late = -offsets[1]
    return [
        ((to_end <= after + 1) | (day <= before)).alias("_end"),
        ((to_end <= after) | (day <= before)).alias("_end_exact"),
        pl.any_horizontal([o.is_between(-before, after) for o in offsets]).alias("_on_anchor"),
        # which way a nominal day off business days was moved: ``_roll`` is +1 forward, -1 back
        pl.when(late.is_between(1, before)).then(1).when(late.is_between(-after, -1)).then(-1)
        .otherwise(0).alias("_roll"),
        pl.when(day <= before).then(1).when(to_end.is_between(1, after)).then(-1)
        .otherwise(0).alias("_roll_end"),
    ]


def _describe(members: pl.DataFrame, calendar: pl.DataFrame, as_of: date) -> SeriesResult:
    m = (
        members.sort("cid", "t", "amount", "id")
        .with_columns(
            pl.col("booked_on").dt.day().median().round().cast(pl.Int32).over("cid")
            .alias("anchor_day")
        )
        .with_columns(_month_end_votes())
    )
    monthly = _per_cadence("months", pl.Int32) > 0
    end_hits, anchor_hits = pl.col("_end_exact").sum(), pl.col("_on_anchor").sum()
    s = m.group_by("cid").agg(
        pl.col("account_id").first(),
        pl.col("customer_id").first(),
        pl.col("merchant_key").first(),
        pl.col("merchant").drop_nulls().last(),
        pl.col("category_detailed").drop_nulls().last(),
        pl.col("account_type").first(),
        pl.col("currency").first(),
        pl.col("country").first(),
        pl.col("direction").first(),
        pl.col("cadence").first(),
        pl.col("amount"),
        pl.col("booked_on").min().alias("first_date"),
        pl.col("booked_on").max().alias("last_date"),
        pl.len().cast(pl.Int64).alias("occurrences"),
        pl.col("anchor_day").first(),
        (
            (pl.col("_end").mean() >= 0.5)
            & (~monthly.first() | (end_hits >= anchor_hits))
        ).alias("month_end"),
        pl.when(monthly.first()).then(pl.col("_roll").sum()).otherwise(0).alias("_roll"),
        pl.col("_roll_end").sum().alias("_roll_end"),
        pl.col("booked_on").dt.weekday().median().round().cast(pl.Int32).alias("weekday"),
    )
    steps = _level_changes(m, "cid")
    s = s.join(steps, on="cid").with_columns(
        # a fixed price repeats exactly, through its price changes; varying amounts rarely do
        (
            pl.col("amount").list.n_unique()
            > pl.max_horizontal(pl.lit(2), pl.col("occurrences") / 2)
        ).alias("amount_varies")
    )
    ids: list[str] = []
    typical: list[int] = []
    last_level: list[int] = []
    change_rows: list[list[tuple[int, int, int]] | None] = []
    for account, key, direction, amounts, varies, n_changes in s.select(
        "account_id", "merchant_key", "direction", "amount", "amount_varies", "level_changes"
    ).iter_rows():
        if not n_changes:
            ids.append(_series_id(account, key, direction, str(amounts[0])))
            typical.append(amounts[0])
            last_level.append(amounts[0])
            change_rows.append(None)
            continue
        if varies:
            label = "~"
            recent = sorted(amounts[-6:])
            mid = len(recent) // 2
            med = recent[mid] if len(recent) % 2 else (recent[mid - 1] + recent[mid]) // 2
            typical.append(med)
            last_level.append(med)
        else:
            label = str(amounts[0])
            levels = _price_levels(amounts)
            typical.append(levels[-1][2])
            last_level.append(levels[-1][2])
        ids.append(_series_id(account, key, direction, label))
        change_rows.append(None if varies else _price_levels(amounts))
    s = s.with_columns(
        pl.Series("series_id", ids, dtype=pl.String),
        pl.Series("_typical", typical, dtype=pl.Int64),
        pl.Series("_next", last_level, dtype=pl.Int64),
    )
    sign = pl.when(pl.col("direction") == "in").then(1).otherwise(-1)
    s = _next_dates(s, calendar)
    s = s.with_columns(
        (pl.col("_typical") * sign).alias("typical_amount_minor"),
        (pl.col("amount").list.last() * sign).alias("last_amount_minor"),
        (pl.col("_next") * sign).alias("next_amount_minor"),
        series_status(as_of).alias("status"),
    ).with_columns(series_kind().alias("kind"))
    series = conform(s, SERIES, what="series").select(list(SERIES)).sort("series_id")

    dates_by_cid = m.group_by("cid").agg(pl.col("booked_on"))
    dated = s.select("cid", "series_id", "direction").join(dates_by_cid, on="cid")
    lookup = {cid: (sid, d, bk) for cid, sid, d, bk in dated.iter_rows()}
    changes: list[tuple[str, date, int, int]] = []
    for cid, found_levels in zip(s["cid"].to_list(), change_rows, strict=True):
        if not found_levels or len(found_levels) < 2:
            continue
        sid, direction, booked = lookup[cid]
        sg = 1 if direction == "in" else -1
        for before, after in itertools.pairwise(found_levels):
            changes.append((sid, booked[after[0]], before[2] * sg, after[2] * sg))
    change_frame = pl.DataFrame(changes, schema=dict(SERIES_CHANGES), orient="row").sort(
        "series_id", "effective_date"
    )
    member_frame = (
        members.join(s.select("cid", "series_id"), on="cid")
        .select(pl.col("id").alias("transaction_id"), "series_id")
        .sort("transaction_id")
    )
    return SeriesResult(
        series,
        conform(change_frame, SERIES_CHANGES, what="series changes"),
        conform(member_frame, SERIES_MEMBERS, what="series members"),
    )
