"""The text model's NumPy path (``predict`` and ``predict_one``: ``_OneRow``) against
scikit-learn's batch path it replaces: the same features bit for bit, the same label, the same
confidence to one float32 ulp (C's expf, which scikit-learn's logistic calls, is not always
correctly rounded; NumPy's exp in double, rounded, is), on every text of a simulated bank and
on real descriptors (tests/data exports, the public MCC list, the Czech bank's operations),
stored and reloaded too; and a model read back from the store answers without importing
scikit-learn."""

from __future__ import annotations

import csv
import subprocess
import sys
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


def _reference(model: TextCategorizer, texts: list[str]) -> tuple[list[str], np.ndarray]:
    """scikit-learn's own answer: the fitted vectorizer and classifier, as a batch."""
    proba = model.model_.predict_proba(model.vectorizer_.transform(texts))
    best = proba.argmax(axis=1)
    return [str(model.model_.classes_[i]) for i in best], proba[np.arange(len(best)), best]


def _assert_same(model: TextCategorizer, texts: list[str],
                 reference: TextCategorizer | None = None) -> None:
    labels, confidence = _reference(reference or model, texts)
    one = [model.predict_one(t) for t in texts]
    for got_labels, got in [model.predict(texts), ([c[0] for c in one], [c[1] for c in one])]:
        assert list(got_labels) == labels
        assert np.abs(np.asarray(got) - confidence).max() <= np.finfo(np.float32).eps


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
    _assert_same(loaded, texts, reference=model)
    assert loaded.to_bytes() == model.to_bytes()
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


def test_a_stored_model_answers_without_scikit_learn(
    model: TextCategorizer, tmp_path: Path
) -> None:
    """Reading the model back and asking it costs no scikit-learn import (1.5-2.5 s a
    process): a fresh interpreter loads it, predicts, and has not imported it."""
    model.save(tmp_path / "model.npz")
    script = (
        "import sys\n"
        "from tactful.enrich.classifier import TextCategorizer\n"
        f"m = TextCategorizer.load({str(tmp_path / 'model.npz')!r})\n"
        "labels, _ = m.predict(['CORNER COFFEE card out', 'SHELL card out'])\n"
        "assert m.predict_one('SHELL card out')[0] == labels[1]\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in ('sklearn', 'scipy')))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_arrays_that_do_not_fit_together_are_refused(model: TextCategorizer) -> None:
    import io

    from tactful.errors import ConfigError

    with np.load(io.BytesIO(model.to_bytes()), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["idf"] = arrays["idf"][:-1]
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    with pytest.raises(ConfigError, match="do not fit together"):
        TextCategorizer.from_bytes(buffer.getvalue())
