"""The text model's one-row path (``predict_one``, plain NumPy) against its batch path
(scikit-learn): the same features bit for bit, the same label, the same confidence to 1e-9, on
every text of a simulated bank and on real descriptors (tests/data exports, the public MCC list,
the Czech bank's operations), stored and reloaded too."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tactful.enrich.classifier import TextCategorizer, _OneRow, text_expr, training_set
from tactful.enrich.pipeline import EnrichContext, categorized
from tactful.evaluation.exports import transactions_frame
from tactful.simulate import SimulationConfig, simulate

DATA = Path(__file__).parents[1] / "data"
SHARED = Path(__file__).parents[3] / "shared" / "data"
ODD = [
    "", " ", "a", "ab", "x\ty  z", "  LEADING AND  TRAILING  ", "AAAA AAAA AAAA card out",
    "CAFÉ MÜNCHEN card out", "STRASSE ß card out", "İSTANBUL ÇARŞI card out", "ΣΟΦΙΑ card in",
    "東京 card out", "TESCO\u00a0STORES card out", "?!* 123 -- out", "Q" * 60 + " card out",
]


def _real_descriptors() -> list[str]:
    """Descriptions as banks print them: the tests' exports, and the shared public data sets
    when present."""
    out: list[str] = []
    for name, column, sep, encoding in [
        ("transactions_checking_us.csv", "Description", ",", "utf-8"),
        ("transactions_legacy_uk.csv", "Description", ",", "latin-1"),
        ("transactions_sparkasse_de.csv", "Verwendungszweck", ";", "utf-8-sig"),
        ("transactions_sparkasse_de.csv", "Auftraggeber/Empfänger", ";", "utf-8-sig"),
    ]:
        with open(DATA / name, encoding=encoding, newline="") as fh:
            out += [row[column] for row in csv.DictReader(fh, delimiter=sep) if row[column]]
    mcc = SHARED / "mcc_codes" / "mcc_codes.csv"
    if mcc.exists():
        with open(mcc, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                out += [row["edited_description"], row["irs_description"]]
    berka = SHARED / "berka_pkdd99" / "feup_ecac_variant" / "trans_test.csv"
    if berka.exists():
        frame = pl.read_csv(berka, separator=";", infer_schema_length=0)
        out += frame.select(pl.concat_str(["operation", "k_symbol"], separator=" ",
                                          ignore_nulls=True)).unique().to_series().to_list()
    texts = []
    for d in out:
        head = d.upper()[:40]
        texts += [f"{head} card out", f"{head} transfer in", d]
    return texts


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    out = tmp_path_factory.mktemp("one-row-bank")
    simulate(SimulationConfig(customers=40, months=3, seed=5, start=date(2025, 1, 1)), out,
             "parquet")
    return categorized(transactions_frame(out), EnrichContext())


@pytest.fixture(scope="module")
def model(bank: pl.DataFrame) -> TextCategorizer:
    texts, labels = training_set(bank)
    return TextCategorizer(min_texts=50, seed=2).fit(texts, labels)


def _probes(bank: pl.DataFrame) -> list[str]:
    texts = bank.select(text_expr()).to_series().unique(maintain_order=True).to_list()
    return texts + _real_descriptors() + ODD


def _assert_same(model: TextCategorizer, texts: list[str]) -> None:
    labels, confidence = model.predict(texts)
    one = [model.predict_one(t) for t in texts]
    assert [label for label, _ in one] == labels
    got = np.array([c for _, c in one])
    assert np.abs(got - confidence).max() <= 1e-9


def test_the_one_row_features_are_the_vectorizers_bit_for_bit(
    model: TextCategorizer, bank: pl.DataFrame
) -> None:
    texts = _probes(bank)
    assert len(texts) > 2000
    batch = model.vectorizer_.transform(texts).tocsr()
    one = _OneRow(model)
    for i, text in enumerate(texts):
        columns, data = one.features(text)
        row = batch[i]
        assert columns.tolist() == row.indices.tolist(), text
        assert data.dtype == row.data.dtype and data.tobytes() == row.data.tobytes(), text


def test_one_row_gives_the_batch_label_and_confidence(
    model: TextCategorizer, bank: pl.DataFrame
) -> None:
    assert len(model.classes_) > 10
    _assert_same(model, _probes(bank))


def test_one_row_after_store_and_reload(model: TextCategorizer, bank: pl.DataFrame) -> None:
    loaded = TextCategorizer.from_bytes(model.to_bytes())
    texts = _probes(bank)
    _assert_same(loaded, texts)
    assert [loaded.predict_one(t) for t in texts[:200]] == [
        model.predict_one(t) for t in texts[:200]]


def test_one_row_with_two_classes() -> None:
    texts = ["STARBUCKS card out", "COSTA COFFEE card out", "BLUE BOTTLE COFFEE card out",
             "SHELL card out", "BP card out", "ESSO card out"] * 5
    labels = (["FOOD_AND_DRINK_COFFEE"] * 3 + ["TRANSPORTATION_GAS"] * 3) * 5
    model = TextCategorizer(min_texts=2, seed=3).fit(texts, labels)
    assert len(model.classes_) == 2
    _assert_same(model, [*texts, *_real_descriptors(), *ODD])


def test_refit_forgets_the_previous_one_row_arrays(bank: pl.DataFrame) -> None:
    texts, labels = training_set(bank)
    model = TextCategorizer(min_texts=50, seed=2).fit(texts, labels)
    before = model.predict_one("CORNER COFFEE card out")
    model.min_texts = 2
    model.fit(["SHELL card out", "BP card out", "TESCO card out", "ALDI card out"] * 3,
              ["TRANSPORTATION_GAS"] * 2 + ["FOOD_AND_DRINK_GROCERIES"] * 2
              + ["TRANSPORTATION_GAS"] * 2 + ["FOOD_AND_DRINK_GROCERIES"] * 2
              + ["TRANSPORTATION_GAS"] * 2 + ["FOOD_AND_DRINK_GROCERIES"] * 2)
    after = model.predict_one("CORNER COFFEE card out")
    assert after[0] in {"TRANSPORTATION_GAS", "FOOD_AND_DRINK_GROCERIES"} and after != before
    _assert_same(model, ["CORNER COFFEE card out", "SHELL card out"])


def test_one_row_before_fit_is_refused() -> None:
    from tactful.errors import ValidationError

    with pytest.raises(ValidationError, match="not fitted"):
        TextCategorizer().predict_one("x")
