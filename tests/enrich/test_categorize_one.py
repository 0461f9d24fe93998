"""``pipeline.categorize_one`` (one transaction as a dict, the real-time path) gives the batch
pipeline's answer on every row of a simulated bank, through every step of the precedence."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import polars as pl
import pytest

from tactful.enrich import categorize as categorize_module
from tactful.enrich.behaviour import ANSWERS, BEHAVIOUR_RULE_ID
from tactful.enrich.classifier import TextCategorizer, training_set
from tactful.enrich.frames import TRANSACTIONS
from tactful.enrich.pipeline import EnrichContext, categorize_one, categorized
from tactful.enrich.rules import RuleSet
from tactful.errors import ValidationError
from tactful.evaluation.exports import transactions_frame
from tactful.simulate import SimulationConfig, simulate

COMPARED = (
    "channel", "counterparty", "merchant", "merchant_key", "category", "category_detailed",
    "category_source", "category_confidence", "rule_id",
)


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    """A simulated bank's transactions; every third row without its channel and MCC, so the
    descriptor, the lexicon and the text model have rows to answer."""
    out = tmp_path_factory.mktemp("categorize-one-bank")
    simulate(SimulationConfig(customers=30, months=3, seed=11, start=date(2025, 1, 1)), out,
             "parquet")
    frame = transactions_frame(out).select(list(TRANSACTIONS))
    bare = pl.int_range(pl.len()) % 3 == 0
    return frame.with_columns(
        pl.when(bare).then(None).otherwise(pl.col("channel")).alias("channel"),
        pl.when(bare).then(None).otherwise(pl.col("mcc")).alias("mcc"),
    )


@pytest.fixture(scope="module")
def ctx(bank: pl.DataFrame) -> EnrichContext:
    """The bank's rules, two customers' corrections and a trained text model."""
    plain = categorized(bank, EnrichContext())
    texts, labels = training_set(plain)
    model = TextCategorizer(min_texts=50, seed=3).fit(texts, labels)
    keyed = plain.filter(pl.col("merchant_key").is_not_null())
    pairs = keyed.select("customer_id", "merchant_key").unique(maintain_order=True).head(6)
    overrides = pairs.with_columns(
        pl.lit("GENERAL_MERCHANDISE_GIFTS_AND_NOVELTIES").alias("category_detailed")
    )
    rules = RuleSet.from_records([
        {"id": "big-debit", "category_detailed": "RENT_AND_UTILITIES_RENT", "conditions": [
            {"field": "amount_minor", "operator": "lt", "value": -150000},
            {"field": "direction", "operator": "equals", "value": "out"}]},
        {"id": "coffee-words", "category_detailed": "FOOD_AND_DRINK_COFFEE", "conditions": [
            {"field": "description", "operator": "regex", "value": r"(?i)\bcoffee\b"}]},
    ])
    return EnrichContext(rules=rules, overrides=overrides, classifier=model)


def test_every_row_gets_the_batch_answer(bank: pl.DataFrame, ctx: EnrichContext) -> None:
    whole = categorized(bank, ctx)
    sources = set(whole.get_column("category_source"))
    # the sample reaches every step of the precedence, so the equality below covers them all
    assert {"user", "rule", "mcc", "lexicon", "model", "uncategorized"} <= sources
    for row, expected in zip(bank.iter_rows(named=True), whole.iter_rows(named=True),
                             strict=True):
        got = categorize_one(row, ctx)
        assert {c: got[c] for c in COMPARED} == {c: expected[c] for c in COMPARED}, row


def test_behaviour_answers_reach_the_one_row_path_as_the_batch_applies_them(
    bank: pl.DataFrame, ctx: EnrichContext
) -> None:
    """The merchants the behaviour step answered (fitted with the text model, stored beside it)
    categorize an uncategorized payment on both paths, and leave every other row alone: a
    categorized row of an answered merchant, money in, a merchant with no answer."""
    whole = categorized(bank, ctx)
    open_keys = (
        whole.filter((pl.col("category_source") == "uncategorized")
                     & (pl.col("amount_minor") < 0) & pl.col("merchant_key").is_not_null())
        .get_column("merchant_key").unique().sort().head(4).to_list()
    )
    known = whole.filter(pl.col("category_source") == "lexicon").item(0, "merchant_key")
    assert open_keys and known
    keys = [*open_keys, known]
    answers = pl.DataFrame({
        "merchant_key": keys,
        "category_detailed": ["GENERAL_MERCHANDISE_OTHER_GENERAL_MERCHANDISE"] * len(keys),
        "confidence": [0.91] * len(keys),
    }, schema=dict(ANSWERS))
    with_behaviour = replace(ctx, behaviour=answers)
    batch = categorized(bank, with_behaviour)
    assert batch.filter(pl.col("rule_id") == BEHAVIOUR_RULE_ID).height > 0
    assert batch.filter(pl.col("merchant_key") == known)["rule_id"].ne_missing(
        BEHAVIOUR_RULE_ID).all()
    for row, expected in zip(bank.iter_rows(named=True), batch.iter_rows(named=True),
                             strict=True):
        got = categorize_one(row, with_behaviour)
        assert {c: got[c] for c in COMPARED} == {c: expected[c] for c in COMPARED}, row


def test_the_batch_lexicon_reads_a_few_texts_in_python_as_polars_does(
    bank: pl.DataFrame, ctx: EnrichContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small frames read the lexicon in Python (``_few_matched``), large ones in Polars: the
    same answers on the same rows."""
    part = bank.head(400)
    python = categorized(part, ctx)
    monkeypatch.setattr(categorize_module, "_PYTHON_LEXICON_ROWS", 0)
    polars = categorized(part, ctx)
    assert (python.get_column("category_source") == "lexicon").any()
    assert python.equals(polars)


def _row(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {name: None for name in TRANSACTIONS}
    base.update(id="T1", account_id="A1", customer_id="C1", amount_minor=-1250,
                currency="EUR", status="posted")
    return base | changes


@pytest.mark.parametrize(
    "row",
    [
        _row(description="KARTENZAHLUNG STADTAPOTHEKE KÖLN", channel="card"),
        _row(description="STRAßE 5 CAFÉ", channel="card"),  # ß: the frame path answers
        _row(description="TANKSTELLE NORD", amount_minor=-4000.0),  # a float amount
        _row(description=None, counterparty="APOTHEKE AM MARKT", channel="direct_debit"),
        _row(description="SALARY ACME LTD", amount_minor=250000, channel=None),
    ],
)
def test_odd_rows_get_the_frame_answer(row: dict[str, Any]) -> None:
    ctx = EnrichContext()
    frame = pl.DataFrame([row], schema_overrides=dict(TRANSACTIONS), strict=False)
    expected = categorized(frame, ctx).row(0, named=True)
    got = categorize_one(row, ctx)
    assert {c: got[c] for c in COMPARED} == {c: expected[c] for c in COMPARED}


def test_a_missing_field_is_refused() -> None:
    row = _row(description="COFFEE")
    del row["mcc"], row["status"]
    with pytest.raises(ValidationError, match=r"^transaction lacks field\(s\): mcc, status$"):
        categorize_one(row, EnrichContext())
