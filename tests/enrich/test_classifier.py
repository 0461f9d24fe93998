"""TextCategorizer: fit / predict, self-supervised training set, save / load with checksum."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest

from tactful.enrich.classifier import TextCategorizer, calibration_set, training_set
from tactful.errors import ConfigError, ValidationError

TEXTS = [
    "STARBUCKS card out",
    "COSTA COFFEE card out",
    "BLUE BOTTLE COFFEE card out",
    "SHELL card out",
    "BP card out",
    "ESSO card out",
] * 5
LABELS = ["FOOD_AND_DRINK_COFFEE"] * 3 + ["TRANSPORTATION_GAS"] * 3
LABELS = LABELS * 5


def test_fit_predict_on_unseen_but_similar_text() -> None:
    model = TextCategorizer(min_texts=2, seed=3).fit(TEXTS, LABELS)
    labels, confidence = model.predict(
        ["CORNER COFFEE card out", "SHELL EXPRESS card out", "CORNER COFFEE card out"]
    )
    assert labels == ["FOOD_AND_DRINK_COFFEE", "TRANSPORTATION_GAS", "FOOD_AND_DRINK_COFFEE"]
    assert confidence.shape == (3,) and (confidence > 0.5).all()
    assert not hasattr(TextCategorizer(), "model_")


def test_same_seed_same_model() -> None:
    a = TextCategorizer(min_texts=2, seed=5).fit(TEXTS, LABELS).predict(["COFFEE card out"])[1]
    b = TextCategorizer(min_texts=2, seed=5).fit(TEXTS, LABELS).predict(["COFFEE card out"])[1]
    assert a.tolist() == b.tolist()


@pytest.mark.parametrize(
    ("texts", "labels", "message"),
    [
        (["a", "b"], ["X"], "texts (2) and labels (1) differ in length"),
        (["a", "b"], ["X", "X"], "labels: need at least two categories to fit"),
    ],
)
def test_fit_refuses_bad_input(texts: list[str], labels: list[str], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        TextCategorizer().fit(texts, labels)


def test_predict_before_fit_is_refused() -> None:
    with pytest.raises(ValidationError, match="not fitted"):
        TextCategorizer().predict(["x"])


def test_save_load_round_trip_and_checksum_refusal(tmp_path: Path) -> None:
    model = TextCategorizer(min_texts=2, seed=1).fit(TEXTS, LABELS)
    path = tmp_path / "model.joblib"
    check = model.save(path)
    assert check.name == "model.joblib.sha256"
    loaded = TextCategorizer.load(path)
    assert loaded.predict(["STARBUCKS card out"])[0] == ["FOOD_AND_DRINK_COFFEE"]
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(ConfigError, match="checksum mismatch"):
        TextCategorizer.load(path)
    check.unlink()
    with pytest.raises(ConfigError, match="no checksum file"):
        TextCategorizer.load(path)


def test_training_set_never_uses_the_models_own_labels() -> None:
    frame = pl.DataFrame(
        {
            "merchant_key": ["STARBUCKS", "SHELL", "MYSTERY", "ODD", None],
            "description": ["STARBUCKS 1", "SHELL 2", "MYSTERY 3", "ODD 4", "HABENZINSEN"],
            "channel": ["card", "card", "card", "card", "interest"],
            "amount_minor": [-500, -4000, -100, -100, 12],
            "category_detailed": [
                "FOOD_AND_DRINK_COFFEE",
                "TRANSPORTATION_GAS",
                "INCOME_WAGES",
                "UNCATEGORIZED",
                "INCOME_INTEREST_EARNED",
            ],
            "category_source": ["user", "mcc", "model", "uncategorized", "rule"],
        }
    )
    texts, labels = training_set(frame)
    assert texts == ["STARBUCKS card out", "SHELL card out", "HABENZINSEN interest in"]
    assert labels == ["FOOD_AND_DRINK_COFFEE", "TRANSPORTATION_GAS", "INCOME_INTEREST_EARNED"]


def test_the_calibration_texts_lose_the_words_that_labelled_them() -> None:
    frame = pl.DataFrame(
        {
            "merchant_key": ["KLOOF PHARMACY", "NORTH BURGERHOUSE", "NETFLIX", "CITY TAXICABS"],
            "description": ["x", "x", "x", "x"],
            "channel": ["card", "card", "card", "card"],
            "amount_minor": [-500, -900, -1599, -2000],
            "category_detailed": [
                "MEDICAL_PHARMACIES_AND_SUPPLEMENTS",
                "FOOD_AND_DRINK_FAST_FOOD",
                "ENTERTAINMENT_TV_AND_MOVIES",
                "TRANSPORTATION_TAXIS_AND_RIDE_SHARES",
            ],
            "category_source": ["lexicon", "lexicon", "rule", "lexicon"],
            "rule_id": [
                "lexicon:en:PHARMACY",
                "lexicon:en:BURGER+HOUSE",
                "streaming-netflix",
                "mcc-term:TAXICABS (4121)",
            ],
        }
    )
    texts, _ = training_set(frame)
    assert texts[0] == "KLOOF PHARMACY card out"
    # a rule reads its line every time: the model is never asked about it
    assert calibration_set(frame) == ["KLOOF card out", "NORTH card out", None, "CITY card out"]


def test_rows_left_out_of_the_calibration_leave_the_threshold_to_the_rest() -> None:
    texts, masked, labels = _named(800, seed=4)
    # as many easy texts again (a rule's lines), left out: only the bare names are calibrated on
    ruled = [t.replace(" card out", " DIRECT card out") for t in texts]
    unasked = TextCategorizer(seed=1).fit(
        texts + ruled, labels + labels, calibration=masked + [None] * len(ruled)
    )
    assert unasked.calibration_["coverage"] < 0.1
    none_asked = TextCategorizer(seed=1).fit(texts, labels, calibration=[None] * len(texts))
    assert none_asked.calibration_["coverage"] == 1.0  # none left: the texts themselves


def _named(n: int, seed: int) -> tuple[list[str], list[str], list[str]]:
    """Merchants with invented names, each labelled by the kind word after its name."""
    rng = random.Random(seed)
    kinds = {"PHARMACY": "MEDICAL_PHARMACIES_AND_SUPPLEMENTS", "TAXI": "TRANSPORTATION_TAXIS_AND_"
             "RIDE_SHARES", "BAKERY": "FOOD_AND_DRINK_COFFEE", "HOTEL": "TRAVEL_LODGING"}
    letters = "BCDFGKLMNPRSTVZ"
    vowels = "AEIOU"
    texts, masked, labels = [], [], []
    for i in range(n):
        word = list(kinds)[i % len(kinds)]
        name = "".join(rng.choice(letters) + rng.choice(vowels) for _ in range(4))
        texts.append(f"{name} {word} card out")
        masked.append(f"{name} card out")
        labels.append(kinds[word])
    return texts, masked, labels


def test_calibrated_without_its_labelling_words_the_model_abstains_on_bare_names() -> None:
    texts, masked, labels = _named(800, seed=4)
    plain = TextCategorizer(seed=1).fit(texts, labels)
    strict = TextCategorizer(seed=1).fit(texts, labels, calibration=masked)
    # With the kind word every held-out merchant is answered right; without it, almost none
    # is answered confidently enough to keep.
    assert plain.calibration_["coverage"] == 1.0
    assert strict.calibration_["coverage"] < 0.1
    _, confidence = strict.predict(["ZAKOLUPI card out", "MEDORIVA card out"])
    assert (confidence < strict.abstain_below).all()


def test_calibration_texts_must_match_the_training_texts() -> None:
    texts, masked, labels = _named(300, seed=5)
    with pytest.raises(ValidationError) as caught:
        TextCategorizer().fit(texts, labels, calibration=masked[:-1])
    assert str(caught.value) == "calibration (299) and texts (300) differ in length"
