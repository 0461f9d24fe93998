"""Registered model artifacts are data; the one pickle left is signed with a key outside the store.

Before, ``<name>-v<N>.pkl`` was a pickle whose SHA-256 sat in the ``models`` table: whoever could
write the table and the model directory swapped both, and the next ``tactful score`` ran their
code. Every family here must round-trip to identical scores and reasons.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import stat
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl
import pytest
from sqlalchemy import update

from tactful.errors import ArtifactRefused, ConfigError
from tactful.models.anomaly import AnomalyModel
from tactful.models.artifacts import Artifact
from tactful.models.base import F64, Classifier, Model, families
from tactful.models.gbm import GbmModel
from tactful.models.logistic import LogisticModel
from tactful.models.registry import ModelRegistry, ModelVersion
from tactful.models.tabular import TableEncoder, TableSpec
from tactful.store import schema
from tactful.store.store import Store

NAMES = ["a", "b", "c"]


def _xy(n: int = 800, seed: int = 0) -> tuple[F64, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    x[rng.random(n) < 0.05, 2] = np.nan  # missing values take the training median
    y = (x[:, 0] - 0.5 * x[:, 1] + rng.normal(size=n) > 0).astype(np.int8)
    return x, y


class _WritesAFile:
    """A pickle payload: unpickling it creates ``target``."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (exec, (f"import pathlib; pathlib.Path({str(self.target)!r}).write_text('pwned')",))


def _register(reg: ModelRegistry, artifact: Artifact, name: str = "churn") -> ModelVersion:
    return reg.register(
        name,
        artifact,
        target="closes within 90 days",
        metrics={"roc_auc": 0.8},
        fairness=None,
        data_window=(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 12, 31, tzinfo=UTC)),
        validation="out of time",
        model_card="# card",
        created_by="test",
    )


def _swap(store: Store, version: ModelVersion, blob: bytes) -> ModelVersion:
    """What an attacker with write access to the table and the directory does."""
    version.artifact_path.write_bytes(blob)
    with store.transaction() as conn:
        conn.execute(
            update(schema.models)
            .where(schema.models.c.id == version.id)
            .values(artifact_sha256=hashlib.sha256(blob).hexdigest())
        )
    return ModelRegistry(store).get(version.name, version.version)


def _classifier(kind: str) -> Classifier:
    x, y = _xy()
    model: Classifier = {
        "logistic": lambda: LogisticModel(),
        "logistic-isotonic": lambda: LogisticModel(calibration="isotonic"),
        "logistic-uncalibrated": lambda: LogisticModel(calibration="none"),
        "gbm": lambda: GbmModel(rounds=60),
        "gbm-early-stopped": lambda: GbmModel(rounds=400, refit=False, learning_rate=0.3),
    }[kind]()
    return model.fit(x, y, NAMES)


@pytest.mark.parametrize(
    "kind",
    ["logistic", "logistic-isotonic", "logistic-uncalibrated", "gbm", "gbm-early-stopped"],
)
def test_a_classifier_scores_and_explains_identically_after_the_round_trip(
    store: Store, tmp_path: Path, kind: str
) -> None:
    model = _classifier(kind)
    x, _ = _xy(200, seed=1)
    reg = ModelRegistry(store, tmp_path / "models")
    version = _register(reg, Artifact(model, x[:50], model.predict(x[:50])))
    loaded = reg.load(version)
    assert type(loaded.model) is type(model)
    assert np.array_equal(loaded.model.predict(x), model.predict(x))
    assert np.array_equal(loaded.model.contributions(x), model.contributions(x))
    assert loaded.model.reasons(x[:5]) == model.reasons(x[:5])
    assert np.array_equal(loaded.reference_x, x[:50], equal_nan=True)
    assert np.array_equal(loaded.reference_scores, model.predict(x[:50]))
    assert not (tmp_path / "secret").exists()  # nothing here needed the key


def test_a_table_model_keeps_its_encoder(store: Store, tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    frame = pl.DataFrame(
        {
            "age": rng.integers(18, 80, 300),
            "country": rng.choice(["FR", "DE", "ES"], 300),
            "exited": rng.integers(0, 2, 300),
        }
    )
    encoder = TableEncoder().fit(frame, TableSpec(target="exited"))
    x = encoder.transform(frame)
    model = LogisticModel().fit(x, frame["exited"].to_numpy(), encoder.feature_names)
    reg = ModelRegistry(store, tmp_path / "models")
    loaded = reg.load(_register(reg, Artifact(model, x[:20], model.predict(x[:20]), encoder)))
    assert loaded.encoder == encoder
    assert np.array_equal(loaded.model.predict(loaded.encoder.transform(frame)), model.predict(x))


def test_the_anomaly_model_round_trips_through_a_signed_pickle(
    store: Store, tmp_path: Path
) -> None:
    x = np.random.default_rng(3).normal(size=(500, 2))
    model = AnomalyModel(trees=50, seed=0).fit(x, ["amount_z", "night"])
    reg = ModelRegistry(store, tmp_path / "models")
    version = _register(reg, Artifact(model, x[:40], model.predict(x[:40])), "anomaly")
    loaded = reg.load(version)
    assert np.array_equal(loaded.model.predict(x), model.predict(x))
    assert np.array_equal(loaded.model.contributions(x), model.contributions(x))
    key = Path(os.environ["TACTFUL_SECRET_KEY_FILE"])
    assert stat.S_IMODE(key.stat().st_mode) == 0o600  # generated on first use, owner-only


def test_a_swapped_pickle_and_checksum_are_refused_without_running(
    store: Store, tmp_path: Path
) -> None:
    reg = ModelRegistry(store, tmp_path / "models")
    version = _register(reg, Artifact(_classifier("logistic"), np.zeros((1, 3)), np.zeros(1)))
    target = tmp_path / "pwned.txt"
    swapped = _swap(store, version, pickle.dumps(_WritesAFile(target)))
    with pytest.raises(ArtifactRefused, match="a pickle written by an earlier version"):
        reg.load(swapped)
    assert not target.exists()


def _with_pickle_entry(blob: bytes, payload: bytes, signature: str | None) -> bytes:
    """``blob`` (a genuine archive) with its ``pickle`` entry and header signature replaced."""
    with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
        arrays = {n: archive[n] for n in archive.files}
    import json

    header = json.loads(str(arrays.pop("header")[()]))
    header.pop("pickle_hmac_sha256", None)
    if signature is not None:
        header["pickle_hmac_sha256"] = signature
    arrays["pickle"] = np.frombuffer(payload, dtype=np.uint8)
    out = io.BytesIO()
    np.savez(out, header=np.array(json.dumps(header)), **arrays)
    return out.getvalue()


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        (None, "holds a pickle without a signature"),
        ("0" * 64, "signature does not match this engine's secret key"),
        ("forged", "signature does not match this engine's secret key"),
    ],
)
def test_a_pickle_inside_the_archive_needs_the_engines_signature(
    store: Store, tmp_path: Path, signature: str | None, message: str
) -> None:
    x = np.random.default_rng(3).normal(size=(200, 2))
    model = AnomalyModel(trees=20, seed=0).fit(x, ["a", "b"])
    reg = ModelRegistry(store, tmp_path / "models")
    version = _register(reg, Artifact(model, x[:10], model.predict(x[:10])), "anomaly")
    target = tmp_path / "pwned.txt"
    payload = pickle.dumps({"state": _WritesAFile(target)})
    if signature == "forged":  # signed, but with the attacker's own key
        import hmac

        signature = hmac.new(b"k" * 32, payload, hashlib.sha256).hexdigest()
    blob = _with_pickle_entry(version.artifact_path.read_bytes(), payload, signature)
    swapped = _swap(store, version, blob)
    with pytest.raises(ArtifactRefused, match=message):
        reg.load(swapped)
    assert not target.exists()


def test_an_object_array_in_the_archive_is_never_unpickled(store: Store, tmp_path: Path) -> None:
    reg = ModelRegistry(store, tmp_path / "models")
    version = _register(reg, Artifact(_classifier("gbm"), np.zeros((1, 3)), np.zeros(1)))
    target = tmp_path / "pwned.txt"
    genuine = zipfile.ZipFile(io.BytesIO(version.artifact_path.read_bytes()))
    evil = io.BytesIO()
    np.save(evil, np.array([_WritesAFile(target)], dtype=object), allow_pickle=True)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name in genuine.namelist():
            zf.writestr(name, evil.getvalue() if name == "reference_x.npy" else genuine.read(name))
    swapped = _swap(store, version, out.getvalue())
    with pytest.raises(ArtifactRefused, match="cannot be read"):
        reg.load(swapped)
    assert not target.exists()


def test_a_signed_model_without_its_key_is_refused(store: Store, tmp_path: Path) -> None:
    x = np.random.default_rng(3).normal(size=(200, 2))
    model = AnomalyModel(trees=20, seed=0).fit(x, ["a", "b"])
    reg = ModelRegistry(store, tmp_path / "models")
    version = _register(reg, Artifact(model, x[:10], model.predict(x[:10])), "anomaly")
    Path(os.environ["TACTFUL_SECRET_KEY_FILE"]).unlink()
    with pytest.raises(ArtifactRefused, match="no secret key is configured"):
        reg.load(version)


def test_a_key_from_the_environment_signs_and_verifies(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TACTFUL_SECRET_KEY", "k" * 40)
    x = np.random.default_rng(3).normal(size=(200, 2))
    model = AnomalyModel(trees=20, seed=0).fit(x, ["a", "b"])
    reg = ModelRegistry(store, tmp_path / "models")
    version = _register(reg, Artifact(model, x[:10], model.predict(x[:10])), "anomaly")
    assert not Path(os.environ["TACTFUL_SECRET_KEY_FILE"]).exists()
    assert np.array_equal(reg.load(version).model.predict(x), model.predict(x))
    monkeypatch.setenv("TACTFUL_SECRET_KEY", "another key of forty characters, not it")
    with pytest.raises(ArtifactRefused, match="signature does not match"):
        reg.load(version)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("short", "TACTFUL_SECRET_KEY has 5 characters; use at least 32"),
        ("shared", r"secret key file .* is open to other users \(mode 644\)"),
        ("empty", "holds fewer than 32 characters"),
    ],
)
def test_a_weak_key_is_refused(monkeypatch: pytest.MonkeyPatch, setup: str, message: str) -> None:
    from tactful import signing

    key = Path(os.environ["TACTFUL_SECRET_KEY_FILE"])
    if setup == "short":
        monkeypatch.setenv("TACTFUL_SECRET_KEY", "short")
    else:
        key.write_text("x" * 64 if setup == "shared" else "\n")
        key.chmod(0o644 if setup == "shared" else 0o600)
    with pytest.raises(ConfigError, match=message):
        signing.sign(b"data")


class _Plugin(Model):
    """A bank's own family with no data form: stored as a signed pickle."""

    family: ClassVar[str] = "test_plugin_constant"
    kind: ClassVar[Any] = "classifier"

    def __init__(self, *, value: float = 0.25) -> None:
        self.value = value

    def fit(self, x: Any, names: list[str]) -> _Plugin:
        self._set_features(np.asarray(x, dtype=np.float64), names, None)
        return self

    def predict(self, x: Any) -> F64:
        return np.full(len(x), self.value)

    def contributions(self, x: Any) -> F64:
        return np.zeros(np.shape(x))


def test_a_family_without_a_data_form_is_a_signed_pickle(store: Store, tmp_path: Path) -> None:
    families.register("test_plugin_constant")(_Plugin)
    model = _Plugin(value=0.7).fit(np.zeros((3, 2)), ["a", "b"])
    assert model.to_state() is None
    reg = ModelRegistry(store, tmp_path / "models")
    version = _register(reg, Artifact(model, np.zeros((1, 2)), np.zeros(1)), "plugin")
    assert reg.load(version).model.predict(np.zeros((2, 2))).tolist() == [0.7, 0.7]
