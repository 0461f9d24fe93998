"""A file's conventions -- its decimal mark and its day/month order -- decided once, for the file.

``1,234`` is 1234 with a decimal point and 1.234 with a decimal comma; ``01/02/2024`` is the first
of February day-first and the second of January month-first. Deciding this per batch read a
1M-row US export day-first wherever a batch of 10,000 rows held no day above 12 (26.8% of its
dates wrong), and a re-import with another batch size read them differently again. So the
evidence is counted over the whole file, once, before any row is validated:

* an amount is evidence for a mark when it reads with that mark only (``12,50``, ``1,234.56``,
  ``1.234.567``; ``1,234`` in EUR, since 1.234 EUR is no amount), and *ambiguous* when it reads
  with both, differently (``1,230`` in EUR, ``1,234`` in KWD);
* a ``d/m/y`` date is evidence for an order when it reads in that order only (``13/01/2024``),
  and ambiguous when it reads in both, differently (``01/02/2024``; ``05/05/2024`` is the same).

The larger side wins, and the values of the other side are rejected row by row (they do not fit
the file's convention). A tie, or ambiguous values and no evidence at all, refuses the file with
the reason, unless the mapping fixes the convention (``decimal``, ``day_first``,
``date_format``). Dates written with dots (``05.01.2024``) are day-first when nothing else tells:
no country writes month-first dates with dots.

``Evidence`` adds up, so a reader can count it in one pass over data it holds, or stream it from
a file it reads in slices; ``settle`` turns the totals into the ``SourceOptions`` every chunk of
the file is validated with.

>>> frame = pl.DataFrame({"booked_at": ["01/02/2024", "01/31/2024"], "amount": ["1", "2.50"],
...                       "currency": ["USD", "USD"]})
>>> opts = settle(gather(frame, RecordKind.TRANSACTION, SourceOptions()), SourceOptions(), "f")
>>> (opts.decimal, opts.day_first)
('.', False)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl

from tactful.domain.money import known_currencies, minor_units
from tactful.errors import IngestError
from tactful.ingest.schema import Chunk, FieldType, RecordKind, SourceOptions, fields_of

__all__ = [
    "Evidence",
    "amount_fits",
    "clean_amount",
    "gather",
    "settle",
    "settled",
]


@dataclass(frozen=True, slots=True)
class Evidence:
    """Counts of values that tell a convention, and the first value that could not tell."""

    comma: int = 0
    dot: int = 0
    amount_either: str | None = None
    day_first: int = 0
    month_first: int = 0
    date_either: str | None = None  # with '/' or '-': no convention to fall back on

    def __add__(self, other: Evidence) -> Evidence:
        return Evidence(
            self.comma + other.comma,
            self.dot + other.dot,
            self.amount_either or other.amount_either,
            self.day_first + other.day_first,
            self.month_first + other.month_first,
            self.date_either or other.date_either,
        )


# -- amounts --------------------------------------------------------------------------------


def clean_amount(text: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(digits and separators only, is negative, is well-formed) from a bank's amount text."""
    t = text.str.replace_all("\u2212", "-").str.replace_all(r"[\s\u00a0\u202f']", "")
    negative = (
        t.str.starts_with("-")
        | t.str.ends_with("-")
        | (t.str.starts_with("(") & t.str.ends_with(")"))
        | t.str.contains(r"(?i)(DR|D|DEBIT)$")
    )
    body = (
        t.str.replace(r"(?i)(DR|CR|D|C|DEBIT|CREDIT)$", "")
        .str.replace_all(r"^[(+-]+|[)+-]+$", "")
        .str.replace_all(r"^[A-Z]{3}|[A-Z]{3}$", "")
        .str.replace_all(r"[€$£¥₹₽₩₪₺]|Kč|zł|kr", "")
        .str.replace_all(r"^[(+-]+|[)+-]+$", "")
    )
    well_formed = body.str.contains(r"^\d[\d.,]*$|^[.,]\d+$")
    return body, negative, well_formed


def _grammar(mark: str) -> str:
    """An amount with ``mark`` as its decimal mark: the other mark may only group thousands,
    in threes after a first group of one to three digits (``1,234,567.89``)."""
    d = "\\" + mark
    g = "\\" + ("," if mark == "." else ".")
    return rf"^(?:\d+|[1-9]\d{{0,2}}(?:{g}\d{{3}})+)(?:{d}\d*)?$|^{d}\d+$"


def amount_fits(body: pl.Expr, mark: str) -> pl.Expr:
    """Whether a cleaned amount reads with ``mark`` as the decimal mark."""
    return body.str.contains(_grammar(mark))


def _decimals(body: pl.Expr, mark: str) -> pl.Expr:
    """Significant decimal places of ``body`` read with ``mark`` (trailing zeros do not count)."""
    return (
        body.str.extract("\\" + mark + r"(\d*)$", 1)
        .fill_null("")
        .str.strip_chars_end("0")
        .str.len_chars()
    )


def _amount_evidence(frame: pl.DataFrame, kind: RecordKind, opts: SourceOptions) -> Evidence:
    names = [
        s.name
        for s in fields_of(kind)
        if s.type is FieldType.MONEY and s.name in frame.columns and frame.schema[s.name] == pl.Utf8
    ]
    if not names or opts.decimal:
        return Evidence()
    if "currency" in frame.columns:
        currency = pl.col("currency").cast(pl.Utf8).str.strip_chars().str.to_uppercase()
        if opts.currency:
            currency = currency.fill_null(pl.lit(opts.currency))
    else:
        currency = pl.lit(opts.currency, dtype=pl.Utf8)
    digits = currency.replace_strict(
        {c: minor_units(c) for c in known_currencies()}, default=None, return_dtype=pl.Int64
    )
    comma = dot = 0
    either: str | None = None
    for name in names:
        # Each step on a materialized column: as one lazy expression, the cleaning was
        # evaluated once per use (2 s for 300k amounts instead of 0.2 s).
        work = frame.select(
            t=pl.col(name).cast(pl.Utf8).str.strip_chars(), d=digits.fill_null(9)
        ).with_columns(body=clean_amount(pl.col("t"))[0])
        work = work.filter(pl.col("body").str.contains(r"[.,]"))
        work = work.with_columns(
            comma=amount_fits(pl.col("body"), ",")
            & (_decimals(pl.col("body"), ",") <= pl.col("d")),
            dot=amount_fits(pl.col("body"), ".") & (_decimals(pl.col("body"), ".") <= pl.col("d")),
        )
        row = work.select(
            comma=(pl.col("comma") & ~pl.col("dot")).sum(),
            dot=(pl.col("dot") & ~pl.col("comma")).sum(),
            either=pl.col("t").filter(pl.col("comma") & pl.col("dot")).first(),
        ).row(0, named=True)
        comma += int(row["comma"] or 0)
        dot += int(row["dot"] or 0)
        either = either or row["either"]
    return Evidence(comma=comma, dot=dot, amount_either=either)


# -- dates ----------------------------------------------------------------------------------

_DMY = r"^(\d{1,2})([/.-])(\d{1,2})([/.-])\d{2,4}(?:$|[ T])"


def _date_evidence(frame: pl.DataFrame, kind: RecordKind, opts: SourceOptions) -> Evidence:
    if opts.date_format or opts.day_first is not None:
        return Evidence()
    names = [
        s.name
        for s in fields_of(kind)
        if s.type in (FieldType.TIMESTAMP, FieldType.DATE)
        and s.name in frame.columns
        and frame.schema[s.name] == pl.Utf8
    ]
    day_first = month_first = 0
    either: str | None = None
    for name in names:
        text = frame[name].str.strip_chars()
        parts = text.str.extract_groups(_DMY).struct.unnest()
        work = parts.select(
            a=pl.col("1").cast(pl.Int32, strict=False),
            b=pl.col("3").cast(pl.Int32, strict=False),
            dots=pl.col("2") == ".",
            same=pl.col("2") == pl.col("4"),
        ).with_columns(t=text)
        work = work.filter(pl.col("same"))
        a, b = pl.col("a"), pl.col("b")
        row = work.select(
            day=(a.is_between(13, 31) & b.is_between(1, 12)).sum(),
            month=(b.is_between(13, 31) & a.is_between(1, 12)).sum(),
            either=pl.col("t")
            .filter(a.is_between(1, 12) & b.is_between(1, 12) & (a != b) & ~pl.col("dots"))
            .first(),
        ).row(0, named=True)
        day_first += int(row["day"] or 0)
        month_first += int(row["month"] or 0)
        either = either or row["either"]
    return Evidence(day_first=day_first, month_first=month_first, date_either=either)


# -- the decision ---------------------------------------------------------------------------


def gather(frame: pl.DataFrame, kind: RecordKind, opts: SourceOptions) -> Evidence:
    """The evidence in ``frame`` (canonical columns of ``kind``, after the mapping)."""
    if frame.height == 0:
        return Evidence()
    return _amount_evidence(frame, kind, opts) + _date_evidence(frame, kind, opts)


def settle(evidence: Evidence, opts: SourceOptions, source: str) -> SourceOptions:
    """``opts`` with the decimal mark and date order fixed for the whole file.

    Raises ``IngestError`` naming the file when the file leaves a convention open.
    """
    decimal = opts.decimal
    if decimal is None:
        if evidence.comma != evidence.dot:
            decimal = "," if evidence.comma > evidence.dot else "."
        elif evidence.comma:
            raise IngestError(
                f"{source}: the decimal mark is ambiguous: {evidence.comma} amount(s) read only "
                f"with ',' and {evidence.dot} only with '.'; set decimal in the mapping"
            )
        elif evidence.amount_either is not None:
            raise IngestError(
                f"{source}: the decimal mark cannot be told: no amount reads with one mark only "
                f"and {evidence.amount_either!r} reads with either; set decimal in the mapping"
            )
        else:
            decimal = "."
    day_first = opts.day_first
    if day_first is None and not opts.date_format:
        if evidence.day_first != evidence.month_first:
            day_first = evidence.day_first > evidence.month_first
        elif evidence.day_first:
            raise IngestError(
                f"{source}: the date order is ambiguous: {evidence.day_first} date(s) read only "
                f"day first and {evidence.month_first} only month first; set day_first or "
                "date_format in the mapping"
            )
        elif evidence.date_either is not None:
            raise IngestError(
                f"{source}: the date order cannot be told: no date has a day above 12 and "
                f"{evidence.date_either!r} reads day first or month first; set day_first or "
                "date_format in the mapping"
            )
        else:
            day_first = True
    return dataclasses.replace(opts, decimal=decimal, day_first=day_first, settled=True)


def settle_chunks(chunks: list[Chunk], source: str) -> list[Chunk]:
    """``chunks`` of one file with the conventions of all of them together."""
    pending = [c for c in chunks if not c.options.settled and c.frame.height]
    if not pending:
        return chunks
    evidence = Evidence()
    for chunk in pending:
        evidence += gather(chunk.frame, chunk.kind, chunk.options)
    out = []
    for chunk in chunks:
        if not chunk.options.settled:
            chunk = dataclasses.replace(chunk, options=settle(evidence, chunk.options, source))
        out.append(chunk)
    return out


def settled(chunks: Iterator[Chunk], source: str) -> Iterator[Chunk]:
    """Pass settled chunks through; at the first unsettled one, read the rest of the file and
    settle it as a whole (a reader that does not settle its own chunks costs their memory)."""
    for chunk in chunks:
        if chunk.options.settled:
            yield chunk
            continue
        yield from settle_chunks([chunk, *chunks], source)
        return
