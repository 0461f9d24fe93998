"""A text categorizer for what rules, the merchant directory and MCCs leave open.

Character n-grams (2-5, word-bounded) of ``"merchant_key channel direction"`` feed a linear model
(``SGDClassifier`` with log loss, so ``predict`` has calibrated-enough probabilities to threshold).
It is trained on the bank's own rows whose category came from a user, a rule or an MCC — never
on its own predictions — so it generalizes the bank's labels to merchants without an MCC.

The model abstains where it would guess. ``fit`` holds out a fifth of the distinct texts (by
their first word, the merchant's name as a rule: whole merchants, so the held-out rows are
merchants it never saw, not the same one in another city), fits on the rest, and finds the
lowest confidence at which its held-out answers reach ``target_precision`` (0.9 by default),
pooled (``abstain_below``) and for each category it answers (``abstain_below_for``): below its
answer's threshold ``categorize`` leaves the row uncategorized. The model
is only ever asked about rows no rule or lexicon term read, so a held-out text the lexicon
labelled is scored without the words that labelled it (``calibration_set``: "KLOOF PHARMACY"
is held out as "KLOOF"); otherwise the threshold would be measured on answers the lexicon
already gives and trusted on names that say nothing. That very
model is kept (a refit on every row would no longer be the model the threshold was measured
on, and would cost a second fit). A bank with too few labelled texts gets no model at all:
``fit`` refuses fewer than ``MIN_TRAINING_TEXTS`` distinct labelled texts (or fewer than two
categories) with a ``NotEnoughTrainingData`` saying how many it had, because a linear model on a
few dozen rows puts every unknown merchant into whatever class dominated them, with confidence
near 1.

The fitted model is stored as data, never as a pickle (``to_bytes``): a NumPy ``.npz`` archive
of the vocabulary (terms in column order), the IDF weights, the coefficients, the intercepts and
the class names, with a small JSON header, read back with ``allow_pickle=False``. Whoever can write
the ``text_models`` table can therefore change categories, as they could by writing the
transactions, but cannot run code. Models stored as joblib pickles by Tactful 0.1 are refused with
a message to retrain (``tactful enrich --retrain``).

Fitting needs scikit-learn; answering does not. ``predict`` and ``predict_one`` apply the stored
arrays in plain NumPy (``_OneRow``, the vectorizer's features bit for bit), so a night's run or
a service that reads the model from the store never imports scikit-learn (1.5-2.5 s here).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from tactful.archive import read_archive
from tactful.errors import ConfigError, ValidationError

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier

__all__ = [
    "FORMAT",
    "MIN_TRAINING_TEXTS",
    "TRAINING_SOURCES",
    "NotEnoughTrainingData",
    "TextCategorizer",
    "calibration_set",
    "text_expr",
    "training_problem",
    "training_set",
]

TRAINING_SOURCES = ("user", "rule", "mcc", "lexicon")
MIN_TRAINING_TEXTS = 200
"""Distinct labelled texts (roughly: merchants) below which no model is trained."""
CALIBRATION_SHARE = 0.2
"""Share of the distinct texts held out to calibrate the abstention threshold."""
FORMAT = "tactful.text_categorizer"
_FORMAT_VERSION = 1
_ARRAYS = ("terms", "idf", "coef", "intercept", "classes")
RETRAIN = "retrain it with: tactful enrich --retrain"
NGRAMS = (2, 5)
"""Character n-gram lengths of each space-padded word (scikit-learn's ``char_wb``)."""


class NotEnoughTrainingData(ValidationError):
    """Too few labelled texts to learn a text model that generalizes."""


def text_expr() -> pl.Expr:
    """The classifier's input text of a categorized or merchant-normalized frame."""
    direction = pl.when(pl.col("amount_minor") > 0).then(pl.lit("in")).otherwise(pl.lit("out"))
    return pl.concat_str(
        [
            pl.col("merchant_key").fill_null(
                pl.col("description").fill_null("").str.to_uppercase().str.slice(0, 40)
            ),
            pl.col("channel").fill_null("unknown"),
            direction,
        ],
        separator=" ",
    )


def training_problem(
    texts: Sequence[str], labels: Sequence[str], *, min_texts: int = MIN_TRAINING_TEXTS
) -> str | None:
    """Why ``texts``/``labels`` are too few to train on, or ``None`` when they are enough."""
    if len(set(labels)) < 2:
        return "labels: need at least two categories to fit"
    distinct = len(set(texts))
    if distinct < min_texts:
        return (
            f"only {distinct} distinct labelled texts ({len(texts)} rows); the text model "
            f"needs at least {min_texts}: add rules, aliases or lexicon terms first"
        )
    return None


def training_set(categorized: pl.DataFrame) -> tuple[list[str], list[str]]:
    """(texts, labels) of rows labelled by a user, a rule or an MCC (never by the model)."""
    rows = categorized.filter(
        pl.col("category_source").is_in(TRAINING_SOURCES)
        & (pl.col("category_detailed") != "UNCATEGORIZED")
    ).select(text_expr().alias("text"), "category_detailed")
    return rows["text"].to_list(), rows["category_detailed"].to_list()


def _without_term(text: str, reason: str) -> str:
    """``text`` without the words of the lexicon term ``reason`` names (``lexicon:en:BURGER+HOUSE``,
    ``mcc-term:PHARMACIES (5122 5912)``): each word containing one of the term's words goes."""
    if reason.startswith("lexicon:"):
        term = reason.split(":", 2)[-1].split("+", 1)[0]
    elif reason.startswith("mcc-term:"):
        term = reason.removeprefix("mcc-term:").split(" (", 1)[0]
    else:
        return text
    words = [w for w in term.upper().split() if w]
    kept = [w for w in text.split(" ") if not any(t in w.upper() for t in words)]
    return " ".join(kept)


def calibration_set(categorized: pl.DataFrame) -> list[str | None]:
    """The texts of ``training_set``, in its order, as the model would meet them: a row the
    lexicon labelled without the words that labelled it (the model is asked only where no
    term matched); ``None`` for a row a rule labelled (the rule reads that line every time, so
    the model is never asked about it, and its easy answers would lower the threshold)."""
    rows = categorized.filter(
        pl.col("category_source").is_in(TRAINING_SOURCES)
        & (pl.col("category_detailed") != "UNCATEGORIZED")
    ).select(
        text_expr().alias("text"),
        pl.col("category_source").alias("source"),
        pl.col("rule_id").alias("reason"),
    )
    masked: dict[tuple[str, str, str | None], str | None] = {
        (t, k, r): None if k == "rule" else _without_term(t, r) if k == "lexicon" and r else t
        for t, k, r in rows.unique().iter_rows()
    }
    return [masked[(t, k, r)] for t, k, r in rows.iter_rows()]


class TextCategorizer:
    """Detailed category from short normalized text; ``fit`` then ``predict``."""

    def __init__(
        self,
        *,
        alpha: float = 1e-5,
        max_iter: int = 20,
        max_features: int = 200_000,
        seed: int = 0,
        target_precision: float = 0.9,
        min_texts: int = MIN_TRAINING_TEXTS,
    ) -> None:
        self.alpha = alpha
        self.min_texts = min_texts
        self.max_iter = max_iter
        self.max_features = max_features
        self.seed = seed
        self.target_precision = target_precision

    @property
    def abstain_below(self) -> float:
        """The calibrated confidence below which the model's answer is not used (0.0 for a
        model fitted before calibration existed)."""
        return float(getattr(self, "abstain_below_", 0.0))

    def abstain_below_for(self, label: str) -> float:
        """The calibrated confidence below which an answer of ``label`` is not used: that
        category's own threshold when the held-out texts gave one (above 1.0 for a category
        whose held-out answers never reached ``target_precision``: it is never answered), else
        the pooled ``abstain_below`` (models stored before per-category thresholds existed)."""
        by_class: dict[str, float] = getattr(self, "abstain_below_by_class_", {})
        return float(by_class.get(label, self.abstain_below)) if by_class else self.abstain_below

    def _vectorizer(self, vocabulary: dict[str, int] | None = None) -> TfidfVectorizer:
        """The one definition of the features, shared by ``fit`` and ``from_bytes``."""
        # scikit-learn takes most of a second to import: paid by whoever fits or loads a model,
        # not by every module (and command) that imports this one
        from sklearn.feature_extraction.text import TfidfVectorizer

        return TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=NGRAMS,
            max_features=self.max_features,
            sublinear_tf=True,
            dtype=np.float32,
            vocabulary=vocabulary,
        )

    def _classifier(self) -> SGDClassifier:
        from sklearn.linear_model import SGDClassifier  # on first use, as in _vectorizer

        return SGDClassifier(
            loss="log_loss",
            alpha=self.alpha,
            max_iter=self.max_iter,
            tol=None,
            random_state=self.seed,
        )

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        calibration: Sequence[str | None] | None = None,
    ) -> TextCategorizer:
        """Fit on four fifths of the distinct texts and calibrate the abstention threshold on
        the fifth held out, each read as ``calibration`` gives it (``calibration_set``; the
        texts themselves when ``None``; a ``None`` in it leaves that text out of the
        calibration, unless that would leave none).

        Raises ``NotEnoughTrainingData`` below ``min_texts`` distinct texts (default
        ``MIN_TRAINING_TEXTS``; a test or a deliberate experiment may lower it)."""
        if len(texts) != len(labels):
            raise ValidationError(
                f"texts ({len(texts)}) and labels ({len(labels)}) differ in length"
            )
        if self.alpha <= 0:
            raise ValidationError(f"alpha must be > 0, got {self.alpha}")
        if not 0.0 < self.target_precision <= 1.0:
            raise ValidationError(
                f"target_precision must be within (0, 1], got {self.target_precision}"
            )
        if calibration is not None and len(calibration) != len(texts):
            raise ValidationError(
                f"calibration ({len(calibration)}) and texts ({len(texts)}) differ in length"
            )
        problem = training_problem(texts, labels, min_texts=self.min_texts)
        if problem is not None:
            raise NotEnoughTrainingData(problem)
        frame = pl.DataFrame(
            {
                "t": list(texts),
                "y": list(labels),
                "c": list(texts if calibration is None else calibration),
            },
            schema={"t": pl.String, "y": pl.String, "c": pl.String},
        )
        counts = (
            frame.group_by("t", "y").agg(pl.len(), pl.col("c").first()).sort("t", "y")
        )  # weight each distinct (text, label) by its count
        # Held out by the text's first word, the merchant's name as a rule: the same merchant
        # printed with another city or store number must not be in both halves.
        held = (
            counts.get_column("t").str.split(" ").list.first().hash(seed=self.seed) % 1000
            < int(CALIBRATION_SHARE * 1000)
        )
        train, test = counts.filter(~held), counts.filter(held)
        asked = test.filter(pl.col("c").is_not_null())
        test = asked if asked.height else test.with_columns(pl.col("c").fill_null(pl.col("t")))
        if train.get_column("y").n_unique() >= 2 and test.height:
            # The model kept is the one the threshold was measured on: no refit on the
            # held-out fifth, whose confidence would then no longer be the one calibrated.
            vectorizer, model = self._fit(train)
            self._keep(vectorizer, model)
            # measured with the very path ``predict`` answers with (``_OneRow``)
            one = self._one()
            answers = [one.predict(text) for text in test["c"].to_list()]
            predicted = np.asarray([label for label, _ in answers])
            confidence = np.asarray([c for _, c in answers], dtype=np.float64)
            right = predicted == test["y"].to_numpy()
            weight = test["len"].to_numpy()
            self.abstain_below_, self.calibration_ = _threshold(
                confidence, right, weight, self.target_precision
            )
            self.abstain_below_by_class_ = _per_class(
                predicted, confidence, right, weight, self.target_precision
            )
        else:
            self._keep(*self._fit(counts))
            self.abstain_below_, self.calibration_ = 0.0, {"held_out": 0}
            self.abstain_below_by_class_ = {}
        return self

    def _keep(self, vectorizer: TfidfVectorizer, model: SGDClassifier) -> None:
        """Keep the fitted vectorizer and classifier, and their arrays: what ``predict``,
        ``predict_one`` and ``to_bytes`` read, so a model read back from the store answers
        without scikit-learn."""
        if vectorizer.analyzer != "char_wb" or vectorizer.strip_accents is not None or (
            vectorizer.norm != "l2" or not vectorizer.sublinear_tf or not vectorizer.use_idf
            or tuple(vectorizer.ngram_range) != NGRAMS or not vectorizer.lowercase
            or np.dtype(vectorizer.dtype) != np.float32
        ):
            raise ValidationError("the NumPy path reproduces only the TextCategorizer's own "
                                  "vectorizer (char_wb 2-5, lowercase, sublinear tf-idf, l2)")
        self.vectorizer_, self.model_ = vectorizer, model
        self.vocabulary_: dict[str, int] = dict(vectorizer.vocabulary_)
        self.idf_ = np.asarray(vectorizer.idf_)
        self.coef_ = np.asarray(model.coef_)
        self.intercept_ = np.asarray(model.intercept_)
        self.classes_ = [str(c) for c in model.classes_]
        self._one_row: _OneRow | None = None  # built on first use

    def _one(self) -> _OneRow:
        if not hasattr(self, "coef_"):
            raise ValidationError("TextCategorizer is not fitted: call fit first")
        one: _OneRow | None = getattr(self, "_one_row", None)
        if one is None:
            one = self._one_row = _OneRow(self)
        return one

    def _fit(self, counts: pl.DataFrame) -> tuple[TfidfVectorizer, SGDClassifier]:
        vectorizer = self._vectorizer()
        x = vectorizer.fit_transform(counts["t"].to_list())
        model = self._classifier()
        model.fit(x, counts["y"].to_numpy(), sample_weight=np.log1p(counts["len"].to_numpy()))
        return vectorizer, model

    def predict(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """(labels, confidence) per text; computed once per distinct text, in plain NumPy
        (``_OneRow``: the features scikit-learn's vectorizer gives, bit for bit, and its
        linear layer): a stored model answers without importing scikit-learn, which costs a
        nightly run or a service 1.5-2.5 s to start; a full run asks about ~1,000 distinct
        texts (a bank of 1M transactions), a few tens of microseconds each."""
        one = self._one()
        series = pl.Series("t", list(texts), dtype=pl.String)
        uniq = series.unique(maintain_order=True)
        if uniq.len() == 0:
            return [], np.zeros(0)
        answers = [one.predict(text) for text in uniq.to_list()]
        table = pl.DataFrame(
            {
                "t": uniq,
                "label": [label for label, _ in answers],
                "confidence": [c for _, c in answers],
            },
            schema={"t": pl.String, "label": pl.String, "confidence": pl.Float64},
        )
        joined = series.to_frame().join(table, on="t", how="left", maintain_order="left")
        return joined["label"].to_list(), joined["confidence"].to_numpy()

    def predict_one(self, text: str) -> tuple[str, float]:
        """``predict([text])`` of one text, without building a frame: the real-time path
        (issue 21: the ~1% of real-time transactions that reach the model set
        categorize-one's p99)."""
        return self._one().predict(text)

    def to_bytes(self) -> bytes:
        """The fitted model as data: an ``.npz`` archive (no pickled objects in it)."""
        if not hasattr(self, "coef_"):
            raise ValidationError("TextCategorizer is not fitted: call fit first")
        vocabulary = self.vocabulary_
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
                "target_precision": self.target_precision,
                "min_texts": self.min_texts,
            },
            "abstain_below": self.abstain_below,
            "abstain_below_by_class": getattr(self, "abstain_below_by_class_", {}),
            "calibration": getattr(self, "calibration_", {}),
        }
        buffer = io.BytesIO()
        np.savez(
            buffer,
            allow_pickle=False,
            header=np.array(json.dumps(header, sort_keys=True)),
            terms=np.array(terms, dtype=np.str_),
            idf=self.idf_,
            coef=self.coef_,
            intercept=self.intercept_,
            classes=np.array(self.classes_, dtype=np.str_),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes, *, what: str = "text model") -> TextCategorizer:
        """Rebuild a model from ``to_bytes``; never unpickles (``allow_pickle=False``).

        A joblib pickle written by Tactful 0.1 is refused with a message to retrain.
        """
        header, arrays = read_archive(blob, what=what, format=FORMAT,
                                      version=_FORMAT_VERSION, retrain=RETRAIN, arrays=_ARRAYS)
        params = header["params"]
        model = cls(
            alpha=float(params["alpha"]),
            max_iter=int(params["max_iter"]),
            max_features=int(params["max_features"]),
            seed=int(params["seed"]),
            target_precision=float(params.get("target_precision", 0.9)),
            min_texts=int(params.get("min_texts", MIN_TRAINING_TEXTS)),
        )
        model.abstain_below_ = float(header.get("abstain_below", 0.0))
        model.abstain_below_by_class_ = {
            str(k): float(v) for k, v in dict(header.get("abstain_below_by_class", {})).items()
        }
        model.calibration_ = dict(header.get("calibration", {}))
        terms = [str(t) for t in arrays["terms"].tolist()]
        # arrays only: no scikit-learn object is rebuilt (``predict`` is plain NumPy)
        model.vocabulary_ = {t: i for i, t in enumerate(terms)}
        model.idf_ = arrays["idf"]
        model.coef_ = arrays["coef"]
        model.intercept_ = arrays["intercept"]
        model.classes_ = [str(c) for c in arrays["classes"].tolist()]
        if model.coef_.shape != (max(1, len(model.classes_) - (len(model.classes_) == 2)),
                                 len(terms)) or model.idf_.shape != (len(terms),):
            raise ConfigError(f"{what}: its arrays do not fit together; {RETRAIN}")
        model._one_row = None
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


_WHITE_SPACES = re.compile(r"\s\s+")
"""scikit-learn's own (``_VectorizerMixin._white_spaces``), so the words split alike."""


class _OneRow:
    """The fitted vectorizer and linear layer of a ``TextCategorizer`` as plain arrays (the
    only path a model answers by, fitted or read back), applied to one text with the very
    operations scikit-learn applies to a batch, in the same dtypes and
    order: character n-grams of each space-padded word (``char_wb``, 2-5) of the lowercased text,
    counts looked up in the vocabulary, ``1 + log(count)`` in float32 times the IDF, L2-normalized
    (the sum of squares in double, each square in float32, as ``_inplace_csr_row_normalize_l2``
    does), then ``coef @ x + intercept``, the logistic function and, for more than two classes,
    one-vs-rest normalization (``_predict_proba_lr``). The features and scores are bit-identical
    to scikit-learn's batch path; the confidence is too but for one float32 ulp in a few scores
    in 10,000 (the exponential, see ``predict``)."""

    def __init__(self, model: TextCategorizer) -> None:
        self.vocabulary: dict[str, int] = model.vocabulary_
        self.idf = np.asarray(model.idf_)
        self.dtype = np.dtype(np.float32)
        self.min_n, self.max_n = NGRAMS
        self.lowercase = True
        self.coef = np.asarray(model.coef_)
        self.intercept = np.asarray(model.intercept_)
        self.classes = list(model.classes_)

    def ngrams(self, text: str) -> list[str]:
        """``_char_wb_ngrams`` of the preprocessed text, verbatim."""
        if self.lowercase:
            text = text.lower()
        text = _WHITE_SPACES.sub(" ", text)
        out: list[str] = []
        append = out.append
        for word in text.split():
            w = " " + word + " "
            w_len = len(w)
            for n in range(self.min_n, self.max_n + 1):
                offset = 0
                append(w[offset : offset + n])
                while offset + n < w_len:
                    offset += 1
                    append(w[offset : offset + n])
                if offset == 0:
                    break
        return out

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(columns in ascending order, tf-idf values in the vectorizer's dtype)."""
        vocabulary = self.vocabulary
        counts: Counter[int] = Counter()
        for gram in self.ngrams(text):
            column = vocabulary.get(gram)
            if column is not None:
                counts[column] += 1
        if not counts:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=self.dtype)
        columns = np.fromiter(sorted(counts), dtype=np.intp, count=len(counts))
        data = np.fromiter((counts[c] for c in columns.tolist()), dtype=self.dtype,
                           count=len(columns))
        np.log(data, data)
        data += 1.0
        data *= self.idf[columns]
        squares = data * data
        total = 0.0
        for value in squares.tolist():  # sequential, in double: as the Cython loop adds
            total += value
        if total != 0.0:
            data = (data.astype(np.float64) / math.sqrt(total)).astype(self.dtype)
        return columns, data

    def predict(self, text: str) -> tuple[str, float]:
        columns, data = self.features(text)
        dtype = np.result_type(data.dtype, self.coef.dtype)
        if len(columns):
            # csr_matvecs: each class's score summed over the columns in order, in ``dtype``
            products = self.coef[:, columns].astype(dtype, copy=False) * data.astype(dtype)
            scores = np.add.accumulate(products, axis=1)[:, -1] + self.intercept
        else:
            scores = np.zeros(len(self.coef), dtype=dtype) + self.intercept
        with np.errstate(over="ignore"):  # exp(-score) of a very negative score: proba 0
            # the logistic function as scipy's expit computes it, 1 / (1 + e) in the scores'
            # dtype, with e = exp(-score) correctly rounded to that dtype (NumPy's own float32
            # exp differs from it by an ulp in 1 score of 6; C's expf, which scipy calls, in 1
            # of ~3,000: the confidence then differs from scikit-learn's by one float32 ulp)
            e = np.exp(-scores.astype(np.float64)).astype(scores.dtype)
            one = scores.dtype.type(1)
            proba = one / (one + e)
        if len(proba) == 1:
            proba = np.stack([1 - proba, proba])[:, 0]
        else:
            total = proba.sum()
            if total == 0:
                proba[:] = 1
                total = proba.dtype.type(len(proba))
            proba = proba / total
        best = int(proba.argmax())
        return self.classes[best], float(proba[best])


MIN_CLASS_HELD_OUT = 5
"""Held-out texts a category must have been answered for to get a threshold of its own."""


def _per_class(
    predicted: np.ndarray,
    confidence: np.ndarray,
    right: np.ndarray,
    weight: np.ndarray,
    target: float,
) -> dict[str, float]:
    """``_threshold`` per predicted category: one pooled threshold lets the categories the
    model reads well pay for those it reads badly (on names that say nothing, it answers one
    café category for everything). A category never reaching ``target`` gets 1.01: never
    answered; one answered for fewer than ``MIN_CLASS_HELD_OUT`` held-out texts has no
    threshold of its own (too few to judge it apart) and keeps the pooled one."""
    out: dict[str, float] = {}
    for label in np.unique(predicted):
        mask = predicted == label
        if int(mask.sum()) < MIN_CLASS_HELD_OUT:
            continue
        out[str(label)] = _threshold(confidence[mask], right[mask], weight[mask], target)[0]
    return out


def _threshold(
    confidence: np.ndarray, right: np.ndarray, weight: np.ndarray, target: float
) -> tuple[float, dict[str, float]]:
    """The lowest confidence at which the held-out answers at or above it reach ``target``
    precision (rows weighted by their counts); above 1.0 when no confidence does, so the model
    then always abstains. Returns it with what it was measured on."""
    order = np.argsort(-confidence, kind="stable")
    w = weight[order].astype(np.float64)
    hits = np.cumsum(w * right[order])
    seen = np.cumsum(w)
    precision = hits / seen
    ok = np.flatnonzero(precision >= target)
    total = float(seen[-1])
    if ok.size == 0:
        return 1.01, {"held_out": float(len(confidence)), "coverage": 0.0, "precision": 0.0}
    last = int(ok[-1])
    return float(confidence[order][last]), {
        "held_out": float(len(confidence)),
        "coverage": float(seen[last] / total),
        "precision": float(precision[last]),
    }
