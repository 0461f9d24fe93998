"""A text categorizer for what rules, the merchant directory and MCCs leave open.

Character n-grams (2-5, word-bounded) of ``"merchant_key channel direction"`` feed a linear model
(``SGDClassifier`` with log loss, so ``predict`` has calibrated-enough probabilities to threshold).
It is trained on the bank's own rows whose category came from a user, a rule or an MCC — never
on its own predictions — so it generalizes the bank's labels to merchants without an MCC.

The fitted model is stored as data, never as a pickle (``to_bytes``): a NumPy ``.npz`` archive
of the vocabulary (terms in column order), the IDF weights, the coefficients, the intercepts and
the class names, with a small JSON header, read back with ``allow_pickle=False``. Whoever can write
the ``text_models`` table can therefore change categories, as they could by writing the
transactions, but cannot run code. Models stored as joblib pickles by Tactful 0.1 are refused with
a message to retrain (``tactful enrich --retrain``).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier

from tactful.errors import ArtifactRefused, ConfigError, ValidationError

__all__ = ["FORMAT", "TRAINING_SOURCES", "TextCategorizer", "text_expr", "training_set"]

TRAINING_SOURCES = ("user", "rule", "mcc")
FORMAT = "tactful.text_categorizer"
_FORMAT_VERSION = 1
_ARRAYS = ("terms", "idf", "coef", "intercept", "classes")
RETRAIN = "retrain it with: tactful enrich --retrain"


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

    def _vectorizer(self, vocabulary: dict[str, int] | None = None) -> TfidfVectorizer:
        """The one definition of the features, shared by ``fit`` and ``from_bytes``."""
        return TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 5),
            max_features=self.max_features,
            sublinear_tf=True,
            dtype=np.float32,
            vocabulary=vocabulary,
        )

    def _classifier(self) -> SGDClassifier:
        return SGDClassifier(
            loss="log_loss",
            alpha=self.alpha,
            max_iter=self.max_iter,
            tol=None,
            random_state=self.seed,
        )

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
        vectorizer = self._vectorizer()
        x = vectorizer.fit_transform(counts["t"].to_list())
        model = self._classifier()
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

    def to_bytes(self) -> bytes:
        """The fitted model as data: an ``.npz`` archive (no pickled objects in it)."""
        if not hasattr(self, "model_"):
            raise ValidationError("TextCategorizer is not fitted: call fit first")
        vocabulary: dict[str, int] = self.vectorizer_.vocabulary_
        terms = [""] * len(vocabulary)
        for term, column in vocabulary.items():
            terms[column] = term
        header = {
            "format": FORMAT,
            "version": _FORMAT_VERSION,
            "params": {
                "alpha": self.alpha,
                "max_iter": self.max_iter,
                "max_features": self.max_features,
                "seed": self.seed,
            },
        }
        buffer = io.BytesIO()
        np.savez(
            buffer,
            allow_pickle=False,
            header=np.array(json.dumps(header, sort_keys=True)),
            terms=np.array(terms, dtype=np.str_),
            idf=np.asarray(self.vectorizer_.idf_),
            coef=np.asarray(self.model_.coef_),
            intercept=np.asarray(self.model_.intercept_),
            classes=np.array(self.classes_, dtype=np.str_),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes, *, what: str = "text model") -> TextCategorizer:
        """Rebuild a model from ``to_bytes``; never unpickles (``allow_pickle=False``).

        A joblib pickle written by Tactful 0.1 is refused with a message to retrain.
        """
        if not zipfile.is_zipfile(io.BytesIO(blob)):
            if blob[:1] == b"\x80":
                raise ArtifactRefused(
                    f"{what} was stored as a pickle by an earlier version of Tactful, which this "
                    f"version does not load (a pickle can run code); {RETRAIN}"
                )
            raise ArtifactRefused(f"{what} is not a Tactful text model archive")
        try:
            with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
                header: dict[str, Any] = json.loads(str(archive["header"][()]))
                arrays = {name: archive[name] for name in _ARRAYS}
        except (ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:
            raise ArtifactRefused(f"{what} cannot be read ({exc}); {RETRAIN}") from exc
        if header.get("format") != FORMAT or header.get("version") != _FORMAT_VERSION:
            raise ArtifactRefused(
                f"{what} has format {header.get('format')!r} version {header.get('version')!r}, "
                f"not {FORMAT!r} version {_FORMAT_VERSION}; {RETRAIN}"
            )
        params = header["params"]
        model = cls(
            alpha=float(params["alpha"]),
            max_iter=int(params["max_iter"]),
            max_features=int(params["max_features"]),
            seed=int(params["seed"]),
        )
        terms = [str(t) for t in arrays["terms"].tolist()]
        vectorizer = model._vectorizer({t: i for i, t in enumerate(terms)})
        vectorizer.idf_ = arrays["idf"]
        classifier = model._classifier()
        classifier.coef_ = arrays["coef"]
        classifier.intercept_ = arrays["intercept"]
        classifier.classes_ = arrays["classes"]
        classifier.n_features_in_ = len(terms)
        model.vectorizer_ = vectorizer
        model.model_ = classifier
        model.classes_ = [str(c) for c in arrays["classes"].tolist()]
        return model

    def save(self, path: Path | str) -> Path:
        """Write ``to_bytes`` and ``<path>.sha256``; returns the checksum file's path."""
        path = Path(path)
        path.write_bytes(self.to_bytes())
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        check = path.with_name(path.name + ".sha256")
        check.write_text(f"{digest}  {path.name}\n", "utf-8")
        return check

    @classmethod
    def load(cls, path: Path | str) -> TextCategorizer:
        """Read a saved model; refuses a file whose checksum is missing or differs (the
        checksum catches a truncated or corrupted file; the format itself runs no code)."""
        path = Path(path)
        check = path.with_name(path.name + ".sha256")
        if not check.exists():
            raise ConfigError(f"{path}: no checksum file {check.name}; refusing to load")
        expected = check.read_text("utf-8").split()[0]
        blob = path.read_bytes()
        actual = hashlib.sha256(blob).hexdigest()
        if actual != expected:
            raise ConfigError(
                f"{path}: checksum mismatch (expected {expected[:12]}..., "
                f"got {actual[:12]}...); refusing to load"
            )
        return cls.from_bytes(blob, what=str(path))
