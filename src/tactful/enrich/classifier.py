"""A text categorizer for what rules, the merchant directory and MCCs leave open.

Character n-grams (2-5, word-bounded) of ``"merchant_key channel direction"`` feed a linear model
(``SGDClassifier`` with log loss, so ``predict`` has calibrated-enough probabilities to threshold).
It is trained on the bank's own rows whose category came from a user, a rule or an MCC — never
on its own predictions — so it generalizes the bank's labels to merchants without an MCC.

``save`` writes the model with joblib and a ``.sha256`` file next to it; ``load`` refuses a
model whose bytes do not match (a tampered or truncated file is never unpickled).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import joblib
import numpy as np
import polars as pl
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier

from tactful.errors import ConfigError, ValidationError

__all__ = ["TRAINING_SOURCES", "TextCategorizer", "text_expr", "training_set"]

TRAINING_SOURCES = ("user", "rule", "mcc")


def text_expr() -> pl.Expr:
    """The classifier's input text of a categorized or merchant-normalized frame."""
    direction = pl.when(pl.col("amount_minor") > 0).then(pl.lit("in")).otherwise(pl.lit("out"))
    return pl.concat_str(
        [
            pl.col("merchant_key").fill_null(
                pl.col("description").str.to_uppercase().str.slice(0, 40)
            ),
            pl.col("channel"),
            direction,
        ],
        separator=" ",
    )


def training_set(categorized: pl.DataFrame) -> tuple[list[str], list[str]]:
    """(texts, labels) of rows labelled by a user, a rule or an MCC (never by the model)."""
    rows = categorized.filter(
        pl.col("category_source").is_in(TRAINING_SOURCES)
        & (pl.col("category_detailed") != "UNCATEGORIZED")
    ).select(text_expr().alias("text"), "category_detailed")
    return rows["text"].to_list(), rows["category_detailed"].to_list()


class TextCategorizer:
    """Detailed category from short normalized text; ``fit`` then ``predict``."""

    def __init__(
        self, *, alpha: float = 1e-5, max_iter: int = 20, max_features: int = 200_000, seed: int = 0
    ) -> None:
        self.alpha = alpha
        self.max_iter = max_iter
        self.max_features = max_features
        self.seed = seed

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> TextCategorizer:
        if len(texts) != len(labels):
            raise ValidationError(
                f"texts ({len(texts)}) and labels ({len(labels)}) differ in length"
            )
        if len(set(labels)) < 2:
            raise ValidationError("labels: need at least two categories to fit")
        if self.alpha <= 0:
            raise ValidationError(f"alpha must be > 0, got {self.alpha}")
        frame = pl.DataFrame({"t": list(texts), "y": list(labels)})
        counts = (
            frame.group_by("t", "y").len().sort("t", "y")
        )  # weight each distinct (text, label) by its count
        vectorizer = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 5),
            max_features=self.max_features,
            sublinear_tf=True,
            dtype=np.float32,
        )
        x = vectorizer.fit_transform(counts["t"].to_list())
        model = SGDClassifier(
            loss="log_loss",
            alpha=self.alpha,
            max_iter=self.max_iter,
            tol=None,
            random_state=self.seed,
        )
        model.fit(x, counts["y"].to_numpy(), sample_weight=np.log1p(counts["len"].to_numpy()))
        self.vectorizer_ = vectorizer
        self.model_ = model
        self.classes_ = [str(c) for c in model.classes_]
        return self

    def predict(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """(labels, confidence) per text; computed once per distinct text."""
        if not hasattr(self, "model_"):
            raise ValidationError("TextCategorizer is not fitted: call fit first")
        series = pl.Series("t", list(texts), dtype=pl.String)
        uniq = series.unique(maintain_order=True)
        if uniq.len() == 0:
            return [], np.zeros(0)
        proba = self.model_.predict_proba(self.vectorizer_.transform(uniq.to_list()))
        best = proba.argmax(axis=1)
        table = pl.DataFrame(
            {
                "t": uniq,
                "label": np.asarray(self.classes_)[best],
                "confidence": proba[np.arange(len(best)), best],
            }
        )
        joined = series.to_frame().join(table, on="t", how="left", maintain_order="left")
        return joined["label"].to_list(), joined["confidence"].to_numpy()

    def save(self, path: Path | str) -> Path:
        """Write the model and ``<path>.sha256``; returns the checksum file's path."""
        path = Path(path)
        joblib.dump(self, path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        check = path.with_name(path.name + ".sha256")
        check.write_text(f"{digest}  {path.name}\n", "utf-8")
        return check

    @classmethod
    def load(cls, path: Path | str) -> TextCategorizer:
        """Read a saved model; refuses a file whose checksum is missing or differs."""
        path = Path(path)
        check = path.with_name(path.name + ".sha256")
        if not check.exists():
            raise ConfigError(f"{path}: no checksum file {check.name}; refusing to load")
        expected = check.read_text("utf-8").split()[0]
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if actual != expected:
            raise ConfigError(
                f"{path}: checksum mismatch (expected {expected[:12]}..., "
                f"got {actual[:12]}...); refusing to load"
            )
        obj = joblib.load(path)
        if not isinstance(obj, cls):
            raise ConfigError(f"{path}: not a TextCategorizer")
        return obj
