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

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import polars as pl

from tactful.enrich.behaviour import ANSWERS, apply_behaviour, behaviour_row, no_answers
from tactful.enrich.categorize import (
    _with_defaults,
    categorize,
    categorize_row,
    ruleset_fields,
)
from tactful.enrich.classifier import TextCategorizer
from tactful.enrich.descriptor import fill_from_descriptor, py_fill
from tactful.enrich.frames import TRANSACTIONS, conform
from tactful.enrich.income import IncomeResult, detect_income
from tactful.enrich.lexicon import Lexicon
from tactful.enrich.merchants import MerchantAliases, _normalize_py, normalize, plain_text
from tactful.enrich.recurring import (
    SeriesResult,
    detect_series,
    with_group_key,
)
from tactful.enrich.rules import RuleSet
from tactful.errors import ValidationError


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
    behaviour: pl.DataFrame = field(default_factory=no_answers)
    """Merchants no word reads, categorized by how the bank's customers pay them
    (``behaviour.ANSWERS``, fitted with the text model); applied to the payments still
    uncategorized after every other source."""


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
    out = categorize(
        with_merchants,
        rules=ctx.rules,
        overrides=overrides,
        classifier=ctx.classifier,
        threshold=ctx.threshold,
        aliases=ctx.aliases,
        lexicon=ctx.lexicon,
    )
    return apply_behaviour(out, ctx.behaviour)


_STRINGS: Final = frozenset(
    name for name, dtype in TRANSACTIONS.items() if dtype == pl.String()
) | {"merchant", "merchant_key"}
"""The fields the one-transaction path reads as text: the transaction's string columns and
the merchant columns it derives."""


def categorize_one(transaction: Mapping[str, Any], ctx: EnrichContext) -> dict[str, Any]:
    """``categorized`` of one transaction (field -> value, ``TRANSACTIONS``' fields): the
    real-time path, in plain Python and dictionaries (no frame is built), with the same
    answer as the batch pipeline, row for row (``tests/enrich/test_categorize_one.py``).

    The transaction comes back with ``channel`` and ``counterparty`` as the descriptor fills
    them, and the merchant and category fields. Text outside ``merchants.plain_text``, values
    not of their column's type, or rules over other fields take the frame path."""
    missing = [name for name in TRANSACTIONS if name not in transaction]
    if missing:
        raise ValidationError(f"transaction lacks field(s): {', '.join(missing)}")
    fast = _categorize_plain(transaction, ctx)
    if fast is not None:
        return fast
    frame = pl.DataFrame(
        [dict(transaction)],
        schema_overrides={name: TRANSACTIONS[name] for name in TRANSACTIONS},
        strict=False,
    )
    return categorized(frame, ctx).row(0, named=True)


def _categorize_plain(transaction: Mapping[str, Any], ctx: EnrichContext) -> dict[str, Any] | None:
    """``categorize_one`` without a frame, or ``None`` where it could differ from one."""
    amount = transaction["amount_minor"]
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int)):
        return None
    for name in _STRINGS:
        value = transaction.get(name)
        if value is not None and not (isinstance(value, str) and plain_text(value)):
            return None
    ruleset = _with_defaults(ctx.rules)
    for name in ruleset_fields(ruleset):
        if name == "direction" or name == "amount_minor" or name in _STRINGS:
            continue
        return None  # a rule over another field: the frame's types decide
    credit = amount is not None and amount > 0
    filled = py_fill(
        transaction["description"], credit, transaction["channel"], transaction["counterparty"]
    )
    if filled is None:
        return None
    channel, counterparty = filled
    if not (plain_text(channel) and plain_text(counterparty)):
        return None
    merchant, key, directory = _normalize_py(
        transaction["description"], counterparty, channel, ctx.aliases
    )
    row = {
        **{name: transaction[name] for name in TRANSACTIONS},
        **{k: v for k, v in transaction.items() if k not in TRANSACTIONS},
        "channel": channel,
        "counterparty": counterparty,
        "merchant": merchant,
        "merchant_key": key,
    }
    user = None
    if key is not None and row["customer_id"] is not None and ctx.overrides.height:
        user = _overrides_index(ctx.overrides).get((row["customer_id"], key))
    answer = categorize_row(
        row, ruleset=ruleset, merchant_category=directory, user_category=user,
        classifier=ctx.classifier, threshold=ctx.threshold, lexicon=ctx.lexicon,
    )
    if answer is None:
        return None
    out = row | answer.columns()
    if ctx.behaviour.height:
        by_behaviour = behaviour_row(out, _behaviour_index(ctx.behaviour))
        if by_behaviour is not None:
            out |= by_behaviour
    return out


_INDEXES: dict[tuple[str, int], tuple[pl.DataFrame, dict[Any, Any]]] = {}


def _indexed(kind: str, frame: pl.DataFrame, build: Callable[[pl.DataFrame], dict[Any, Any]]
             ) -> dict[Any, Any]:
    """``build(frame)`` once per frame (a context's frames live as long as the context): the
    one-row path looks a row up in a dict instead of filtering a frame per transaction."""
    hit = _INDEXES.get((kind, id(frame)))
    if hit is not None and hit[0] is frame:
        return hit[1]
    index = build(frame)
    if len(_INDEXES) > 32:
        _INDEXES.clear()
    _INDEXES[(kind, id(frame))] = (frame, index)
    return index


def _overrides_index(overrides: pl.DataFrame) -> dict[tuple[str, str], str | None]:
    """(customer, merchant key) -> the customer's latest category."""
    return _indexed("overrides", overrides, _build_overrides)


def _build_overrides(overrides: pl.DataFrame) -> dict[Any, Any]:
    missing = {"customer_id", "merchant_key", "category_detailed"} - set(overrides.columns)
    if missing:
        raise ValidationError(f"overrides frame lacks column(s): {', '.join(sorted(missing))}")
    index: dict[Any, Any] = {}
    for c, k, d in overrides.select("customer_id", "merchant_key", "category_detailed").rows():
        if c is not None and k is not None:
            index[(c, k)] = d  # the last word of a customer on a merchant wins
    return index


def _behaviour_index(answers: pl.DataFrame) -> dict[str, tuple[str, float]]:
    """merchant key -> (category, confidence)."""
    return _indexed("behaviour", answers, lambda a: {
        k: (c, p) for k, c, p in a.select(list(ANSWERS)).iter_rows()})


def enrich_shard(
    frame: pl.DataFrame,
    ctx: EnrichContext,
    *,
    profiling: Collection[str] | None,
) -> EnrichResult:
    """Enrich one shard: ``frame`` holds every transaction of the shard's customers.

    ``profiling``: the customers who hold profiling consent, the only ones given series and
    income streams. None builds them for everyone, for data no consent governs (the evaluation
    on simulated and public files); a caller over the store's customers always passes the set.
    """
    return _derived(categorized(frame, ctx), ctx, profiling=profiling, spans=None)


def _derived(
    cats: pl.DataFrame,
    ctx: EnrichContext,
    *,
    profiling: Collection[str] | None,
    spans: pl.DataFrame | None,
    undone: pl.DataFrame | None = None,
) -> EnrichResult:
    """Series, income and each transaction's series id, over categorized rows."""
    cats = with_group_key(cats)  # once: series group by it (recurring._with_keys), rows keep it
    profiled = cats if profiling is None else cats.filter(
        pl.col("customer_id").is_in(pl.Series(list(profiling), dtype=pl.String).implode())
    )
    series = detect_series(profiled, as_of=ctx.as_of)
    income = detect_income(profiled, series, as_of=ctx.as_of, spans=spans, undone=undone)
    members = series.members.select(
        pl.col("transaction_id").alias("id"), pl.col("series_id")
    ).unique(subset="id", keep="first")
    out = cats.join(members, on="id", how="left")
    return EnrichResult(transactions=out, series=series, income=income)


KEPT: Final = (
    "merchant",
    "merchant_key",
    "category",
    "category_detailed",
    "category_source",
    "category_confidence",
)
"""What categorization gave a row, as the store keeps it (``old_*`` columns of a loaded
shard): an already enriched row of an incremental run is not categorized again."""


def _merchant_keys(frame: pl.DataFrame, ctx: EnrichContext) -> pl.DataFrame:
    """``frame``'s rows with the merchant key categorizing gives them (``account_id``,
    ``merchant_key``, ``description``, ``amount_minor``): the stored key of a row already
    enriched (``old_*`` columns), the merchant step's for a new row (categorizing does not
    change it)."""
    done = pl.col("old_category_source").is_not_null()
    columns = ["account_id", "merchant_key", "description", "amount_minor"]
    enriched = frame.filter(done).select(
        "account_id", pl.col("old_merchant_key").alias("merchant_key"), "description",
        "amount_minor")
    fresh = frame.filter(~done)
    if fresh.height == 0:
        return enriched
    merchants = normalize(fill_from_descriptor(conform(fresh, TRANSACTIONS,
                                                       what="transactions")), ctx.aliases)
    return pl.concat([enriched, merchants.select(columns)])


def group_keys(frame: pl.DataFrame, ctx: EnrichContext) -> set[tuple[str, str]]:
    """The (account, key) pairs ``frame``'s rows group under in recurring series (the key: the
    merchant key, else the description's: ``recurring.with_group_key``, which gives the stored
    ``group_key`` the increment reads groups by).
    ``repository.load_increment`` asks, to load each group a night's rows can change whole."""
    keys = with_group_key(_merchant_keys(frame, ctx)).select(
        "account_id", pl.col("group_key").alias("key")
    ).drop_nulls().unique()
    return {(str(a), str(k)) for a, k in keys.iter_rows()}


def credit_sums(frame: pl.DataFrame, ctx: EnrichContext) -> set[tuple[str, str, int]]:
    """(account, merchant key, minus the sum) of ``frame``'s credits that have a merchant
    key: the debits such a credit could send back (``income``'s returned payments), which
    ``repository.load_increment`` loads where it does not load their group whole."""
    sums = _merchant_keys(frame.filter(pl.col("amount_minor") > 0), ctx).drop_nulls(
        ["merchant_key"]).select("account_id", "merchant_key", -pl.col("amount_minor")).unique()
    return {(str(a), str(k), int(m)) for a, k, m in sums.iter_rows()}


def enrich_increment(
    frame: pl.DataFrame,
    ctx: EnrichContext,
    *,
    profiling: Collection[str] | None,
    spans: pl.DataFrame,
    undone: pl.DataFrame,
) -> EnrichResult:
    """``enrich_shard`` for a night's increment, with the same answer on what it loads.

    ``frame`` holds the new transactions (``old_category_source`` null) and, already
    enriched, every payment of the groups they can change, each group whole: all credits of
    their accounts (income, credit series), the payments of each merchant they were paid to
    or from in that account, and those with no merchant. Only the new rows are categorized:
    an incremental run has the rules, aliases and models of the run that categorized the
    others (``batch/enrich.py`` makes the run full when one changed), and a row's category
    depends on nothing but the row. ``spans`` gives each account's first and last booking and
    spending over all of its payments, loaded or not (``income_evidence.account_spans``);
    ``undone`` the enriched debits of the other groups that a credit could send back
    (``repository.Increment.undone``)."""
    done = pl.col("old_category_source").is_not_null()
    new = categorized(frame.filter(~done), ctx)
    old = fill_from_descriptor(conform(frame.filter(done), TRANSACTIONS, what="transactions"))
    old = old.with_columns(pl.col(f"old_{name}").alias(name) for name in KEPT)
    cats = pl.concat([new, old], how="diagonal_relaxed").select(new.columns).sort("id")
    undone = undone.select("id", "account_id", "booked_on", "amount_minor", "status",
                           pl.col("old_merchant_key").alias("merchant_key"))
    return _derived(cats, ctx, profiling=profiling, spans=spans, undone=undone)
