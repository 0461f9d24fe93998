"""Two-level categorization with a fixed precedence, one vectorized pass over a shard.

Precedence (first that speaks wins), recorded in ``category_source``:

1. ``user`` — the customer's own re-categorization, remembered per (customer, merchant_key);
2. ``rule`` — the bank's own rules, then the shipped generic rules (``data/default_rules.toml``),
   then the merchant directory's category (``data/merchants.csv``; ``rule_id`` is
   ``merchant-directory``);
3. ``mcc`` — the ISO 18245 mapping. A credit on a merchant MCC is a refund and keeps the
   merchant's category (so refunds net against the spending they reverse, as Plaid does);
4. ``lexicon`` — the words of the merchant key and the cleaned descriptor
   (``enrich/lexicon.py``: "APOTHEKE", "TANKSTELLE", "AIRTIME", the MCC descriptions' words),
   read with the direction of the money; ``rule_id`` names the term and its language;
5. ``model`` — the ``TextCategorizer``, only when its confidence reaches ``threshold`` and the
   model's own threshold calibrated for the category it answers (it abstains below them);
6. ``uncategorized``.

Only the description, the amount and its sign are needed: a row without channel, MCC or
counterparty still meets the lexicon and the model (``pipeline.categorized`` names a missing
channel from the descriptor first, ``enrich/descriptor.py``).

One row is decided by ``categorize_row`` in plain Python, the same precedence step by step:
``categorize`` uses it for a one-row frame, and ``pipeline.categorize_one`` for one transaction
given as a dict (the real-time path, no frame built: tens of microseconds). Both fall back to
the frame path where Python and Polars could differ (``merchants.plain_text``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import polars as pl

from tactful.enrich.classifier import TextCategorizer, text_expr
from tactful.enrich.descriptor import clean_expr, py_clean
from tactful.enrich.lexicon import Lexicon, keyed_text, keyed_text_expr, lexicon_match
from tactful.enrich.mcc import _mapping as mcc_mapping
from tactful.enrich.mcc import mcc_table
from tactful.enrich.merchants import MerchantAliases, plain_text, shape_keys
from tactful.enrich.rules import TEXT_FIELDS, RuleSet
from tactful.enrich.taxonomy import TAXONOMY, UNCATEGORIZED
from tactful.errors import ValidationError

__all__ = ["CONFIDENCE", "RowCategory", "categorize", "categorize_row", "primary_expr"]

CONFIDENCE: Final[dict[str, float]] = {
    "user": 1.0,
    "rule": 1.0,
    "directory": 0.95,
    "mcc": 0.9,
    "lexicon": 0.8,
}
DIRECTORY_RULE_ID: Final = "merchant-directory"

_PRIMARY_TABLE: Final = {d: p for p, ds in TAXONOMY.items() for d in ds} | {
    UNCATEGORIZED: UNCATEGORIZED
}
def primary_expr(detailed: pl.Expr) -> pl.Expr:
    """The primary category of a detailed-category expression."""
    return detailed.replace_strict(_PRIMARY_TABLE, default=UNCATEGORIZED, return_dtype=pl.String)


_MONEY_IN: Final = frozenset({"INCOME", "TRANSFER_IN"})
_MONEY_OUT: Final = frozenset({"TRANSFER_OUT"})


def _direction_allows(detailed: str, credit: bool) -> bool:
    """Whether the model's ``detailed`` category can be true of a row of this direction: money
    going out is never income or a transfer in, money coming in never a transfer out (the
    model reads the direction as one more token and can miss it; the precedence above never
    needs this check, its rules and lexicon terms carry their own direction)."""
    primary = _PRIMARY_TABLE.get(detailed, UNCATEGORIZED)
    return primary not in (_MONEY_OUT if credit else _MONEY_IN)


_COMBINED: dict[int, tuple[RuleSet, RuleSet]] = {}


def _with_defaults(rules: RuleSet | None) -> RuleSet:
    """``rules`` then the shipped defaults, built once per rule set (its compiled matchers too)."""
    if rules is None:
        return RuleSet.default()
    hit = _COMBINED.get(id(rules))
    if hit is not None and hit[0] is rules:
        return hit[1]
    combined = rules.then(RuleSet.default())
    if len(_COMBINED) > 64:
        _COMBINED.clear()
    _COMBINED[id(rules)] = (rules, combined)
    return combined


_INTERNAL: Final = frozenset(
    {"rule_category_detailed", "rule_merchant", "mcc_category_detailed", "rule_id"}
)


@dataclass(frozen=True, slots=True)
class RowCategory:
    """What ``categorize`` writes on one row."""

    category_detailed: str
    category: str
    category_source: str
    category_confidence: float | None
    rule_id: str | None
    merchant: str | None

    def columns(self) -> dict[str, object]:
        return {
            "rule_id": self.rule_id,
            "category_detailed": self.category_detailed,
            "category": self.category,
            "category_source": self.category_source,
            "category_confidence": self.category_confidence,
            "merchant": self.merchant,
        }


def categorize_row(
    row: Mapping[str, Any],
    *,
    ruleset: RuleSet,
    merchant_category: str | None,
    user_category: str | None,
    classifier: TextCategorizer | None,
    threshold: float,
    lexicon: Lexicon,
) -> RowCategory | None:
    """``categorize`` of one row (column -> value, with the merchant columns) in plain Python:
    the precedence of the module docstring, step by step. ``merchant_category`` is the
    directory's category of the row's merchant, ``user_category`` the customer's own for it.

    Only for rows whose text is ``merchants.plain_text`` and whose rule fields are present
    with their frame types (the callers check); ``None`` when the descriptor cannot be cleaned
    in Python, and the frame path then answers."""
    rule = ruleset.first_match_row(row)
    rule_cat = rule.category_detailed if rule else None
    key = row.get("merchant_key")
    mcc = row.get("mcc")
    mcc_cat = mcc_mapping().get(mcc) if isinstance(mcc, str) else None
    if mcc_cat == UNCATEGORIZED:
        mcc_cat = None
    source: str | None
    detailed: str | None
    lexicon_reason: str | None = None
    if user_category is not None:
        source, detailed = "user", user_category
    elif rule_cat is not None:
        source, detailed = "rule", rule_cat
    elif merchant_category is not None:
        source, detailed = "directory", merchant_category
    elif mcc_cat is not None:
        source, detailed = "mcc", mcc_cat
    else:
        source, detailed = None, None
    amount = row.get("amount_minor")
    credit = amount is not None and amount > 0
    description = row.get("description")
    if source is None:
        cleaned = py_clean(description)
        if cleaned is None:
            return None
        hit = lexicon.match_one(keyed_text(key, cleaned), credit=credit)
        if hit is not None:
            source, detailed, lexicon_reason = "lexicon", hit[0], hit[1]
    model_p: float | None = None
    if source is None and classifier is not None:
        head = key if key is not None else (description or "").upper()[:40]
        channel = row.get("channel")
        channel = "unknown" if channel is None else channel
        text = f"{head} {channel} {'in' if credit else 'out'}"
        label, conf = classifier.predict_one(text)
        if conf >= max(threshold, classifier.abstain_below_for(label)) and _direction_allows(
            label, credit
        ):
            source, detailed, model_p = "model", label, conf
    final = source or "uncategorized"
    detailed = detailed or UNCATEGORIZED
    if final == "model":
        confidence = model_p
    elif final == "uncategorized":
        confidence = 0.0
    else:
        confidence = CONFIDENCE.get(final, 0.0)
    rule_id = (
        DIRECTORY_RULE_ID
        if final == "directory"
        else (rule.id if final == "rule" and rule else lexicon_reason)
    )
    rule_merchant = rule.merchant if rule else None
    return RowCategory(
        category_detailed=detailed,
        category=_PRIMARY_TABLE.get(detailed, UNCATEGORIZED),
        category_source="rule" if final == "directory" else final,
        category_confidence=confidence,
        rule_id=rule_id,
        merchant=rule_merchant if rule_merchant is not None else row.get("merchant"),
    )


def _categorize_one(
    frame: pl.DataFrame,
    ruleset: RuleSet,
    overrides: pl.DataFrame | None,
    classifier: TextCategorizer | None,
    threshold: float,
    aliases: MerchantAliases | None,
    lexicon: Lexicon,
) -> pl.DataFrame | None:
    """``categorize`` of a one-row frame through ``categorize_row``; ``None`` when it cannot be
    sure to agree with the frame path (non-ASCII text, unusual column types), which then runs."""
    schema = frame.schema
    if any(c.startswith("__") or c in _INTERNAL for c in frame.columns):
        return None
    if schema.get("description") != pl.String:
        return None
    row = frame.row(0, named=True)
    for name, value in row.items():
        dtype = schema[name]
        if dtype == pl.String:
            if not plain_text(value):
                return None
        elif value is not None and not isinstance(value, int | float) and name in _RULE_TEXT:
            return None
    fields = ruleset_fields(ruleset)
    if any(
        f not in schema or (f in _RULE_TEXT and schema[f] != pl.String)
        for f in fields
        if f != "direction"
    ):
        return None
    if "amount_minor" in fields and not schema.get("amount_minor", pl.Null).is_integer():
        return None
    key = row["merchant_key"]
    if "merchant_category_detailed" in schema:
        merchant_cat = row["merchant_category_detailed"]
    else:
        merchant_cat = (aliases or MerchantAliases.default()).category_of().get(key)
    user_cat = None
    if overrides is not None and overrides.height:
        missing = {"customer_id", "merchant_key", "category_detailed"} - set(overrides.columns)
        if missing:
            raise ValidationError(f"overrides frame lacks column(s): {', '.join(sorted(missing))}")
        if key is not None and row.get("customer_id") is not None:
            mine = overrides.filter(
                (pl.col("customer_id") == row["customer_id"]) & (pl.col("merchant_key") == key)
            )
            if mine.height:
                user_cat = mine["category_detailed"][-1]
    answer = categorize_row(
        row, ruleset=ruleset, merchant_category=merchant_cat, user_category=user_cat,
        classifier=classifier, threshold=threshold, lexicon=lexicon,
    )
    if answer is None:
        return None
    columns = list(frame.columns)
    for name in (
        "rule_id",
        "category_detailed",
        "category",
        "category_source",
        "category_confidence",
        "merchant",
    ):
        if name not in columns:
            columns.append(name)
    columns = [c for c in columns if c != "merchant_category_detailed"]
    return frame.with_columns(
        pl.lit(answer.rule_id, dtype=pl.String).alias("rule_id"),
        pl.lit(answer.category_detailed, dtype=pl.String).alias("category_detailed"),
        pl.lit(answer.category, dtype=pl.String).alias("category"),
        pl.lit(answer.category_source, dtype=pl.String).alias("category_source"),
        pl.lit(answer.category_confidence, dtype=pl.Float64).alias("category_confidence"),
        pl.lit(answer.merchant, dtype=pl.String).alias("merchant"),
    ).select(columns)


def ruleset_fields(ruleset: RuleSet) -> frozenset[str]:
    """The columns ``ruleset``'s conditions read (``direction`` is derived from the amount)."""
    hit = _FIELDS.get(id(ruleset))
    if hit is not None and hit[0] is ruleset:
        return hit[1]
    fields = frozenset(c.field for r in ruleset.rules for c in r.conditions)
    if len(_FIELDS) > 64:
        _FIELDS.clear()
    _FIELDS[id(ruleset)] = (ruleset, fields)
    return fields


_FIELDS: dict[int, tuple[RuleSet, frozenset[str]]] = {}


_RULE_TEXT: Final = frozenset(TEXT_FIELDS)

# The frame path carries the source as a small integer until the very end.
_USER, _RULE, _DIRECTORY, _MCC, _MODEL, _UNCATEGORIZED, _LEXICON = range(7)
_SOURCE_NAME: Final = {
    _USER: "user",
    _RULE: "rule",
    _DIRECTORY: "rule",
    _MCC: "mcc",
    _LEXICON: "lexicon",
    _MODEL: "model",
    _UNCATEGORIZED: "uncategorized",
}
"""What ``category_source`` says for each source (the directory counts as a rule)."""
_SOURCE_CONFIDENCE: Final = {
    code: CONFIDENCE.get(name, 0.0)
    for code, name in (
        (_USER, "user"),
        (_RULE, "rule"),
        (_DIRECTORY, "directory"),
        (_MCC, "mcc"),
        (_LEXICON, "lexicon"),
        (_UNCATEGORIZED, "uncategorized"),
    )
}


def lexicon_text() -> pl.Expr:
    """What the lexicon reads: the merchant key, then the descriptor's own words
    (``lexicon.keyed_text``)."""
    return keyed_text_expr(pl.col("merchant_key"), clean_expr(pl.col("description")))


_PYTHON_LEXICON_ROWS: Final = 2_000
"""Up to this many distinct texts, the lexicon is read in Python (``Lexicon.match_one``, some
15 microseconds a text); beyond, Polars' one pass wins over its fixed cost (building the
automaton of 55,000 patterns, about 0.1 s a direction on every call)."""


def _few_matched(distinct: pl.DataFrame, lexicon: Lexicon) -> pl.DataFrame | None:
    """``lexicon_match`` of a few distinct (merchant key, description, credit) rows in plain
    Python, or ``None`` when one of them is not ``plain_text`` (where Python and Polars could
    differ)."""
    categories: list[str | None] = []
    reasons: list[str | None] = []
    for key, description, credit in distinct.iter_rows():
        if not (plain_text(key) and plain_text(description)):
            return None
        cleaned = py_clean(description)
        if cleaned is None:
            return None
        hit = lexicon.match_one(keyed_text(key, cleaned), credit=credit is True)
        categories.append(hit[0] if hit else None)
        reasons.append(hit[1] if hit else None)
    return pl.DataFrame(
        {"__lex_category": categories, "__lex_reason": reasons},
        schema={"__lex_category": pl.String, "__lex_reason": pl.String},
    )


def _lexicon_columns(out: pl.DataFrame, todo: pl.Series, lexicon: Lexicon) -> pl.DataFrame:
    """``__lex_category`` / ``__lex_reason`` for the ``todo`` rows (once per distinct
    merchant key, description and direction), null elsewhere."""
    keys = ["merchant_key", "description", "__credit"]
    rows = out.filter(todo).select(
        "merchant_key", "description", (pl.col("amount_minor") > 0).alias("__credit")
    )
    distinct = rows.unique(maintain_order=True)
    found_few = _few_matched(distinct, lexicon) if distinct.height <= _PYTHON_LEXICON_ROWS else None
    if found_few is None:
        found_few = lexicon_match(distinct, lexicon_text(), pl.col("__credit"), lexicon)
    matched = pl.concat([distinct, found_few], how="horizontal")
    found = rows.join(matched, on=keys, how="left", nulls_equal=True, maintain_order="left")
    idx = np.flatnonzero(todo.to_numpy())
    empty = pl.Series(values=[None] * out.height, dtype=pl.String)
    return out.with_columns(
        empty.clone().scatter(idx, found.get_column("__lex_category")).alias("__lex_category"),
        empty.clone().scatter(idx, found.get_column("__lex_reason")).alias("__lex_reason"),
    )


def categorize(
    frame: pl.DataFrame,
    *,
    rules: RuleSet | None = None,
    overrides: pl.DataFrame | None = None,
    classifier: TextCategorizer | None = None,
    threshold: float = 0.5,
    aliases: MerchantAliases | None = None,
    lexicon: Lexicon | None = None,
) -> pl.DataFrame:
    """``frame`` (with merchant columns) plus ``category``, ``category_detailed``,
    ``category_source``, ``category_confidence`` and ``rule_id`` (for a rule, the rule's id;
    for the lexicon, the term that spoke)."""
    if "merchant_key" not in frame.columns:
        raise ValidationError(
            "categorize needs the merchant columns: run merchants.normalize first"
        )
    if not 0.0 <= threshold <= 1.0:
        raise ValidationError(f"threshold must be within [0, 1], got {threshold}")
    ruleset = _with_defaults(rules)
    if frame.height == 1:
        fast = _categorize_one(
            frame, ruleset, overrides, classifier, threshold, aliases, lexicon or Lexicon.default()
        )
        if fast is not None:
            return fast
    out = ruleset.apply(frame, keys=shape_keys(frame))

    if "merchant_category_detailed" not in out.columns:
        table = (aliases or MerchantAliases.default()).category_of()
        out = out.with_columns(
            pl.col("merchant_key")
            .replace_strict(table, default=None, return_dtype=pl.String)
            .alias("merchant_category_detailed")
        )
    out = out.join(mcc_table(), on="mcc", how="left", maintain_order="left")
    out = out.with_columns(
        pl.when(pl.col("mcc_category_detailed") != UNCATEGORIZED)
        .then(pl.col("mcc_category_detailed"))
        .alias("__mcc_cat")
    )
    mcc_cat = pl.col("__mcc_cat")

    user_cat = pl.lit(None, dtype=pl.String)
    user_overrides = False
    if overrides is not None and overrides.height:
        missing = {"customer_id", "merchant_key", "category_detailed"} - set(overrides.columns)
        if missing:
            raise ValidationError(f"overrides frame lacks column(s): {', '.join(sorted(missing))}")
        ov = overrides.select(
            "customer_id", "merchant_key", pl.col("category_detailed").alias("__user_cat")
        ).unique(subset=["customer_id", "merchant_key"], keep="last")
        out = out.join(ov, on=["customer_id", "merchant_key"], how="left", maintain_order="left")
        user_cat = pl.col("__user_cat")
        user_overrides = True

    source = (
        pl.when(user_cat.is_not_null())
        .then(pl.lit(_USER, dtype=pl.Int8))
        .when(pl.col("rule_category_detailed").is_not_null())
        .then(pl.lit(_RULE, dtype=pl.Int8))
        .when(pl.col("merchant_category_detailed").is_not_null())
        .then(pl.lit(_DIRECTORY, dtype=pl.Int8))
        .when(mcc_cat.is_not_null())
        .then(pl.lit(_MCC, dtype=pl.Int8))
        .otherwise(pl.lit(None, dtype=pl.Int8))
    )
    # category_detailed is filled in below, in one coalesce once the model has spoken; the
    # placeholder keeps its place among the columns.
    out = out.with_columns(
        pl.lit(None, dtype=pl.String).alias("category_detailed"),
        source.alias("__source"),
        pl.lit(None, dtype=pl.String).alias("__model"),
        pl.lit(None, dtype=pl.Float64).alias("__model_p"),
    )
    lexicon_ran = False
    todo = out.select(pl.col("__source").is_null()).to_series()
    if todo.any():
        lexicon_ran = True
        out = _lexicon_columns(out, todo, lexicon or Lexicon.default())
        out = out.with_columns(
            pl.when(pl.col("__lex_category").is_not_null())
            .then(pl.lit(_LEXICON, dtype=pl.Int8))
            .otherwise(pl.col("__source"))
            .alias("__source")
        )
    model_ran = False
    if classifier is not None:
        todo = out.select(pl.col("__source").is_null()).to_series()
        if todo.any():
            model_ran = True
            texts = out.filter(todo).select(text_expr()).to_series().to_list()
            labels, conf = classifier.predict(texts)
            credits = out.filter(todo).select(pl.col("amount_minor") > 0).to_series().to_list()
            floors = np.asarray(
                [max(threshold, classifier.abstain_below_for(lab)) for lab in labels],
                dtype=np.float64,
            )
            keep = (conf >= floors) & np.asarray(
                [_direction_allows(lab, c is True) for lab, c in zip(labels, credits, strict=True)],
                dtype=np.bool_,
            )
            model_cat = pl.Series(
                [lab if k else None for lab, k in zip(labels, keep, strict=True)], dtype=pl.String
            )
            model_p = pl.Series(np.where(keep, conf, np.nan), dtype=pl.Float64).fill_nan(None)
            out = out.with_columns(
                pl.lit(None, dtype=pl.String).alias("__model"),
            )
            idx = np.flatnonzero(todo.to_numpy())
            model_col = out["__model"].scatter(idx, model_cat)
            p_col = out["__model_p"].scatter(idx, model_p)
            out = out.with_columns(model_col.alias("__model"), p_col.alias("__model_p"))

    # (all-null literals left out: broadcasting them costs more than the coalesce itself)
    detailed_parts = [
        *([user_cat] if user_overrides else []),
        pl.col("rule_category_detailed"),
        pl.col("merchant_category_detailed"),
        mcc_cat,
        *([pl.col("__lex_category")] if lexicon_ran else []),
        *([pl.col("__model")] if model_ran else []),
    ]
    final_source = (
        pl.when(pl.col("__source").is_not_null())
        .then(pl.col("__source"))
        .when(pl.col("__model").is_not_null())
        .then(pl.lit(_MODEL, dtype=pl.Int8))
        .otherwise(pl.lit(_UNCATEGORIZED, dtype=pl.Int8))
    )
    out = out.with_columns(
        pl.coalesce(detailed_parts).fill_null(UNCATEGORIZED).alias("category_detailed"),
        final_source.alias("__final"),
    )
    confidence = (
        pl.when(pl.col("__final") == _MODEL)
        .then(pl.col("__model_p"))
        .when(pl.col("__final") == _UNCATEGORIZED)
        .then(pl.lit(0.0))
        .otherwise(
            pl.col("__final").replace_strict(
                _SOURCE_CONFIDENCE, default=0.0, return_dtype=pl.Float64
            )
        )
    )
    rule_id = (
        pl.when(pl.col("__final") == _DIRECTORY)
        .then(pl.lit(DIRECTORY_RULE_ID))
        .when(pl.col("__final") == _RULE)
        .then(pl.col("rule_id"))
    )
    if lexicon_ran:
        rule_id = rule_id.when(pl.col("__final") == _LEXICON).then(pl.col("__lex_reason"))
    merchant = (
        pl.coalesce("rule_merchant", "merchant")
        if "merchant" in out.columns
        else pl.col("rule_merchant")
    )
    out = out.with_columns(
        primary_expr(pl.col("category_detailed")).alias("category"),
        pl.col("__final")
        .replace_strict(_SOURCE_NAME, return_dtype=pl.String)
        .alias("category_source"),
        confidence.cast(pl.Float64).alias("category_confidence"),
        rule_id.alias("rule_id"),
        merchant.alias("merchant"),
    )
    drop = [c for c in out.columns if c.startswith("__")] + [
        "rule_category_detailed",
        "rule_merchant",
        "mcc_category_detailed",
        "merchant_category_detailed",
    ]
    return out.drop(drop)
