"""The text model in the store is data, never code: a swapped row cannot run anything.

Before, the ``text_models`` row held a joblib pickle and its SHA-256; whoever could write the
table replaced both, and the next ``tactful enrich`` unpickled their payload.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select, update

from tactful.enrich import repository as repo
from tactful.enrich.classifier import TextCategorizer
from tactful.errors import ArtifactRefused
from tactful.store import schema
from tactful.store.store import Store

TEXTS = [
    "STARBUCKS card out",
    "COSTA COFFEE card out",
    "SHELL card out",
    "BP card out",
    "TESCO card out",
    "ALDI card out",
] * 5
LABELS = ["FOOD_AND_DRINK_COFFEE", "TRANSPORTATION_GAS", "FOOD_AND_DRINK_GROCERIES"]
LABELS = [label for label in LABELS for _ in range(2)] * 5
PROBE = ["CORNER COFFEE card out", "SHELL EXPRESS card out", "LIDL card out", "??? atm in"]


class _WritesAFile:
    """A pickle payload: unpickling it creates ``target``."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (exec, (f"import pathlib; pathlib.Path({str(self.target)!r}).write_text('pwned')",))


def _stored_blob(store: Store) -> bytes:
    table = schema.text_models
    return bytes(store.rows(select(table.c.artifact).order_by(table.c.id.desc()).limit(1))[0][0])


def _swap(store: Store, model_id: int, blob: bytes) -> None:
    table = schema.text_models
    with store.transaction() as conn:
        conn.execute(
            update(table)
            .where(table.c.id == model_id)
            .values(artifact=blob, sha256=hashlib.sha256(blob).hexdigest())
        )


def test_a_swapped_pickle_and_checksum_are_refused_without_running(
    store: Store, tmp_path: Path
) -> None:
    model = TextCategorizer(min_texts=2, seed=2).fit(TEXTS, LABELS)
    model_id = repo.save_text_model(store, model, rows=30)
    target = tmp_path / "pwned.txt"
    _swap(store, model_id, pickle.dumps(_WritesAFile(target)))
    with pytest.raises(ArtifactRefused, match=rf"text model {model_id} is a pickle"):
        repo.latest_text_model(store)
    assert not target.exists()


def test_a_pickle_hidden_inside_the_archive_is_not_unpickled(store: Store, tmp_path: Path) -> None:
    """An ``.npz`` whose arrays are object arrays (pickles) fails on ``allow_pickle=False``."""
    model = TextCategorizer(min_texts=2, seed=2).fit(TEXTS, LABELS)
    model_id = repo.save_text_model(store, model, rows=30)
    target = tmp_path / "pwned.txt"
    legit = zipfile.ZipFile(io.BytesIO(_stored_blob(store)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for name in legit.namelist():
            if name != "terms.npy":
                out.writestr(name, legit.read(name))
        evil = io.BytesIO()
        np.save(evil, np.array([_WritesAFile(target)], dtype=object), allow_pickle=True)
        out.writestr("terms.npy", evil.getvalue())
    _swap(store, model_id, buffer.getvalue())
    with pytest.raises(ArtifactRefused, match=rf"text model {model_id} cannot be read"):
        repo.latest_text_model(store)
    assert not target.exists()


def test_a_trained_model_scores_identically_after_the_store_round_trip(store: Store) -> None:
    model = TextCategorizer(min_texts=2, seed=4).fit(TEXTS, LABELS)
    model_id = repo.save_text_model(store, model, rows=30)
    loaded = repo.latest_text_model(store)
    assert loaded is not None and loaded[0] == model_id
    before, after = model.predict(PROBE), loaded[1].predict(PROBE)
    assert before[0] == after[0]
    assert before[1].tolist() == after[1].tolist()
    assert loaded[1].classes_ == model.classes_


def test_the_stored_row_holds_no_pickle(store: Store) -> None:
    repo.save_text_model(store, TextCategorizer(min_texts=2, seed=2).fit(TEXTS, LABELS), rows=30)
    blob = _stored_blob(store)
    with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
        assert sorted(archive.files) == ["classes", "coef", "header", "idf", "intercept", "terms"]
        assert all(archive[name].dtype != object for name in archive.files)
    assert os.fsencode("joblib") not in blob


def test_the_payload_used_above_really_runs_when_unpickled(tmp_path: Path) -> None:
    """Guards the tests above: their 'file must not exist' would be vacuous with a dud."""
    target = tmp_path / "pwned.txt"
    pickle.loads(pickle.dumps(_WritesAFile(target)))  # noqa: S301 -- the point of the test
    assert target.read_text() == "pwned"
