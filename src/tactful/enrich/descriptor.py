"""Read a raw bank descriptor without the bank's help: the channel it names, and its words.

Real exports often carry nothing but a description, an amount and a date: no channel column, no
MCC, no counterparty. The descriptor itself says a lot: "POS PURCHASE", "DEBIT ORDER",
"KARTENZAHLUNG", "PRLV SEPA", "GA NR..." name how the money moved; "SQ *", "ZETTLE_*",
"YOCO *" name the processor in front of the merchant; dates, times, masked card numbers and
terminal ids are noise. Which is which is data (``data/descriptors.csv``, one regex a row, with
its language and the channel it implies), so a bank adds its own formats without code.

``channel_expr`` names the channel of a row (the first pattern of the file that matches; else a
credit is a ``transfer`` and a debit a ``card`` payment, the commonest of each). ``clean_expr``
strips the wrappers and noise and leaves the words the category lexicon reads. Both are Polars
expressions run once per distinct descriptor. ``fill_from_descriptor`` applies them to the rows
whose bank gave no channel, and names the counterparty of a direct debit or an incoming transfer
from the descriptor's words when the bank gave none (a direct debit always names its creditor;
the merchant normalizer would otherwise read "no counterparty" as an own-account move).

>>> clean_descriptor("POS PURCHASE 12/03 SQ *BLUE DOOR BAKERY 4410 CAPE TOWN")
'BLUE DOOR BAKERY CAPE TOWN'
>>> infer_channel("DEBIT ORDER DISCOVERY LIFE 1234567", -45000)
'direct_debit'
>>> infer_channel("HAPPY DONUTS", -450)
'card'
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

import numpy as np
import polars as pl

from tactful.enrich.rules import regex_error
from tactful.errors import ConfigError

__all__ = [
    "CHANNELS",
    "DescriptorPattern",
    "channel_expr",
    "clean_descriptor",
    "clean_expr",
    "descriptor_patterns",
    "fill_from_descriptor",
    "infer_channel",
    "py_clean",
]

CHANNELS: Final = frozenset(
    {"card", "online", "atm", "transfer", "standing_order", "direct_debit", "fee", "interest",
     "other"}
)
"""The channels a descriptor pattern may name (those of the ``TRANSACTIONS`` frame)."""
_ACTIONS: Final = frozenset({"channel", "strip", "both"})
UNKNOWN_CHANNEL: Final = "other"
"""The importer's channel for a row whose export named none (``ingest/validate.py``)."""
_ACCOUNT_WORDS: Final = (
    r"\b(?:CHK|CHQ|SAV|SAVINGS|CHECKING|CURRENT|ACCOUNT|ACCT|ACC|KONTO|GIROKONTO|COMPTE|CUENTA"
    r"|REKENING|BETAALREKENING|SPAARREKENING|CONTO|TO|FROM|VAN|NAAR|DE|A|DA|AN|VON|INTERNAL|OWN)\b"
)
"""Words of an own-account transfer's descriptor that name no counterparty."""
_AFTER_LEGAL_FORM: Final = (
    r"^(.*?\b(?:INC|LLC|LTD|LIMITED|PLC|BV|NV|GMBH|AG|KG|SE|SL|SA|SAS|SARL|SRL|SPA|AB|AS|OY))\b.*$"
)
"""A company's name ends with its legal form; what follows is a reference."""


@dataclass(frozen=True, slots=True)
class DescriptorPattern:
    """One row of ``data/descriptors.csv``: a regex, what to do with it and what it says."""

    action: str
    pattern: str
    language: str
    channel: str | None
    line: int

    @property
    def strips(self) -> bool:
        return self.action in ("strip", "both")


@cache
def descriptor_patterns() -> tuple[DescriptorPattern, ...]:
    """The shipped patterns, validated once (a bad row names its line and why)."""
    text = resources.files("tactful.enrich").joinpath("data/descriptors.csv").read_text("utf-8")
    out: list[DescriptorPattern] = []
    for number, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        action = (row.get("action") or "").strip()
        if not action or action.startswith("#"):
            continue
        where = f"descriptors.csv:{number}"
        pattern = row.get("pattern") or ""
        channel = (row.get("channel") or "").strip() or None
        if action not in _ACTIONS:
            raise ConfigError(f"{where}: action {action!r} is not one of channel, strip, both")
        if channel is not None and channel not in CHANNELS:
            raise ConfigError(f"{where}: unknown channel {channel!r}")
        if action != "strip" and channel is None:
            raise ConfigError(f"{where}: action {action!r} needs a channel")
        reason = regex_error(pattern)
        if reason is not None:
            raise ConfigError(f"{where}: regex {pattern!r} does not compile: {reason}")
        out.append(
            DescriptorPattern(action, pattern, (row.get("language") or "").strip(), channel, number)
        )
    return tuple(out)


def _upper(description: pl.Expr) -> pl.Expr:
    return description.fill_null("").str.to_uppercase().str.replace_all(r"\s+", " ")


def channel_expr(description: pl.Expr, amount_minor: pl.Expr) -> pl.Expr:
    """The channel a descriptor names; a credit naming none is a ``transfer``, a debit a
    ``card`` payment."""
    text = _upper(description)
    default = pl.when(amount_minor > 0).then(pl.lit("transfer")).otherwise(pl.lit("card"))
    rows = [p for p in descriptor_patterns() if p.channel is not None and p.action != "strip"]
    if not rows:
        return default
    first = pl.when(text.str.contains(rows[0].pattern)).then(pl.lit(rows[0].channel))
    if len(rows) == 1:
        return first.otherwise(default)
    chain = first.when(text.str.contains(rows[1].pattern)).then(pl.lit(rows[1].channel))
    for p in rows[2:]:
        chain = chain.when(text.str.contains(p.pattern)).then(pl.lit(p.channel))
    return chain.otherwise(default)


def clean_expr(description: pl.Expr) -> pl.Expr:
    """The descriptor's own words: wrappers, processors, dates, numbers and punctuation gone."""
    text = _upper(description).str.strip_chars()
    patterns = descriptor_patterns()
    # Wrappers come first in the file, noise after; a wrapper hidden behind noise (a date
    # before the processor's "SQ *") is found by a second pass over the wrappers.
    for p in (*patterns, *(p for p in patterns if p.action == "both")):
        if p.strips:
            text = text.str.replace_all(p.pattern, " ").str.strip_chars_start()
    return (
        text.str.replace_all("'", "", literal=True)
        .str.replace_all(r"[^\p{L}\p{N}&+]+", " ")
        .str.strip_chars()
    )


def fill_from_descriptor(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with each unknown channel (null, or ``other``: what the importer writes when
    an export has no channel column) named from its descriptor and the amount's sign; on those
    rows, a direct debit or an incoming transfer without a counterparty gets the descriptor's
    own words as one (when they hold two letters in a row beyond account words). Known
    channels are left as they are; the work runs once per distinct (description, direction)."""
    for name in ("channel", "counterparty"):
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    if frame.height == 1:
        one = _fill_one(frame)
        if one is not None:
            return one
    unknown = pl.col("channel").is_null() | (pl.col("channel") == UNKNOWN_CHANNEL)
    mask = frame.select(unknown.fill_null(True)).to_series()
    if not mask.any():
        return frame
    rows = frame.filter(mask).select(
        "description", "counterparty", (pl.col("amount_minor") > 0).alias("__credit")
    )
    keys = rows.select("description", "__credit").unique()
    channel = channel_expr(
        pl.col("description"), pl.when(pl.col("__credit")).then(1).otherwise(-1)
    )
    named = keys.with_columns(channel.alias("__channel")).with_columns(
        pl.when(
            (pl.col("__channel") == "direct_debit")
            | ((pl.col("__channel") == "transfer") & pl.col("__credit"))
        )
        .then(clean_expr(pl.col("description")).str.replace(_AFTER_LEGAL_FORM, "$1"))
        .alias("__payee")
    )
    payee = (
        pl.col("__payee")
        .str.replace_all(_ACCOUNT_WORDS, " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )
    named = named.with_columns(
        pl.when(payee.str.contains(r"\p{L}{2}")).then(pl.col("__payee")).alias("__payee")
    )
    filled = rows.join(
        named, on=["description", "__credit"], how="left", nulls_equal=True, maintain_order="left"
    ).select(
        pl.col("__channel").alias("channel"),
        pl.when(
            (pl.col("counterparty").is_null() | (pl.col("counterparty") == ""))
            & pl.col("__payee").is_not_null()
        )
        .then(pl.col("__payee"))
        .otherwise(pl.col("counterparty"))
        .alias("counterparty"),
    )
    idx = np.flatnonzero(mask.to_numpy())
    return frame.with_columns(
        frame.get_column("channel").cast(pl.String).scatter(idx, filled.get_column("channel")),
        frame.get_column("counterparty")
        .cast(pl.String)
        .scatter(idx, filled.get_column("counterparty")),
    )


def _fill_one(frame: pl.DataFrame) -> pl.DataFrame | None:
    """``fill_from_descriptor`` of a one-row frame in plain Python, where it agrees with the
    frame path (``merchants.plain_text`` text of string columns); else ``None``."""
    from tactful.enrich.merchants import plain_text

    schema = frame.schema
    if any(schema.get(c) != pl.String for c in ("description", "channel", "counterparty")):
        return None
    row = frame.row(0, named=True)
    if row["channel"] is not None and row["channel"] != UNKNOWN_CHANNEL:
        return frame
    description, channel, counterparty = row["description"], row["channel"], row["counterparty"]
    if not (plain_text(description) and plain_text(channel) and plain_text(counterparty)):
        return None
    amount = row.get("amount_minor")
    filled = py_fill(description, amount is not None and amount > 0, channel, counterparty)
    if filled is None:
        return None
    return frame.with_columns(
        pl.lit(filled[0], dtype=pl.String).alias("channel"),
        pl.lit(filled[1], dtype=pl.String).alias("counterparty"),
    )


def clean_descriptor(description: str) -> str:
    """``clean_expr`` of one descriptor."""
    value = pl.select(clean_expr(pl.lit(description, dtype=pl.String))).item()
    return str(value)


def infer_channel(description: str, amount_minor: int) -> str:
    """``channel_expr`` of one descriptor and amount."""
    value = pl.select(
        channel_expr(pl.lit(description, dtype=pl.String), pl.lit(amount_minor, dtype=pl.Int64))
    ).item()
    return str(value)


@dataclass(frozen=True, slots=True)
class _PyPatterns:
    channels: tuple[tuple[re.Pattern[str], str], ...]
    strips: tuple[re.Pattern[str], ...]


@cache
def _py_patterns() -> _PyPatterns | None:
    """The ``re`` twins of the patterns, for the one-row path; ``None`` if one of them uses
    syntax only the Rust engine knows (the frame path then runs)."""
    patterns = descriptor_patterns()
    try:
        channels = tuple(
            (re.compile(p.pattern), str(p.channel))
            for p in patterns
            if p.channel is not None and p.action != "strip"
        )
        strips = tuple(
            re.compile(p.pattern)
            for p in (*patterns, *(p for p in patterns if p.action == "both"))
            if p.strips
        )
    except re.error:
        return None
    return _PyPatterns(channels, strips)


_PY_SPACES: Final = re.compile(r"\s+")
_PY_NOT_WORD: Final = re.compile(r"(?:[^\w&+]|_)+")
_PY_ACCOUNT_WORDS: Final = re.compile(_ACCOUNT_WORDS)
_PY_AFTER_LEGAL_FORM: Final = re.compile(_AFTER_LEGAL_FORM)
_PY_TWO_LETTERS: Final = re.compile(r"[^\W\d_]{2}")


def _py_upper(description: str | None) -> str:
    return _PY_SPACES.sub(" ", (description or "").upper())


def py_clean(description: str | None) -> str | None:
    """``clean_expr`` of one descriptor in plain Python (``None`` when it cannot run there);
    only for ``merchants.plain_text`` input, where ``re`` and the Rust engine agree."""
    rx = _py_patterns()
    if rx is None:
        return None
    text = _py_upper(description).strip()
    for pattern in rx.strips:
        text = pattern.sub(" ", text).lstrip()
    return _PY_NOT_WORD.sub(" ", text.replace("'", "")).strip()


def py_channel(description: str | None, credit: bool) -> str | None:
    """``channel_expr`` of one descriptor in plain Python (``None`` when it cannot run)."""
    rx = _py_patterns()
    if rx is None:
        return None
    text = _py_upper(description)
    for pattern, channel in rx.channels:
        if pattern.search(text):
            return channel
    return "transfer" if credit else "card"


def py_fill(
    description: str | None, credit: bool, channel: str | None, counterparty: str | None
) -> tuple[str | None, str | None] | None:
    """``fill_from_descriptor`` of one row: (channel, counterparty), or ``None`` when the
    plain-Python twins cannot run."""
    if channel is not None and channel != UNKNOWN_CHANNEL:
        return channel, counterparty
    named = py_channel(description, credit)
    if named is None:
        return None
    payee: str | None = None
    if named == "direct_debit" or (named == "transfer" and credit):
        cleaned = py_clean(description)
        if cleaned is None:
            return None
        payee = _PY_AFTER_LEGAL_FORM.sub(r"\1", cleaned, count=1)
        rest = _PY_SPACES.sub(" ", _PY_ACCOUNT_WORDS.sub(" ", payee)).strip()
        if not _PY_TWO_LETTERS.search(rest):
            payee = None
    if (counterparty is None or counterparty == "") and payee is not None:
        counterparty = payee
    return named, counterparty
