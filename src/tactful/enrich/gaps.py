"""What enrichment could not categorize, why, and the line that would fix it.

A bank that loads its first export wants to know, right after ``tactful enrich``, which of its
transactions stayed ``UNCATEGORIZED`` and what to do about each kind. ``explain_gaps`` groups
the uncategorized rows of a categorized frame by cause:

* ``no description`` -- no letter or digit to read;
* ``unknown language`` -- the descriptor's letters are not Latin script, which the lexicon and
  the descriptor patterns do not cover;
* ``model abstained`` -- no rule, directory entry, MCC or lexicon term matched, and the text
  model's best guess was below its calibrated confidence;
* ``no text model`` -- no rule, directory entry, MCC or lexicon term matched, and there is no
  text model (too few labelled texts to train one);
* ``no match`` -- no rule, directory entry, MCC or lexicon term matched (no model consulted).

Within a cause, rows are grouped by merchant key (or, without one, the descriptor's first
words), largest groups first, each with a masked example (``tactful.trust.privacy``: digit-bearing
tokens, which carry card numbers, IBANs and references, show their last four characters) and the
``tactful rules add`` line that would categorize the group (with the model's guess as the
category when it had one).

``gap_report`` is the store-facing edge: it recomputes the categories of a sample of the
customers with uncategorized rows with the same pure pipeline ``tactful enrich`` ran.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import polars as pl
from sqlalchemy import func, select

from tactful.enrich import repository as repo
from tactful.enrich.classifier import TextCategorizer, text_expr
from tactful.enrich.descriptor import clean_expr
from tactful.enrich.pipeline import EnrichContext, categorized
from tactful.store import schema
from tactful.store.store import Store
from tactful.trust.privacy import mask_in

__all__ = ["Gap", "GapReport", "explain_gaps", "gap_report"]

NO_DESCRIPTION: Final = "no description"
UNKNOWN_LANGUAGE: Final = "unknown language"
ABSTAINED: Final = "model abstained"
NO_MODEL: Final = "no text model"
NO_MATCH: Final = "no match"
_CAUSE_ORDER: Final = (ABSTAINED, NO_MODEL, NO_MATCH, UNKNOWN_LANGUAGE, NO_DESCRIPTION)
_IDENTIFIER: Final = re.compile(r"[^\s,;/]*\d[^\s,;/]*")


@dataclass(frozen=True, slots=True)
class Gap:
    """One group of uncategorized rows: its cause, its key, how many, an example, the fix."""

    cause: str
    key: str
    rows: int
    example: str
    fix: str
    guess: str | None = None
    """The text model's best category when it abstained, else ``None``."""


@dataclass(frozen=True, slots=True)
class GapReport:
    """Uncategorized rows by cause; ``gaps`` holds the largest groups of each cause."""

    transactions: int
    uncategorized: int
    by_cause: dict[str, int]
    gaps: tuple[Gap, ...]
    sampled: bool = False
    """True when the causes were read on a sample of the uncategorized rows."""

    @property
    def coverage(self) -> float:
        """Share of the transactions with a category."""
        if self.transactions == 0:
            return 1.0
        return (self.transactions - self.uncategorized) / self.transactions


def _masked(description: str | None) -> str:
    """Tokens with four digits or more (card numbers, IBANs, references, timestamps) masked."""
    if not description:
        return ""
    found = [t for t in _IDENTIFIER.findall(description) if sum(c.isdigit() for c in t) >= 4]
    return mask_in(description, found)


def _slug(key: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")[:40] or "gap"


def _fix(key: str, by_merchant: bool, guess: str | None) -> str:
    field = "merchant_key equals" if by_merchant else "description contains"
    category = guess or "CATEGORY"
    return (
        f'tactful rules add --id {_slug(key)} --when "{field} {key}" --category {category}'
    )


def explain_gaps(
    frame: pl.DataFrame,
    *,
    classifier: TextCategorizer | None = None,
    per_cause: int = 5,
    model_consulted: bool = True,
) -> GapReport:
    """The uncategorized rows of ``frame`` (the output of ``categorize``) grouped by cause.

    ``classifier`` is the one ``categorize`` ran with; with
    ``model_consulted=False`` the rows without a match are reported as ``no match`` whatever
    the classifier."""
    total = frame.height
    rows = frame.filter(pl.col("category_source") == "uncategorized")
    if rows.height == 0:
        return GapReport(total, 0, {}, ())
    cleaned = clean_expr(pl.col("description"))
    rows = rows.with_columns(
        cleaned.alias("__clean"),
        pl.col("description").fill_null("").str.contains(r"\p{L}").alias("__letters"),
        pl.col("description").fill_null("").str.contains(r"\p{Latin}").alias("__latin"),
    )
    guesses: pl.Series | None = None
    if classifier is not None and model_consulted:
        labels, _ = classifier.predict(rows.select(text_expr()).to_series().to_list())
        guesses = pl.Series("__guess", labels, dtype=pl.String)
        otherwise = ABSTAINED
    else:
        otherwise = NO_MODEL if model_consulted else NO_MATCH
    cause = (
        pl.when(~pl.col("description").fill_null("").str.contains(r"[\p{L}\p{N}]"))
        .then(pl.lit(NO_DESCRIPTION))
        .when(pl.col("__letters") & ~pl.col("__latin"))
        .then(pl.lit(UNKNOWN_LANGUAGE))
        .otherwise(pl.lit(otherwise))
    )
    rows = rows.with_columns(cause.alias("__cause"))
    rows = rows.with_columns(
        (guesses if guesses is not None else pl.lit(None, dtype=pl.String)).alias("__guess")
    )
    key = pl.coalesce(
        pl.col("merchant_key"),
        pl.col("__clean").str.split(" ").list.slice(0, 3).list.join(" ").replace("", None),
        pl.lit("(empty)"),
    )
    rows = rows.with_columns(key.alias("__key"), pl.col("merchant_key").is_not_null().alias("__m"))
    groups = (
        rows.group_by("__cause", "__key", "__m")
        .agg(
            pl.len().alias("n"),
            pl.col("description").first().alias("example"),
            pl.col("__guess").drop_nulls().mode().first().alias("guess"),
        )
        .sort(["n", "__key"], descending=[True, False])
    )
    by_cause = {
        str(c): int(n)
        for c, n in rows.group_by("__cause").len().sort("len", descending=True).iter_rows()
    }
    gaps: list[Gap] = []
    for name in _CAUSE_ORDER:
        top = groups.filter(pl.col("__cause") == name).head(per_cause)
        for cause_name, k, by_merchant, n, example, guess in top.iter_rows():
            actionable = cause_name in (ABSTAINED, NO_MODEL, NO_MATCH)
            gaps.append(
                Gap(
                    cause=str(cause_name),
                    key=str(k),
                    rows=int(n),
                    example=_masked(example),
                    fix=_fix(str(k), bool(by_merchant), guess) if actionable else (
                        "add a rule on the description or an alias for the merchant"
                        if cause_name == UNKNOWN_LANGUAGE
                        else "nothing to read: check the export's description column"
                    ),
                    guess=guess,
                )
            )
    return GapReport(total, rows.height, by_cause, tuple(gaps))


def gap_report(store: Store, *, customers: int = 200, per_cause: int = 5) -> GapReport:
    """``explain_gaps`` over the store: the counts are the store's own; the causes are read on
    the uncategorized rows of up to ``customers`` customers, re-categorized with the store's
    rules, aliases, corrections and latest text model (the pipeline ``tactful enrich`` ran).
    Only those rows are read: a row's category depends on nothing but the row (and the
    customer's corrections), so their histories would add nothing but reading time (1.2 s
    of a night's ``tactful enrich`` at 1M transactions when they were read whole)."""
    t, a = schema.transactions, schema.accounts
    total = int(store.rows(select(func.count()).select_from(t))[0][0])
    missing = int(
        store.rows(
            select(func.count()).select_from(t).where(t.c.category_source == "uncategorized")
        )[0][0]
    )
    if missing == 0:
        return GapReport(total, 0, {}, ())
    ids = sorted(
        str(r[0])
        for r in store.rows(
            select(a.c.customer_id)
            .select_from(t.join(a, a.c.id == t.c.account_id))
            .where(t.c.category_source == "uncategorized")
            .distinct()
        )
    )
    chosen = ids[:: max(1, -(-len(ids) // customers))]
    ctx: EnrichContext = repo.latest_context(store)
    frame = categorized(repo.load_uncategorized(store, chosen), ctx)
    report = explain_gaps(frame, classifier=ctx.classifier, per_cause=per_cause)
    sampled = len(chosen) < len(ids)
    if sampled:
        scale = missing / max(report.uncategorized, 1)
        by_cause = {k: round(v * scale) for k, v in report.by_cause.items()}
    else:
        by_cause = report.by_cause
    return GapReport(total, missing, by_cause, report.gaps, sampled=sampled)
