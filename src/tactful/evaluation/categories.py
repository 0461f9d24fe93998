"""Score a categorized frame against the simulator's truth (primary, detailed, per source).

Usage: ``score_categories(categorized, pl.read_parquet(bank / "truth/transaction_truth.parquet"))``
with ``categorized`` the output of ``categorize`` (ids in ``id``).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from tactful.errors import ValidationError

__all__ = ["CategoryScore", "score_categories"]


@dataclass(frozen=True)
class CategoryScore:
    n: int
    accuracy_primary: float
    accuracy_detailed: float
    coverage: float  # share not uncategorized
    merchant_accuracy: float  # case-insensitive exact match where the truth names a merchant
    merchant_n: int
    by_source: pl.DataFrame  # category_source, n, share, accuracy_primary, accuracy_detailed
    by_primary: pl.DataFrame  # category_primary (truth), n, accuracy_primary, accuracy_detailed
    accuracy_primary_categorized: float = float("nan")  # primary accuracy where not uncategorized


def _mean(series: pl.Series) -> float:
    value = series.cast(pl.Float64).mean()
    return float(value) if isinstance(value, float) else 0.0


def score_categories(categorized: pl.DataFrame, truth: pl.DataFrame) -> CategoryScore:
    """Join on transaction id and score; rows without truth are ignored."""
    need = {"id", "category", "category_detailed", "category_source"}
    missing = need - set(categorized.columns)
    if missing:
        raise ValidationError(f"categorized frame lacks column(s): {', '.join(sorted(missing))}")
    t = truth.select(
        pl.col("transaction_id").alias("id"),
        pl.col("category_primary").alias("t_primary"),
        pl.col("category_detailed").alias("t_detailed"),
        pl.col("merchant").alias("t_merchant"),
    )
    cols = ["id", "category", "category_detailed", "category_source"]
    if "merchant" in categorized.columns:
        cols.append("merchant")
    j = (
        categorized.select(cols)
        .join(t, on="id", how="inner")
        .with_columns(
            (pl.col("category") == pl.col("t_primary")).alias("ok_p"),
            (pl.col("category_detailed") == pl.col("t_detailed")).alias("ok_d"),
        )
    )
    n = j.height
    if n == 0:
        raise ValidationError("no categorized row has a truth row")
    by_source = (
        j.group_by("category_source")
        .agg(
            pl.len().alias("n"),
            pl.col("ok_p").mean().alias("accuracy_primary"),
            pl.col("ok_d").mean().alias("accuracy_detailed"),
        )
        .with_columns((pl.col("n") / n).alias("share"))
        .sort("n", descending=True)
    )
    by_primary = (
        j.group_by(pl.col("t_primary").alias("category_primary"))
        .agg(
            pl.len().alias("n"),
            pl.col("ok_p").mean().alias("accuracy_primary"),
            pl.col("ok_d").mean().alias("accuracy_detailed"),
        )
        .sort("n", descending=True)
    )
    merchant_accuracy, merchant_n = float("nan"), 0
    if "merchant" in j.columns:
        m = j.filter(pl.col("t_merchant").is_not_null())
        merchant_n = m.height
        if merchant_n:
            merchant_accuracy = _mean(
                (m["merchant"].str.to_lowercase() == m["t_merchant"].str.to_lowercase()).fill_null(
                    False
                )
            )
    return CategoryScore(
        n=n,
        accuracy_primary=_mean(j["ok_p"]),
        accuracy_detailed=_mean(j["ok_d"]),
        coverage=_mean(j["category_source"] != "uncategorized"),
        merchant_accuracy=merchant_accuracy,
        merchant_n=merchant_n,
        by_source=by_source,
        by_primary=by_primary,
        accuracy_primary_categorized=_mean(
            j.filter(pl.col("category_source") != "uncategorized")["ok_p"]
        ),
    )
