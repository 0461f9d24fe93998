"""Merchants whose name says nothing, categorized from how the bank's customers pay them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from tactful.enrich.behaviour import (
    BEHAVIOUR_RULE_ID,
    FEATURES,
    categorize_by_behaviour,
    merchant_profiles,
)
from tactful.errors import ValidationError

# (category, amount range in minor units, hours, visits per customer): two ways to shop
KINDS = {
    "FOOD_AND_DRINK_COFFEE": ((250, 650), (7, 9), 12),
    "FOOD_AND_DRINK_GROCERIES": ((3000, 12000), (16, 19), 4),
}


def _merchant(
    rng: random.Random, key: str, kind: str, *, labelled: bool, customers: int = 12
) -> list[dict[str, object]]:
    (low, high), (h0, h1), visits = KINDS[kind]
    rows = []
    for c in range(customers):
        for v in range(visits):
            at = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(
                days=rng.randint(0, 170), hours=rng.randint(h0, h1), minutes=rng.randint(0, 59)
            )
            rows.append(
                {
                    "id": f"{key}-{c}-{v}",
                    "customer_id": f"C{c}",
                    "merchant_key": key,
                    "description": f"{key} #{rng.randint(1000, 9999)} LEEDS",
                    "amount_minor": -rng.randint(low, high),
                    "booked_at": at,
                    "channel": "card",
                    "category_detailed": kind if labelled else "UNCATEGORIZED",
                    "category": kind.split("_AND_DRINK")[0] + "_AND_DRINK"
                    if labelled
                    else "UNCATEGORIZED",
                    "category_source": "lexicon" if labelled else "uncategorized",
                    "category_confidence": 0.8 if labelled else 0.0,
                    "rule_id": "lexicon:en:TEST" if labelled else None,
                }
            )
    return rows


def _bank(seed: int = 3, labelled_per_kind: int = 30) -> pl.DataFrame:
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    for kind in KINDS:
        for i in range(labelled_per_kind):
            rows += _merchant(rng, f"{kind[14:18]}WORD{i}", kind, labelled=True)
    rows += _merchant(rng, "BREWZORVAK", "FOOD_AND_DRINK_COFFEE", labelled=False)
    rows += _merchant(rng, "QUAMELRIX", "FOOD_AND_DRINK_GROCERIES", labelled=False)
    # a merchant like no labelled one: large sums at night, once per customer
    for c in range(10):
        rows.append(
            {
                **rows[-1],
                "id": f"ODD-{c}",
                "customer_id": f"C{c}",
                "merchant_key": "ZORTIVOSK",
                "description": "ZORTIVOSK*AB12CD34 800-555-0199",
                "amount_minor": -900_000 - c,
                "booked_at": datetime(2025, 2, 1 + c, 2, tzinfo=UTC),
            }
        )
    return pl.DataFrame(rows)


def test_brands_are_read_from_how_they_are_paid_and_strangers_are_left_alone() -> None:
    frame = _bank()
    out, fit = categorize_by_behaviour(frame)
    got = dict(
        out.filter(pl.col("rule_id") == BEHAVIOUR_RULE_ID)
        .select("merchant_key", "category_detailed")
        .unique()
        .iter_rows()
    )
    assert got == {
        "BREWZORVAK": "FOOD_AND_DRINK_COFFEE",
        "QUAMELRIX": "FOOD_AND_DRINK_GROCERIES",
    }, fit
    assert fit.problem is None and fit.candidates == 3 and fit.answered == 2
    answered = out.filter(pl.col("rule_id") == BEHAVIOUR_RULE_ID)
    assert set(answered["category_source"]) == {"model"}
    assert answered["category_confidence"].min() > 0
    odd = out.filter(pl.col("merchant_key") == "ZORTIVOSK")
    assert set(odd["category_source"]) == {"uncategorized"}
    # rows already categorized are never touched
    before = frame.filter(pl.col("category_source") != "uncategorized")
    after = out.join(before.select("id"), on="id").sort("id")
    assert after.equals(before.sort("id").select(after.columns))
    assert out.columns == frame.columns and out.height == frame.height


def test_a_food_place_whose_vote_splits_between_food_categories_is_answered_as_food() -> None:
    """Coffee bars and fast-food counters that are paid alike: the forest cannot tell them
    apart, and needs not to: the answer is a primary category with its summed probability
    (the detailed category the likeliest under it), so the split does not read as doubt."""
    rng = random.Random(3)
    rows: list[dict[str, object]] = []
    for i in range(30):
        kind = "FOOD_AND_DRINK_COFFEE" if i % 2 else "FOOD_AND_DRINK_FAST_FOOD"
        rows += [
            r | {"category_detailed": kind}
            for r in _merchant(rng, f"FOODWORD{i}", "FOOD_AND_DRINK_COFFEE", labelled=True)
        ]
        rows += [
            r | {"category_detailed": "GENERAL_MERCHANDISE_SUPERSTORES"}
            for r in _merchant(rng, f"SHOPWORD{i}", "FOOD_AND_DRINK_GROCERIES", labelled=True)
        ]
    rows += _merchant(rng, "BREWZORVAK", "FOOD_AND_DRINK_COFFEE", labelled=False)
    out, fit = categorize_by_behaviour(pl.DataFrame(rows))
    answered = out.filter(pl.col("merchant_key") == "BREWZORVAK")
    assert set(answered["category"]) == {"FOOD_AND_DRINK"}, fit
    assert set(answered["category_detailed"]) <= {"FOOD_AND_DRINK_COFFEE",
                                                  "FOOD_AND_DRINK_FAST_FOOD"}
    # the primary's probability, not the ~0.5 either detailed category gets
    assert answered["category_confidence"].min() > 0.9
    assert set(fit.thresholds) == {"FOOD_AND_DRINK", "GENERAL_MERCHANDISE"}


def test_too_few_labelled_merchants_teach_nothing() -> None:
    frame = _bank(labelled_per_kind=10)
    out, fit = categorize_by_behaviour(frame)
    assert out.equals(frame)
    assert fit.problem == "only 20 labelled merchants with 5+ payments"


def test_profiles_hold_every_feature_for_payments_out_at_merchants() -> None:
    frame = _bank(labelled_per_kind=1)
    credit = frame.head(1).with_columns(
        pl.lit(5000, dtype=pl.Int64).alias("amount_minor"), pl.lit("CREDITOR").alias("merchant_key")
    )
    profiles = merchant_profiles(pl.concat([frame, credit]))
    assert profiles.columns == ["merchant_key", "n", *FEATURES]
    assert "CREDITOR" not in profiles["merchant_key"].to_list()
    assert profiles.filter(pl.col("merchant_key") == "ZORTIVOSK")["phone"].item() == 1.0
    assert profiles.select(pl.all().exclude("merchant_key").is_null().any()).row(0) == tuple(
        [False] * (len(FEATURES) + 1)
    )


@pytest.mark.parametrize("target", [0.0, 1.5])
def test_the_target_precision_is_a_share(target: float) -> None:
    with pytest.raises(ValidationError, match=r"target_precision must be within \(0, 1\]"):
        categorize_by_behaviour(_bank(labelled_per_kind=1), target_precision=target)
