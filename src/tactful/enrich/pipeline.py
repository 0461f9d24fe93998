"""One shard of customers in, everything the understanding layer derives out: a pure function.

The batch runner loads a shard from the store, calls :func:`enrich_shard`, and writes the result
back; a Spark worker can call the same function on the same frames. Nothing here does I/O.

Order matters and is the same everywhere: merchants first (categories and rules read them), then
categories (series kinds read them), then recurring series, then income (built from the credit
series), and last the series id on each transaction.

Recurring series and income streams profile a customer (their bills, their pay, when they are
due: GDPR art. 4(4)), so they are built only for the customers the caller names as holding
profiling consent (``trust.consent`` answers that from the store); the others' transactions
are categorized and get no series. Categories are not profiling: they label one payment each.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from tactful.enrich.categorize import categorize
from tactful.enrich.classifier import TextCategorizer
from tactful.enrich.descriptor import fill_from_descriptor
from tactful.enrich.frames import TRANSACTIONS, conform
from tactful.enrich.income import IncomeResult, detect_income
from tactful.enrich.lexicon import Lexicon
from tactful.enrich.merchants import MerchantAliases, normalize
from tactful.enrich.recurring import SeriesResult, detect_series
from tactful.enrich.rules import RuleSet


def _no_overrides() -> pl.DataFrame:
    return pl.DataFrame(
        schema={"customer_id": pl.String, "merchant_key": pl.String, "category_detailed": pl.String}
    )


@dataclass(frozen=True)
class EnrichContext:
    """What a shard is enriched with: the bank's directory, rules and model, and the customers'
    own corrections."""

    aliases: MerchantAliases = field(default_factory=MerchantAliases.default)
    rules: RuleSet | None = None
    overrides: pl.DataFrame = field(default_factory=_no_overrides)
    classifier: TextCategorizer | None = None
    threshold: float = 0.5
    as_of: date | None = None
    lexicon: Lexicon = field(default_factory=Lexicon.default)


@dataclass(frozen=True)
class EnrichResult:
    """A shard's transactions with the enrichment columns, and its series and income."""

    transactions: pl.DataFrame
    series: SeriesResult
    income: IncomeResult


def categorized(frame: pl.DataFrame, ctx: EnrichContext) -> pl.DataFrame:
    """Merchants and categories only: the part the real-time path and the benchmark share.

    A row without a channel gets the one its descriptor names, and a direct debit or incoming
    transfer without a counterparty the descriptor's words (``descriptor.fill_from_descriptor``),
    so an export with nothing but descriptions and amounts is read like any other."""
    frame = fill_from_descriptor(conform(frame, TRANSACTIONS, what="transactions"))
    with_merchants = normalize(frame, ctx.aliases)
    overrides = ctx.overrides
    if overrides.height:
        shard = frame.get_column("customer_id").unique()
        overrides = overrides.filter(pl.col("customer_id").is_in(shard.implode()))
    return categorize(
        with_merchants,
        rules=ctx.rules,
        overrides=overrides,
        classifier=ctx.classifier,
        threshold=ctx.threshold,
        aliases=ctx.aliases,
        lexicon=ctx.lexicon,
    )


def enrich_shard(
    frame: pl.DataFrame, ctx: EnrichContext, *, profiling: Collection[str] | None
) -> EnrichResult:
    """Enrich one shard: ``frame`` holds every transaction of the shard's customers.

    ``profiling``: the customers who hold profiling consent, the only ones given series and
    income streams. None builds them for everyone, for data no consent governs (the evaluation
    on simulated and public files); a caller over the store's customers always passes the set.
    """
    cats = categorized(frame, ctx)
    profiled = cats if profiling is None else cats.filter(
        pl.col("customer_id").is_in(pl.Series(list(profiling), dtype=pl.String).implode())
    )
    series = detect_series(profiled, as_of=ctx.as_of)
    income = detect_income(profiled, series, as_of=ctx.as_of)
    members = series.members.select(
        pl.col("transaction_id").alias("id"), pl.col("series_id")
    ).unique(subset="id", keep="first")
    out = cats.join(members, on="id", how="left")
    return EnrichResult(transactions=out, series=series, income=income)
