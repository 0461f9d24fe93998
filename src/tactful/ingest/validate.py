"""Check and type a chunk of canonical rows, the same way for every format.

Everything is a vectorized Polars expression, so a million rows validate in about a second: each
field yields a typed value column and an error column (``None`` when the value is fine); a row with
any error is rejected, naming its location, the first bad field and why. Good rows go on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import replace
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl
from babel import Locale, UnknownLocaleError

from tactful.domain.enums import TransactionStatus
from tactful.domain.money import known_currencies, minor_units
from tactful.errors import IngestError
from tactful.ingest.conventions import amount_fits, clean_amount, gather, settle
from tactful.ingest.keys import digest
from tactful.ingest.schema import (
    LOCATION,
    ROW_REJECT,
    Chunk,
    FieldSpec,
    FieldType,
    RecordKind,
    Reject,
    SourceOptions,
    fields_of,
)

DEFAULTS: dict[tuple[RecordKind, str], str] = {
    (RecordKind.TRANSACTION, "channel"): "other",
    (RecordKind.TRANSACTION, "status"): "posted",
    (RecordKind.TRANSACTION, "description"): "",
    (RecordKind.CUSTOMER, "personalization_level"): "basic",
    (RecordKind.CUSTOMER, "channel_preferences"): "in_app",
    (RecordKind.CONSENT, "source"): "unknown",
}

_LOW_CARDINALITY = frozenset(
    {
        FieldType.ENUM,
        FieldType.CURRENCY,
        FieldType.MCC,
        FieldType.LIST,
        FieldType.TIME,
        FieldType.TIMEZONE,
        FieldType.LOCALE,
    }
)
_FLAGS: dict[str, bool] = {"true": True, "yes": True, "y": True, "1": True,
                           "false": False, "no": False, "n": False, "0": False}
"""A flag as banks' exports write it; anything else is rejected rather than guessed."""
_STATUSES = {str(s) for s in TransactionStatus}
_STATUS_WORDS = {
    **dict.fromkeys(("completed", "complete", "booked", "settled", "cleared", "executed",
                     "processed"), "posted"),
    **dict.fromkeys(("authorised", "authorized", "reserved", "on_hold", "hold", "in_progress",
                     "processing"), "pending"),
    **dict.fromkeys(("reverted", "failed", "rejected", "cancelled", "canceled"), "declined"),
}
"""A transaction's state as banks' exports write it (Revolut: COMPLETED, PENDING, REVERTED,
DECLINED). Without these, a file's pending payments were rejected, or, read without its state
column, stored as posted; "reverted" is a payment undone before it settled: no money moved."""
_NOT_YET = {"pending", "authorised", "authorized", "reserved", "processing"}
_NO_DATE_YET = " is no date: the payment is not booked yet (a later export will carry it)"
_TS_FORMATS_AWARE = ("%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%d %H:%M%z")
_TS_FORMATS_NAIVE = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M")
_DATE_FORMATS_ISO = ("%Y-%m-%d", "%Y%m%d")
_ISO_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d")


def _err(cond: pl.Expr, message: str | pl.Expr) -> pl.Expr:
    msg = pl.lit(message) if isinstance(message, str) else message
    return pl.when(cond).then(msg).otherwise(pl.lit(None, dtype=pl.Utf8))


def _text(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Utf8).str.strip_chars().replace("", None)


def _quoted(expr: pl.Expr) -> pl.Expr:
    return pl.lit("'") + expr.str.slice(0, 40) + pl.lit("'")


# -- timestamps -----------------------------------------------------------------------------


def _plausible(expr: pl.Expr) -> pl.Expr:
    """Drop parses that land outside 1900-2200: '1/2/24' read with %Y is year 24, not 2024."""
    year = expr.dt.year()
    return pl.when((year >= 1900) & (year <= 2200)).then(expr)


def _to_utc(aware: list[pl.Expr], naive: list[pl.Expr], opts: SourceOptions) -> list[pl.Expr]:
    return [_plausible(e).dt.convert_time_zone("UTC").dt.cast_time_unit("us") for e in aware] + [
        _plausible(e)
        .dt.cast_time_unit("us")
        .dt.replace_time_zone(opts.timezone, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
        for e in naive
    ]


def _day_month_candidates(values: pl.Series, opts: SourceOptions) -> list[pl.Expr]:
    sample = values.drop_nulls()
    out: list[pl.Expr] = []
    for sep in ("/", ".", "-"):
        if not sample.str.contains(rf"^\d{{1,2}}\{sep}\d{{1,2}}\{sep}\d{{2,4}}").any():
            continue
        # The order was settled for the whole file (conventions.py), never per batch.
        order = ("%d", "%m") if opts.day_first is not False else ("%m", "%d")
        for year in ("%Y", "%y"):
            base = f"{order[0]}{sep}{order[1]}{sep}{year}"
            out += [
                pl.col("v").str.to_datetime(base + " %H:%M:%S%.f", strict=False),
                pl.col("v").str.to_datetime(base + " %H:%M:%S", strict=False),
                pl.col("v").str.to_datetime(base + " %H:%M", strict=False),
                pl.col("v").str.to_date(base, strict=False).cast(pl.Datetime("us")),
            ]
    return out


_NAMED_MONTHS = (
    *(
        f"%d{sep}{month}{sep}{year}"
        for sep in ("-", " ", "/", ".")
        for month in ("%b", "%B")
        for year in ("%Y", "%y")
    ),
    "%b %d, %Y",
    "%B %d, %Y",
)
"""Dates with the month's English name, as card and Asian banks' exports write them
("28-Mar-2020" at John Lewis, "06 May 2020" at DBS): no day/month order to settle."""


def _named_month_candidates(values: pl.Series) -> list[pl.Expr]:
    if not values.drop_nulls().str.contains(r"\d[ ./-]?[A-Za-z]{3}").any():
        return []
    return [
        pl.col("v").str.to_date(f, strict=False).cast(pl.Datetime("us")) for f in _NAMED_MONTHS
    ]


def _first_parse(frame: pl.DataFrame, candidates: list[pl.Expr]) -> tuple[pl.Series, pl.Series]:
    """For each value, the first candidate (in list order) that parses it.

    Equivalent to ``coalesce(candidates)`` but, as a column nearly always has one format, the
    candidates are tried on what is still unparsed only: one parse of a million rows, not twenty.
    """
    result = pl.Series("v", [None] * frame.height, dtype=pl.Datetime("us", "UTC"))
    todo = frame["v"].is_not_null()
    for candidate in candidates:
        if not todo.any():
            break
        positions = todo.arg_true()
        parsed = frame.filter(todo).select(candidate.alias("v"))["v"]
        hit = parsed.is_not_null()
        if hit.any():
            result = result.scatter(positions.filter(hit), parsed.filter(hit))
            todo = todo.scatter(positions.filter(hit), False)
    return result, todo


# Exact ISO 8601 spellings, each read by one explicit format (about 20x faster than letting
# Polars infer the format per column, and than the normalize-then-try list below). Every value
# one of them reads means the same instant as in the careful path; "Z" is UTC whatever the
# mapping's zone, a bare time is in the mapping's zone.
_ISO_FAST: tuple[tuple[str, str | None], ...] = (
    ("%Y-%m-%dT%H:%M:%S%.fZ", "UTC"),
    ("%Y-%m-%dT%H:%M:%S%.f%:z", None),
    ("%Y-%m-%d %H:%M:%S%.f%:z", None),
    ("%Y-%m-%dT%H:%M:%S%.f", ""),
    ("%Y-%m-%d %H:%M:%S%.f", ""),
)


def _iso_fast_path(text: pl.Series, first: str, opts: SourceOptions) -> pl.Series | None:
    """The column read with the one ISO format its first value has, or None if that format
    does not read every value (plausibly), which sends the column through the careful path."""
    for fmt, zone in _ISO_FAST:
        probe = pl.Series([first]).str.to_datetime(fmt, strict=False, time_unit="us")
        if probe.null_count():
            continue
        parsed = text.str.to_datetime(fmt, strict=False, time_unit="us")
        if zone == "UTC":
            parsed = parsed.dt.replace_time_zone("UTC")
        elif zone == "":
            parsed = parsed.dt.replace_time_zone(
                opts.timezone, ambiguous="earliest", non_existent="null"
            )
        parsed = parsed.dt.convert_time_zone("UTC")
        year = parsed.dt.year()
        unread = parsed.is_null() & text.is_not_null()
        implausible = (year < 1900) | (year > 2200)
        if unread.any() or implausible.any():
            return None
        return parsed.alias("v")
    return None


def _parse_timestamp(series: pl.Series, opts: SourceOptions, *, as_date: bool) -> pl.Series:
    """Aware UTC datetimes (or dates) from text in the formats bank exports use."""
    dtype = series.dtype
    if isinstance(dtype, pl.Datetime):
        out = (
            series
            if dtype.time_zone
            else series.dt.replace_time_zone(
                opts.timezone, ambiguous="earliest", non_existent="null"
            )
        )
        out = out.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
        return out.dt.date() if as_date else out
    if dtype == pl.Date:
        if as_date:
            return series
        return (
            series.cast(pl.Datetime("us"))
            .dt.replace_time_zone(opts.timezone, ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC")
        )
    if series.null_count() == len(series):  # a column the file does not have
        empty = pl.repeat(None, len(series), dtype=pl.Datetime("us", "UTC"), eager=True)
        return empty.dt.date().alias("v") if as_date else empty.alias("v")
    text = series.cast(pl.Utf8).str.strip_chars()
    first = text.drop_nulls().head(1).to_list()
    if not opts.date_format and first and _ISO_PREFIX.match(first[0]):
        fast = _iso_fast_path(text, first[0], opts)
        if fast is not None:
            return fast.dt.date() if as_date else fast
    out = _parse_text(text, opts)
    return out.dt.date() if as_date else out


def _parse_text(text: pl.Series, opts: SourceOptions) -> pl.Series:
    """The careful path: every spelling this reader knows, tried on what is still unread."""
    if not opts.date_format:
        # year first with dots or slashes is year-month-day in every country that writes it
        # (Hungary: "2019.04.19.", Japan and China: "2019/04/19"); a date_format reads the
        # text as written
        text = text.str.replace(r"^(\d{4})[./](\d\d)[./](\d\d)\.?($|[ T].*)", "$1-$2-$3$4")
    norm = (
        text.str.replace(r"^(\d{4}-\d\d-\d\d)T", "$1 ")
        .str.replace(r"(?i)z$", "+00:00")
        .str.replace(r" ([+-]\d\d:?\d\d)$", "$1")
    )
    frame = pl.DataFrame({"v": norm})
    aware_cols: list[pl.Expr] = []
    naive_cols: list[pl.Expr] = []
    if opts.date_format:
        target = pl.col("v").str.to_datetime(opts.date_format, strict=False)
        (aware_cols if "%z" in opts.date_format else naive_cols).append(target)
    else:
        aware_cols += [pl.col("v").str.to_datetime(f, strict=False) for f in _TS_FORMATS_AWARE]
        naive_cols += [pl.col("v").str.to_datetime(f, strict=False) for f in _TS_FORMATS_NAIVE]
        naive_cols += [
            pl.col("v").str.to_date(f, strict=False).cast(pl.Datetime("us"))
            for f in _DATE_FORMATS_ISO
        ]
    candidates = _to_utc(aware_cols, naive_cols, opts)
    out, todo = _first_parse(frame, candidates)
    if todo.any() and not opts.date_format:
        # Day-month-year spellings, only for what ISO did not read: the column's own values
        # decide whether 01/02 is the first of February or the second of January.
        rest = frame.filter(todo)
        local = _day_month_candidates(rest["v"], opts) + _named_month_candidates(rest["v"])
        if local:
            more, _ = _first_parse(rest, _to_utc([], local, opts))
            out = out.scatter(todo.arg_true(), more)
    return out


# -- money ----------------------------------------------------------------------------------


_FLOAT_EXACT = 2**53  # beyond this a float no longer holds every integer


def _minor_column(raw: pl.Series) -> tuple[pl.Series, pl.Series]:
    """An ``<name>_minor`` column as exact integers, or an error per value.

    Text and integer columns must hold integers within int64; a float column (Parquet,
    JSON) must hold whole numbers small enough for a float to be exact: 1250.7 minor units is
    not an amount, and truncating it to 1250 would invent one.
    """
    txt = raw.cast(pl.Utf8).str.strip_chars().replace("", None)
    quoted = pl.lit("'") + pl.lit(txt).str.slice(0, 40) + pl.lit("'")
    if raw.dtype.is_integer():
        value = raw.cast(pl.Int64, strict=False)
        bad = value.is_null() & raw.is_not_null()
        reason: pl.Expr = quoted + pl.lit(" is too large for 64-bit minor units")
    elif raw.dtype.is_float() or raw.dtype.is_decimal():
        as_float = raw.cast(pl.Float64)
        whole = as_float.is_finite() & (as_float == as_float.floor())
        exact = as_float.abs() <= _FLOAT_EXACT
        value = pl.select(pl.when(pl.lit(whole & exact)).then(pl.lit(as_float))).to_series()
        value = value.cast(pl.Int64, strict=False)
        bad = raw.is_not_null() & ~(whole & exact).fill_null(False)
        reason = (
            pl.when(pl.lit(whole).fill_null(False))
            .then(quoted + pl.lit(f" is beyond {_FLOAT_EXACT:,}, where a float is not exact"))
            .otherwise(quoted + pl.lit(" is not a whole number of minor units"))
        )
    else:
        value = txt.cast(pl.Int64, strict=False)
        bad = value.is_null() & txt.is_not_null()
        reason = (
            pl.when(pl.lit(txt).str.contains(r"^[+-]?\d+$"))
            .then(quoted + pl.lit(" is too large for 64-bit minor units"))
            .otherwise(quoted + pl.lit(" is not an integer number of minor units"))
        )
    err = pl.select(_err(pl.lit(bad), reason)).to_series()
    return value.alias("v"), err


def _money(
    frame: pl.DataFrame, spec: FieldSpec, opts: SourceOptions
) -> tuple[pl.Series, pl.Series]:
    name = spec.name
    currency = (
        frame["currency"]
        if "currency" in frame.columns
        else pl.Series([opts.currency] * frame.height, dtype=pl.Utf8)
    )
    digits = currency.cast(pl.Utf8).replace_strict(
        {c: minor_units(c) for c in known_currencies()}, default=None, return_dtype=pl.Int64
    )
    minor_col = f"{name}_minor"
    if minor_col in frame.columns:
        return _minor_column(frame[minor_col])
    if name not in frame.columns:
        empty = pl.Series([None] * frame.height, dtype=pl.Int64)
        return empty, pl.Series([None] * frame.height, dtype=pl.Utf8)
    mark = opts.decimal or "."
    other = "," if mark == "." else "."
    work = pl.DataFrame(
        {"t": frame[name].cast(pl.Utf8).str.strip_chars().replace("", None), "d": digits}
    )
    body, negative, _ = clean_amount(pl.col("t"))
    work = work.with_columns(body=body, neg=negative).with_columns(
        ok=pl.col("body").str.contains(r"^\d[\d.,]*$|^[.,]\d+$"),
        fits=amount_fits(pl.col("body"), mark),
        fits_other=amount_fits(pl.col("body"), other),
    )
    # Read with the file's mark: the other mark only groups thousands, so it goes.
    plain = pl.col("body").str.replace_all("\\" + other, "")
    if mark == ",":
        plain = plain.str.replace(",", ".")
    work = work.with_columns(plain=plain).with_columns(
        int_part=pl.col("plain").str.extract(r"^(\d*)\.?", 1).replace("", "0"),
        frac=pl.col("plain").str.extract(r"\.(\d*)$", 1).fill_null(""),
    )
    work = work.with_columns(frac_sig=pl.col("frac").str.strip_chars_end("0"))
    # Minor units as one digit string, cast once: a value beyond int64 becomes null instead
    # of wrapping around (17 digits of EUR used to come back as another number).
    frac_digits = pl.col("frac_sig").str.pad_end(9, "0").str.slice(0, pl.col("d").cast(pl.UInt32))
    magnitude = (pl.col("int_part") + frac_digits).cast(pl.Int64, strict=False)
    signed = pl.when(pl.col("neg")).then(-magnitude).otherwise(magnitude)
    t = pl.col("t")
    error = (
        pl.when(t.is_null())
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(pl.col("d").is_null())
        .then(pl.lit("cannot convert without a known currency"))
        .when(~pl.col("ok") | ~(pl.col("fits") | pl.col("fits_other")))
        .then(_quoted(t) + pl.lit(" is not an amount"))
        .when(~pl.col("fits"))
        .then(_quoted(t) + pl.lit(f" does not fit the file's decimal mark '{mark}'"))
        .when(pl.col("frac_sig").str.len_chars() > pl.col("d"))
        .then(
            _quoted(t)
            + pl.lit(" has more decimal places than ")
            + pl.Series(currency.cast(pl.Utf8)).fill_null("?")
            + pl.lit(" allows")
        )
        .when(magnitude.is_null())
        .then(_quoted(t) + pl.lit(" is too large for 64-bit minor units"))
        .otherwise(pl.lit(None, dtype=pl.Utf8))
    )
    out = work.select(v=pl.when(error.is_null() & t.is_not_null()).then(signed), e=error)
    return out["v"], out["e"]


# -- one field ------------------------------------------------------------------------------


def _field(
    frame: pl.DataFrame, spec: FieldSpec, kind: RecordKind, opts: SourceOptions
) -> tuple[str, pl.Series, pl.Series]:
    """(output name, typed values, errors) for one field."""
    name = spec.name
    n = frame.height
    t = spec.type
    if t is FieldType.MONEY:
        values, errors = _money(frame, spec, opts)
        return f"{name}_minor", values, errors
    present = name in frame.columns
    if not present:
        default = DEFAULTS.get((kind, name))
        if t is FieldType.CURRENCY and opts.currency:
            default = opts.currency
        col = pl.repeat(default, n, dtype=pl.Utf8, eager=True).alias(name)
        frame = frame.with_columns(col)
    raw = frame[name]
    if t in (FieldType.TIMESTAMP, FieldType.DATE):
        parsed = _parse_timestamp(raw, opts, as_date=t is FieldType.DATE)
        txt = raw.cast(pl.Utf8).str.strip_chars().replace("", None)
        bad = parsed.is_null() & txt.is_not_null()
        kind_word = "date" if t is FieldType.DATE else "date or time"
        reason = pl.lit(
            f" is not a {kind_word} this reader understands (set date_format in the mapping)"
        )
        if bad.any() and not opts.date_format:
            reason = _order_reason(txt, opts, reason)
        if bad.any() and opts.timezone != "UTC":
            # A wall-clock time skipped by a daylight-saving change parses in UTC but not locally.
            in_utc = _parse_timestamp(raw, replace(opts, timezone="UTC"), as_date=False)
            reason = (
                pl.when(pl.lit(in_utc).is_not_null())
                .then(pl.lit(f" does not exist in {opts.timezone} (clocks changed)"))
                .otherwise(reason)
            )
        if bad.any():
            # card exports write "Pending" where a payment not yet booked has no date: no
            # date_format can read it (Woolworths, M&S Bank)
            pending = pl.lit(txt).str.to_lowercase().is_in(sorted(_NOT_YET))
            reason = pl.when(pending).then(pl.lit(_NO_DATE_YET)).otherwise(reason)
        errors = pl.select(_err(pl.lit(bad), _quoted(pl.lit(txt)) + reason)).to_series()
        return name, parsed, errors
    if t is FieldType.FLOAT:
        values = raw.cast(pl.Float64, strict=False) if raw.dtype != pl.Float64 else raw
        txt = raw.cast(pl.Utf8).str.strip_chars().replace("", None)
        out = pl.DataFrame({"v": values, "t": txt}).select(
            v=pl.col("v"),
            e=pl.when(pl.col("v").is_null() & pl.col("t").is_not_null())
            .then(_quoted(pl.col("t")) + pl.lit(" is not a number"))
            .when(pl.col("v") < 0)
            .then(pl.lit("must not be negative")),
        )
        return name, out["v"], out["e"]
    work = pl.DataFrame({"t": raw}).select(t=_text("t"))
    default = DEFAULTS.get((kind, name))
    if default is not None:
        work = work.with_columns(pl.col("t").fill_null(default))
    tc = pl.col("t")
    value: pl.Expr = tc
    error: pl.Expr = pl.lit(None, dtype=pl.Utf8)
    if t is FieldType.ID and name == "transaction_id" and kind is RecordKind.TRANSACTION:
        # A bank's own id may be long (DCU writes 232 characters of base64): its digest keeps
        # it unique and stable across re-imports, where refusing it lost every row.
        long = work["t"].str.len_chars() > 128
        if long.any():
            work = work.with_columns(
                pl.when(long).then(pl.lit("b2:") + digest(work["t"].fill_null(""), size=20))
                .otherwise(pl.col("t")).alias("t")
            )  # fmt: skip
    elif t is FieldType.ID:
        error = _err(tc.str.len_chars() > 128, "is longer than 128 characters")
    if t is FieldType.ID:
        # A quote at either end of an id is what a line whose opening quote was lost leaves
        # behind (Rabobank: NL77RABO0311467415",...): the row's fields cannot be trusted, and
        # the id would make a new account of it. (Inside an id, as a JSON export may have it,
        # a quote is a character like any other.)
        error = pl.coalesce(
            error,
            _err(tc.str.starts_with('"') | tc.str.ends_with('"'),
                 pl.lit("holds a stray quote (") + _quoted(tc)
                 + pl.lit("): the line's quoting is broken")),
        )
    elif t is FieldType.CURRENCY:
        # RUR: the rouble's code from 1992 to 1997, still in Russian banks' exports (RUB now)
        value = tc.str.to_uppercase().replace({"RUR": "RUB"})
        error = _err(
            value.is_not_null() & ~value.is_in(sorted(known_currencies())),
            pl.lit("unknown ISO 4217 currency code ") + _quoted(tc),
        )
    elif t is FieldType.ENUM:
        lookup = {c.lower(): c for c in spec.choices}
        if set(spec.choices) == _STATUSES:
            lookup = {**_STATUS_WORDS, **lookup}
        key = tc.str.to_lowercase().str.replace_all(r"[\s-]+", "_")
        value = key.replace_strict(lookup, default=None, return_dtype=pl.Utf8)
        error = _err(
            tc.is_not_null() & value.is_null(),
            _quoted(tc) + pl.lit(" is not one of " + ", ".join(spec.choices)),
        )
    elif t is FieldType.FLAG:
        key = tc.str.to_lowercase()
        value = key.replace_strict(_FLAGS, default=None, return_dtype=pl.Boolean).fill_null(
            pl.when(tc.is_null()).then(pl.lit(False)))
        error = _err(tc.is_not_null() & ~key.is_in(sorted(_FLAGS)),
                     _quoted(tc) + pl.lit(" is not a flag (true/false, yes/no, 1/0)"))
    elif t is FieldType.LIST:
        allowed = set(spec.choices)
        items = (
            tc.str.to_lowercase()
            .str.replace_all(r"\s*[;,|]\s*", "|")
            .str.split("|")
            .list.eval(pl.element().filter(pl.element() != ""))
        )
        value = items.list.join("|")
        unknown = items.list.eval(pl.element().filter(~pl.element().is_in(sorted(allowed))))
        error = _err(
            unknown.list.len() > 0,
            pl.lit("unknown value(s) ")
            + unknown.list.join(", ")
            + pl.lit(" (expected " + ", ".join(spec.choices) + ")"),
        )
    elif t is FieldType.TIME:
        parts = tc.str.extract_groups(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")
        hh = parts.struct.field("1").cast(pl.Int32, strict=False)
        mm = parts.struct.field("2").cast(pl.Int32, strict=False)
        ok = (hh < 24) & (mm < 60)
        value = pl.when(ok).then(
            hh.cast(pl.Utf8).str.zfill(2) + ":" + mm.cast(pl.Utf8).str.zfill(2)
        )
        error = _err(tc.is_not_null() & ~ok.fill_null(False), _quoted(tc) + pl.lit(" is not HH:MM"))
    elif t is FieldType.MCC:
        ok = tc.str.contains(r"^\d{1,4}$")
        value = pl.when(ok).then(tc.str.zfill(4))
        error = _err(tc.is_not_null() & ~ok, _quoted(tc) + pl.lit(" is not a 4-digit MCC"))
    elif t in (FieldType.TIMEZONE, FieldType.LOCALE):
        check = _known_zone if t is FieldType.TIMEZONE else _known_locale
        uniques = work["t"].drop_nulls().unique().to_list()
        bad_values = sorted(v for v in uniques if not check(v))
        what = "an IANA time zone" if t is FieldType.TIMEZONE else "a known locale"
        error = _err(tc.is_in(bad_values), _quoted(tc) + pl.lit(f" is not {what}"))
    elif t is FieldType.JSON:
        return name, *_json(raw)
    if t in _LOW_CARDINALITY and work.height > 1_000:
        # Codes repeat: check each distinct value once and map the verdicts back.
        verdicts = work.select(pl.col("t").unique()).with_columns(v=value, e=error)
        out = work.join(verdicts, on="t", how="left", nulls_equal=True, maintain_order="left")
    else:
        out = work.select(v=value, e=error)
    return name, out["v"], out["e"]


def _order_reason(txt: pl.Series, opts: SourceOptions, otherwise: pl.Expr) -> pl.Expr:
    """Say so when a d/m/y date would read in the other order: the file's order was settled
    by its other dates, and this one contradicts them."""
    flipped = replace(opts, day_first=opts.day_first is False, settled=True)
    other = _parse_timestamp(txt, flipped, as_date=True)
    order = "day/month/year" if opts.day_first is not False else "month/day/year"
    dmy = txt.str.contains(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}")
    return (
        pl.when(pl.lit(dmy & other.is_not_null()))
        .then(pl.lit(f" does not fit the file's date order ({order})"))
        .otherwise(otherwise)
    )


@cache
def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@cache
def _known_locale(name: str) -> bool:
    try:
        Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return False
    return True


def _json(raw: pl.Series) -> tuple[pl.Series, pl.Series]:
    text = raw.cast(pl.Utf8).str.strip_chars().replace("", None)
    if text.null_count() < text.len():
        try:
            decoded = text.str.json_decode(infer_schema_length=None)
        except (pl.exceptions.PolarsError, ValueError):
            decoded = None
        if decoded is not None and isinstance(decoded.dtype, pl.Struct):
            # All objects (the common case): keep the text as the source wrote it.
            return text.fill_null("{}"), pl.Series([None] * text.len(), dtype=pl.Utf8)
    return _json_rows(raw)


def _json_rows(raw: pl.Series) -> tuple[pl.Series, pl.Series]:
    values: list[str | None] = []
    errors: list[str | None] = []
    for item in raw.to_list():
        if item is None or item == "" or item == {}:
            values.append("{}")
            errors.append(None)
            continue
        try:
            obj = json.loads(item) if isinstance(item, str) else item
        except json.JSONDecodeError as exc:
            values.append(None)
            errors.append(f"is not JSON ({exc.msg})")
            continue
        if not isinstance(obj, dict):
            values.append(None)
            errors.append("must be a JSON object")
        else:
            values.append(json.dumps(obj, sort_keys=True, default=str))
            errors.append(None)
    return pl.Series(values, dtype=pl.Utf8), pl.Series(errors, dtype=pl.Utf8)


# -- the chunk ------------------------------------------------------------------------------


def missing_required(kind: RecordKind, columns: Iterable[str], opts: SourceOptions) -> list[str]:
    """Required fields a file cannot supply with ``columns``."""
    have = set(columns)
    missing = []
    for spec in fields_of(kind):
        if not spec.required or spec.name in have:
            continue
        if spec.type is FieldType.MONEY and f"{spec.name}_minor" in have:
            continue
        if spec.type is FieldType.CURRENCY and opts.currency:
            continue
        missing.append(spec.name)
    return missing


def validate_chunk(chunk: Chunk) -> tuple[pl.DataFrame, list[Reject]]:
    """The chunk's good rows, typed, and a reject for every bad one."""
    frame = chunk.frame
    if LOCATION not in frame.columns:
        frame = frame.with_row_index(LOCATION, offset=1).with_columns(
            (pl.lit("record ") + pl.col(LOCATION).cast(pl.Utf8)).alias(LOCATION)
        )
    rejects = list(chunk.rejects)
    if frame.height == 0:
        return frame, rejects
    missing = missing_required(chunk.kind, frame.columns, chunk.options)
    if missing:
        raise IngestError(
            f"{chunk.source}: no column for required field(s) {', '.join(missing)} of "
            f"{chunk.kind.value} (columns found: "
            f"{', '.join(c for c in frame.columns if c != LOCATION)})"
        )
    opts = chunk.options
    if not opts.settled:
        # Called on a chunk of its own (a test, a library user): the chunk is the whole file.
        opts = settle(gather(frame, chunk.kind, opts), opts, chunk.source)
    typed: dict[str, pl.Series] = {}
    errors: list[pl.Series] = []
    specs = fields_of(chunk.kind)
    # Currency first: money fields read its parsed value.
    order = sorted(specs, key=lambda s: s.type is not FieldType.CURRENCY)
    for spec in order:
        out_name, values, errs = _field(frame, spec, chunk.kind, opts)
        if spec.type is FieldType.CURRENCY:
            frame = frame.with_columns(values.alias(spec.name))
        if spec.required:
            errs = pl.select(
                pl.when(pl.lit(values).is_null() & pl.lit(errs).is_null())
                .then(pl.lit("missing value"))
                .otherwise(pl.lit(errs))
            ).to_series()
        typed[out_name] = values.alias(out_name)
        errors.append(errs.alias(spec.name))
    if ROW_REJECT in frame.columns:
        # The reader's own verdict comes first: a row it could not sign has no amount to check.
        errors.insert(0, frame[ROW_REJECT].cast(pl.Utf8).alias("amount "))
    err_frame = pl.DataFrame(errors)
    first_field = pl.coalesce(
        [pl.when(pl.col(c).is_not_null()).then(pl.lit(c)) for c in err_frame.columns]
    )
    first_reason = pl.coalesce([pl.col(c) for c in err_frame.columns])
    verdict = err_frame.select(field=first_field, reason=first_reason)
    bad = verdict["reason"].is_not_null()
    result = pl.DataFrame(list(typed.values())).with_columns(frame[LOCATION])
    if bad.any():
        raw_cols = [c for c in frame.columns if c not in (LOCATION, ROW_REJECT)]
        bad_rows = frame.filter(bad)
        raw_text = bad_rows.select(
            pl.concat_str([pl.col(c).cast(pl.Utf8).fill_null("") for c in raw_cols], separator="|")
            if raw_cols
            else pl.lit("")
        )
        for loc, fld, reason, raw in zip(
            bad_rows[LOCATION].to_list(),
            [f.strip() for f in verdict.filter(bad)["field"].to_list()],
            verdict.filter(bad)["reason"].to_list(),
            raw_text.to_series().to_list(),
            strict=True,
        ):
            rejects.append(Reject(chunk.source, str(loc), str(reason), fld, str(raw)[:500]))
        result = result.filter(~bad)
    return result, rejects


def money_minor(frame: pl.DataFrame, name: str, opts: SourceOptions) -> pl.Series:
    """The text money column ``name`` of ``frame`` in minor units, None where it does not read
    (for checks that run before validation, such as a statement's running balance)."""
    if "currency" in frame.columns:
        frame = frame.with_columns(
            pl.col("currency").cast(pl.Utf8).str.strip_chars().str.to_uppercase()
        )
    values, _ = _money(frame, FieldSpec(name, FieldType.MONEY), opts)
    return values
