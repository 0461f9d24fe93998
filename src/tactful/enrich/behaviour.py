"""Categories of merchants whose name says nothing, read from how people pay them.

A card merchant's descriptor is often nothing but a brand ("BROABROANAI #0080 LOS ANGELES CA"):
no rule, directory entry, lexicon term or character n-gram can say what it sells. How the
bank's customers pay it still does: a coffee bar takes small amounts several times a week in
the morning, a grocer larger sums once or twice a week, a transit operator the same few fares
at rush hour, an online shop prints a service phone number or a payment reference. So the
merchants the bank's own rules, directory and lexicon did label teach what each category's
payments look like, and merchants that match one of those patterns closely enough get its
category.

``categorize_by_behaviour`` is a pure function over a categorized frame (one bank, or one
shard of it):

1. ``merchant_profiles``: per merchant key, over its payments out: amounts (median, spread,
   round, repeated), hours and weekdays, how often each customer comes back, and the
   descriptor's shape (service phone number, payment reference, store number, terminal id);
2. the training merchants are those whose rows a user, a rule, the directory, an MCC or the
   lexicon labelled (never the text model), each under its majority category, and only when
   that category holds ``PURITY`` of its rows;
3. the candidates are merchants with at least ``MIN_ROWS`` payments of which none was
   categorized;
4. the answer is a primary category first: the forest's probabilities of the detailed
   categories under one primary are summed, the likeliest primary is the answer and that sum
   its confidence, and the detailed category is the likeliest under it. Behaviour tells a
   food place from a fuel station or a shop far better than a coffee bar from a fast-food
   counter: scored per detailed category, a food place whose vote splits between three
   food categories looks doubtful when its primary is not (on an unseen-merchants bank of
   1,000 customers, seed 202, per detailed category: 122 merchants answered at 0.57
   primary precision; per primary: 164 at 0.92);
5. the abstention is calibrated per predicted primary category: out-of-fold answers on
   held-out merchants (``FOLDS`` folds over merchants, never rows, so no merchant is in both
   halves) give, for every primary, the lowest confidence at which its answers reach
   ``target_precision``; a category that never does is never answered. One pooled threshold
   would let the categories the model reads well pay for those it reads badly.

The model never reads the truth of a simulated bank: its labels are the engine's own. It is
fitted on the frame it labels (a bank's payment patterns are its customers' own, and change),
so nothing is stored; a merchant with fewer than ``MIN_ROWS`` payments in the frame, or a
single new payment on the real-time path, is left to the other sources.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np
import polars as pl

from tactful.enrich.categorize import primary_expr
from tactful.enrich.taxonomy import DETAILED, UNCATEGORIZED, primary_of
from tactful.errors import ValidationError

if TYPE_CHECKING:
    from sklearn.ensemble import RandomForestClassifier

__all__ = [
    "ANSWERS",
    "BEHAVIOUR_RULE_ID",
    "FEATURES",
    "BehaviourFit",
    "apply_behaviour",
    "behaviour_row",
    "categorize_by_behaviour",
    "fit_behaviour",
    "merchant_profiles",
    "no_answers",
]

BEHAVIOUR_RULE_ID: Final = "behaviour"
"""The ``rule_id`` of a row this module categorized (its ``category_source`` is ``model``)."""
LABEL_SOURCES: Final = ("user", "rule", "mcc", "lexicon")
CHANNELS: Final = ("card", "online")
MIN_ROWS: Final = 5
"""Payments a merchant needs in the frame before its behaviour says anything."""
PURITY: Final = 0.9
"""Share of a training merchant's labelled rows its majority category must hold."""
FOLDS: Final = 5
MIN_TRAINING_MERCHANTS: Final = 40
NEAR_QUANTILE: Final = 0.75
"""How far from its category's labelled merchants a candidate may lie (``_near_enough``)."""
DOUBT: Final = 2.0
"""Wrong answers assumed beyond those seen when a category's held-out precision is counted."""

FEATURES: Final = (
    "log_median", "log_q10", "log_q90", "log_sd", "cv_in_customer", "round_share",
    "distinct_amounts", "hour_mean", "hour_sd", "morning", "midday", "evening", "night",
    "weekend", "per_customer", "gap_days", "customers", "phone", "reference", "store_number",
    "terminal",
)
"""What a merchant's profile holds (the model's columns, in order)."""

_PHONE: Final = r"\b\d{3}[- ]\d{3}[- ]\d{4}\b"
_REFERENCE: Final = r"\*[A-Z0-9]{6,}"
_STORE: Final = r"#\s?\d{3,}|\b\d{5}\b"
_TERMINAL: Final = r"\bT\d{4}\b"


def _card_payments() -> pl.Expr:
    """Payments out at a merchant (card or online): the rows whose merchants behave like
    shops. Direct debits, transfers and fees have their own rules and patterns."""
    return (
        (pl.col("amount_minor") < 0)
        & pl.col("merchant_key").is_not_null()
        & pl.col("channel").is_in(CHANNELS)
    )


def merchant_profiles(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per ``merchant_key`` of the payments out of ``frame``: ``merchant_key``, ``n``
    and the ``FEATURES``. Hours are the local ones of ``booked_at`` (an export with dates only
    gives every row the same hour, which then says nothing and costs nothing)."""
    need = {"merchant_key", "amount_minor", "customer_id", "description", "booked_at", "channel"}
    missing = need - set(frame.columns)
    if missing:
        raise ValidationError(f"merchant_profiles needs column(s): {', '.join(sorted(missing))}")
    rows = frame.filter(_card_payments()).with_columns(
        pl.col("amount_minor").abs().cast(pl.Float64).log().alias("__la"),
        pl.col("booked_at").dt.hour().alias("__hour"),
        (pl.col("booked_at").dt.weekday() >= 6).alias("__weekend"),
        pl.col("booked_at").dt.date().alias("__day"),
        pl.col("description").fill_null("").str.to_uppercase().alias("__d"),
    )
    per_customer = (
        rows.group_by("merchant_key", "customer_id")
        .agg(
            pl.len().alias("__visits"),
            (pl.col("__la").std().fill_null(0.0)).alias("__cv"),
            (pl.col("__day").max() - pl.col("__day").min()).dt.total_days().alias("__span"),
        )
        .with_columns(
            (pl.col("__span") / pl.max_horizontal(pl.col("__visits") - 1, pl.lit(1))).alias(
                "__gap"
            )
        )
        .group_by("merchant_key")
        .agg(
            pl.col("__visits").mean().alias("per_customer"),
            pl.col("__cv").mean().alias("cv_in_customer"),
            pl.col("__gap").filter(pl.col("__visits") > 1).median().alias("gap_days"),
            pl.len().cast(pl.Float64).log1p().alias("customers"),
        )
    )
    hour = pl.col("__hour")
    profiles = rows.group_by("merchant_key").agg(
        pl.len().alias("n"),
        pl.col("__la").median().alias("log_median"),
        pl.col("__la").quantile(0.1).alias("log_q10"),
        pl.col("__la").quantile(0.9).alias("log_q90"),
        pl.col("__la").std().fill_null(0.0).alias("log_sd"),
        (pl.col("amount_minor") % 100 == 0).mean().alias("round_share"),
        (pl.col("amount_minor").n_unique() / pl.len()).alias("distinct_amounts"),
        hour.mean().alias("hour_mean"),
        hour.std().fill_null(0.0).alias("hour_sd"),
        (hour < 10).mean().alias("morning"),
        ((hour >= 11) & (hour < 15)).mean().alias("midday"),
        (hour >= 18).mean().alias("evening"),
        (hour < 5).mean().alias("night"),
        pl.col("__weekend").mean().alias("weekend"),
        pl.col("__d").str.contains(_PHONE).mean().alias("phone"),
        pl.col("__d").str.contains(_REFERENCE).mean().alias("reference"),
        pl.col("__d").str.contains(_STORE).mean().alias("store_number"),
        pl.col("__d").str.contains(_TERMINAL).mean().alias("terminal"),
    )
    out = profiles.join(per_customer, on="merchant_key", how="left")
    return out.select(
        "merchant_key", "n", *[pl.col(f).cast(pl.Float64).fill_null(-1.0) for f in FEATURES]
    ).sort("merchant_key")


class BehaviourFit:
    """What one ``categorize_by_behaviour`` call learned: the thresholds per primary category
    and the out-of-fold figures they came from (for the report)."""

    def __init__(
        self,
        thresholds: dict[str, float],
        training_merchants: int,
        candidates: int,
        answered: int,
        problem: str | None = None,
    ) -> None:
        self.thresholds = thresholds
        self.training_merchants = training_merchants
        self.candidates = candidates
        self.answered = answered
        self.problem = problem

    def __repr__(self) -> str:
        return (
            f"BehaviourFit(training_merchants={self.training_merchants}, "
            f"candidates={self.candidates}, answered={self.answered}, "
            f"categories answered={len(self.thresholds)}, problem={self.problem!r})"
        )


def _classifier(seed: int) -> RandomForestClassifier:
    # scikit-learn is imported by whoever fits, as in classifier.py
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(
        n_estimators=200, min_samples_leaf=2, random_state=seed, n_jobs=1
    )


def _labels(frame: pl.DataFrame) -> pl.DataFrame:
    """``merchant_key``, ``label`` of the merchants the engine's own sources labelled."""
    labelled = frame.filter(
        _card_payments()
        & pl.col("category_source").is_in(LABEL_SOURCES)
        & (pl.col("category_detailed") != UNCATEGORIZED)
    )
    counts = labelled.group_by("merchant_key", "category_detailed").agg(pl.len().alias("k"))
    return (
        counts.with_columns(pl.col("k").sum().over("merchant_key").alias("total"))
        .sort("k", "category_detailed", descending=[True, False])
        .group_by("merchant_key", maintain_order=True)
        .first()
        .filter(pl.col("k") >= PURITY * pl.col("total"))
        .select("merchant_key", pl.col("category_detailed").alias("label"))
    )


def _per_class_thresholds(
    predicted: np.ndarray, confidence: np.ndarray, right: np.ndarray, weight: np.ndarray,
    target: float,
) -> dict[str, float]:
    """For each predicted category, the lowest confidence at which its held-out merchants at
    or above it reach ``target`` precision counted pessimistically (``DOUBT`` wrong merchants
    added: three right answers out of three prove little); categories that never do are left
    out, and are never answered. Merchants weigh by the log of their payments."""
    out: dict[str, float] = {}
    doubt = DOUBT * float(np.median(weight)) if len(weight) else 0.0
    for label in np.unique(predicted):
        mask = predicted == label
        order = np.argsort(-confidence[mask], kind="stable")
        w = weight[mask][order]
        precision = np.cumsum(w * right[mask][order]) / (np.cumsum(w) + doubt)
        ok = np.flatnonzero(precision >= target)
        if ok.size:
            out[str(label)] = float(confidence[mask][order][int(ok[-1])])
    return out


ANSWERS: Final = {
    "merchant_key": pl.String(), "category_detailed": pl.String(), "confidence": pl.Float64(),
}
"""What the behaviour step learned, per merchant: the category its payments answer to and the
calibrated confidence (``fit_behaviour``; stored beside the text model it was fitted with)."""


def no_answers() -> pl.DataFrame:
    return pl.DataFrame(schema=ANSWERS)


def categorize_by_behaviour(
    frame: pl.DataFrame, *, target_precision: float = 0.9, seed: int = 0
) -> tuple[pl.DataFrame, BehaviourFit]:
    """``frame`` (``categorize``'s output) with its uncategorized payments to merchants that
    behave like a labelled category categorized (``category_source`` ``model``, ``rule_id``
    ``behaviour``, the calibrated confidence), and what was learned."""
    answers, fit = fit_behaviour(frame, target_precision=target_precision, seed=seed)
    return apply_behaviour(frame, answers), fit


def fit_behaviour(
    frame: pl.DataFrame, *, target_precision: float = 0.9, seed: int = 0
) -> tuple[pl.DataFrame, BehaviourFit]:
    """The merchants of ``frame`` (``categorize``'s output) that no word read and that behave
    like a labelled category, with that category and its calibrated confidence (``ANSWERS``),
    and what was learned. ``tactful enrich`` fits it on the sample it trains the text model
    on and applies it to every shard (``apply_behaviour``): a merchant's behaviour is the
    bank's customers', not one shard's."""
    if not 0.0 < target_precision <= 1.0:
        raise ValidationError(f"target_precision must be within (0, 1], got {target_precision}")
    profiles = merchant_profiles(frame).filter(pl.col("n") >= MIN_ROWS)
    labels = _labels(frame)
    train = profiles.join(labels, on="merchant_key", how="inner").sort("merchant_key")
    open_keys = (
        frame.filter(pl.col("merchant_key").is_not_null())
        .group_by("merchant_key")
        .agg((pl.col("category_source") == "uncategorized").all().alias("open"))
        .filter(pl.col("open"))
        .select("merchant_key")
    )
    candidates = profiles.join(open_keys, on="merchant_key", how="inner").sort("merchant_key")
    if train.height < MIN_TRAINING_MERCHANTS or train["label"].n_unique() < 2:
        problem = f"only {train.height} labelled merchants with {MIN_ROWS}+ payments"
        return no_answers(), BehaviourFit({}, train.height, candidates.height, 0, problem)
    if candidates.height == 0:
        return no_answers(), BehaviourFit({}, train.height, 0, 0)

    x = train.select(FEATURES).to_numpy()
    y = train["label"].to_numpy().astype(str)
    weight = np.log1p(train["n"].to_numpy().astype(np.float64))
    fold = train["merchant_key"].hash(seed=seed).to_numpy() % FOLDS
    predicted = np.empty(len(y), dtype=object)
    confidence = np.zeros(len(y))
    for k in range(FOLDS):
        held = fold == k
        if not held.any() or len(np.unique(y[~held])) < 2:
            predicted[held], confidence[held] = "", 0.0
            continue
        model = _classifier(seed).fit(x[~held], y[~held], sample_weight=weight[~held])
        predicted[held], confidence[held] = _answers(model, x[held])
    predicted = predicted.astype(str)
    # judged on the primary category, as it is answered
    right = _primary(predicted) == _primary(y)
    thresholds = _per_class_thresholds(
        _primary(predicted), confidence, right, weight, target_precision
    )
    model = _classifier(seed).fit(x, y, sample_weight=weight)
    answer, conf = _answers(model, candidates.select(FEATURES).to_numpy())
    near = _near_enough(x, y, candidates.select(FEATURES).to_numpy(), answer)
    keep = near & np.asarray(
        [c >= thresholds.get(a, 2.0) for a, c in zip(_primary(answer), conf, strict=True)],
        dtype=np.bool_,
    )
    answers = pl.DataFrame(
        {
            "merchant_key": candidates["merchant_key"].filter(pl.Series(keep)),
            "category_detailed": answer[keep],
            "confidence": conf[keep],
        },
        schema=ANSWERS,
    )
    return answers, BehaviourFit(thresholds, train.height, candidates.height, int(keep.sum()))


def _answers(model: RandomForestClassifier, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``x``: the detailed category answered (the likeliest under the likeliest
    primary) and the primary's probability (the sum over its detailed categories), which is
    what the thresholds are calibrated on."""
    proba = model.predict_proba(x)
    classes = np.asarray(model.classes_).astype(str)
    primaries = _primary(classes)
    names = np.unique(primaries)
    # rounded: sums of the same probabilities in another order must not fall either side of
    # a threshold calibrated on them
    by_primary = np.stack([proba[:, primaries == p].sum(axis=1) for p in names], axis=1)
    by_primary = np.round(by_primary, 9)
    best = by_primary.argmax(axis=1)
    within = np.where(primaries[None, :] == names[best][:, None], proba, -1.0)
    return classes[within.argmax(axis=1)], by_primary[np.arange(len(best)), best]


def _primary(detailed: np.ndarray) -> np.ndarray:
    return np.asarray([primary_of(d) if d in DETAILED else "" for d in detailed.tolist()])


def _near_enough(
    x: np.ndarray, y: np.ndarray, candidates: np.ndarray, answer: np.ndarray
) -> np.ndarray:
    """Whether each candidate lies as close to a training merchant of its answer as that
    category's own merchants lie to each other (``NEAR_QUANTILE`` of their nearest-neighbour
    distances, features scaled by their spread). A forest answers every profile with some
    category, even one unlike any it was shown (an online shop, where only grocers were
    labelled); this gate abstains there."""
    centre = np.median(x, axis=0)
    spread = np.quantile(x, 0.9, axis=0) - np.quantile(x, 0.1, axis=0)
    spread[spread <= 0] = 1.0
    xs, cs = (x - centre) / spread, (candidates - centre) / spread
    keep = np.zeros(len(cs), dtype=np.bool_)
    for label in np.unique(answer):
        members = xs[y == label]
        asked = answer == label
        if len(members) < 2:
            continue
        inner = np.sqrt(((members[:, None, :] - members[None, :, :]) ** 2).sum(-1))
        np.fill_diagonal(inner, np.inf)
        limit = float(np.quantile(inner.min(axis=1), NEAR_QUANTILE))
        outer = np.sqrt(((cs[asked][:, None, :] - members[None, :, :]) ** 2).sum(-1))
        keep[asked] = outer.min(axis=1) <= limit
    return keep


def apply_behaviour(frame: pl.DataFrame, answers: pl.DataFrame) -> pl.DataFrame:
    """Write ``answers`` (``ANSWERS``) onto the uncategorized payments out of their merchants;
    ``behaviour_row`` is the same for one row."""
    if answers.height == 0:
        return frame
    columns = frame.columns
    renamed = answers.select(
        "merchant_key", pl.col("category_detailed").alias("__b_cat"),
        pl.col("confidence").alias("__b_p"),
    )
    joined = frame.join(renamed, on="merchant_key", how="left", maintain_order="left")
    hit = (
        pl.col("__b_cat").is_not_null()
        & (pl.col("category_source") == "uncategorized")
        & (pl.col("amount_minor") < 0)
    )
    return joined.with_columns(
        pl.when(hit).then(pl.col("__b_cat")).otherwise(pl.col("category_detailed"))
        .alias("category_detailed"),
        pl.when(hit).then(primary_expr(pl.col("__b_cat"))).otherwise(pl.col("category"))
        .alias("category"),
        pl.when(hit).then(pl.lit("model")).otherwise(pl.col("category_source"))
        .alias("category_source"),
        pl.when(hit).then(pl.col("__b_p")).otherwise(pl.col("category_confidence"))
        .alias("category_confidence"),
        pl.when(hit).then(pl.lit(BEHAVIOUR_RULE_ID)).otherwise(pl.col("rule_id"))
        .alias("rule_id"),
    ).select(columns)


def behaviour_row(
    row: dict[str, object], index: dict[str, tuple[str, float]]
) -> dict[str, object] | None:
    """``apply_behaviour`` on one categorized row (``index``: merchant key -> (category,
    confidence)): the columns it changes, or None where it leaves the row alone."""
    key = row.get("merchant_key")
    amount = row.get("amount_minor")
    if (
        row.get("category_source") != "uncategorized"
        or not isinstance(key, str)
        or not isinstance(amount, int)
        or amount >= 0
    ):
        return None
    hit = index.get(key)
    if hit is None:
        return None
    detailed, confidence = hit
    return {
        "category_detailed": detailed,
        "category": primary_of(detailed),
        "category_source": "model",
        "category_confidence": confidence,
        "rule_id": BEHAVIOUR_RULE_ID,
    }
