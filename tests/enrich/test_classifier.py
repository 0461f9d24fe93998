"""TextCategorizer: fit / predict, self-supervised training set, save / load with checksum."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tactful.enrich.classifier import TextCategorizer, training_set
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
