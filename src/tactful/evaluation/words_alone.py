"""Categories scored as a bank with nothing but descriptions and amounts would get them.

Many real exports carry a description, a signed amount and a date: no channel, no MCC, no
counterparty. ``words_alone`` strips a frame down to that (the channel as the importer writes
it when an export has none, ``other``), categorizes it with the shipped rules, directory and
lexicon and a text model trained the way ``tactful enrich`` trains one (on what they labelled,
if there is enough), and scores it. Coverage (rows categorized) and accuracy on the categorized
rows are reported apart: an engine that abstains must be judged on both.

The simulator's "unseen merchants" bank (merchants neither the directory nor the rules know)
goes through the same function.
"""

from __future__ import annotations

import polars as pl

from tactful.enrich.behaviour import (
    BEHAVIOUR_RULE_ID,
    MIN_ROWS,
    BehaviourFit,
    categorize_by_behaviour,
)
from tactful.enrich.classifier import (
    TextCategorizer,
    calibration_set,
    training_problem,
    training_set,
)
from tactful.enrich.descriptor import UNKNOWN_CHANNEL
from tactful.enrich.frames import TRANSACTIONS
from tactful.enrich.pipeline import EnrichContext, categorized
from tactful.evaluation.categories import CategoryScore, score_categories
from tactful.evaluation.report import Metric, Section, markdown_table

__all__ = ["evaluate_words_alone", "words_alone", "words_alone_with_behaviour"]


def words_alone_with_behaviour(
    frame: pl.DataFrame,
) -> tuple[pl.DataFrame, TextCategorizer | None, str | None, BehaviourFit]:
    """``words_alone``, then the merchants no word read categorized from how the bank's
    customers pay them (``enrich.behaviour``), with what that step learned."""
    cats, model, problem = words_alone(frame)
    out, fit = categorize_by_behaviour(cats)
    return out, model, problem, fit


def words_alone(frame: pl.DataFrame) -> tuple[pl.DataFrame, TextCategorizer | None, str | None]:
    """``frame`` (``TRANSACTIONS``) without channel, MCC and counterparty, categorized; with
    the text model used (``None`` and the reason when too few labelled texts to train one)."""
    bare = frame.select(list(TRANSACTIONS)).with_columns(
        pl.lit(UNKNOWN_CHANNEL, dtype=pl.String).alias("channel"),
        pl.lit(None, dtype=pl.String).alias("mcc"),
        pl.lit(None, dtype=pl.String).alias("counterparty"),
    )
    first = categorized(bare, EnrichContext())
    texts, labels = training_set(first)
    problem = training_problem(texts, labels)
    if problem is not None:
        return first, None, problem
    model = TextCategorizer().fit(texts, labels, calibration=calibration_set(first))
    return categorized(bare, EnrichContext(classifier=model)), model, None


def evaluate_words_alone(
    frame: pl.DataFrame,
    truth: pl.DataFrame,
    *,
    data: str,
    title: str = "Categories from descriptions alone (no channel, MCC or counterparty)",
) -> Section:
    """The section of ``make eval`` for ``words_alone`` on ``frame`` against ``truth`` (one
    ``title`` per bank: the report matches a run's figures to the last run's by title)."""
    words, model, problem = words_alone(frame)
    cats, fit = categorize_by_behaviour(words)
    score: CategoryScore = score_categories(cats, truth)
    # `tactful enrich` fits the behaviour step with the text model, on the same sample of up to
    # TRAINING_CUSTOMERS customers, stores it beside the model and applies it to every shard;
    # here it is fitted on the whole bank. Without it is scored apart, to show what it adds.
    product = score_categories(words, truth)
    note = f"no text model: {problem}"
    if model is not None:
        by_class = getattr(model, "abstain_below_by_class_", {})
        open_ = sum(1 for v in by_class.values() if v <= 1.0)
        note = (
            f"text model abstains below a confidence calibrated per category on held-out "
            f"merchants for precision {model.target_precision}: {open_} of {len(by_class)} "
            f"categories it answered there ever answered (pooled threshold "
            f"{model.abstain_below:.2f})"
        )
    by_source = score_categories(
        cats.with_columns(
            pl.when(pl.col("rule_id") == BEHAVIOUR_RULE_ID)
            .then(pl.lit("model (behaviour)"))
            .when(pl.col("category_source") == "model")
            .then(pl.lit("model (text)"))
            .otherwise(pl.col("category_source"))
            .alias("category_source")
        ),
        truth,
    ).by_source
    rows = [
        [r[0], r[1], f"{r[2]:.3f}", f"{r[3]:.3f}", f"{r[4]:.3f}"]
        for r in by_source.select(
            "category_source", "n", "share", "accuracy_primary", "accuracy_detailed"
        ).iter_rows()
    ]
    behaviour = (
        f"Merchants no word read, from how customers pay them (amounts, hours, weekdays, "
        f"return visits, the descriptor's shape): {fit.answered} of {fit.candidates} merchants "
        f"with {MIN_ROWS}+ payments categorized, learned from {fit.training_merchants} merchants "
        f"the rules and lexicon labelled, answering a primary category (the detailed one the "
        f"likeliest under it) only above a threshold calibrated per primary category on "
        f"held-out merchants for precision 0.9 "
        f"({len(fit.thresholds)} primary categories ever answered)"
        if fit.problem is None
        else f"no behaviour step: {fit.problem}"
    )
    return Section(
        title=title,
        data=data,
        metrics=[
            Metric("category accuracy, primary (all rows)", score.accuracy_primary, ">= 0.85"),
            Metric("category accuracy, primary (all rows), without the behaviour step",
                   product.accuracy_primary, None,
                   "rules, lexicon and text model alone"),
            Metric("category accuracy, detailed (all rows)", score.accuracy_detailed),
            Metric("coverage (categorized)", score.coverage),
            Metric("abstention (uncategorized)", 1.0 - score.coverage),
            Metric(
                "category accuracy, primary (categorized rows)",
                score.accuracy_primary_categorized,
            ),
        ],
        tables=[
            (
                "By source",
                markdown_table(
                    ["source", "n", "share", "accuracy primary", "accuracy detailed"], rows
                ),
            )
        ],
        notes=[
            "The export keeps only description, amount and date; the channel is 'other', as the "
            "importer writes it for an export without one. " + note + ".",
            behaviour + ".",
        ],
    )
