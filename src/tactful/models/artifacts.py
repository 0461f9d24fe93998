"""A registered model's artifact as a file of data, with a signed pickle only where unavoidable.

The registry's checksum in the ``models`` table proves a file is the one registered, but whoever
can write the table and the model directory swaps both. So the file is a NumPy ``.npz`` archive
read with ``allow_pickle=False``: a JSON header (format, family, settings, the table encoder's
columns and levels) and arrays (coefficients, scaling, calibration thresholds, LightGBM's own
text model as bytes, the drift reference). Swapping it changes scores, never runs code.

Two things have no data form here: the Isolation Forest's trees (``ModelState.opaque``) and a
bank's own family that defines no ``_get_state`` / ``_set_state``. They go into one ``pickle``
entry whose HMAC-SHA256 under the engine's secret key (``tactful.signing``: outside the store and
the model directory) is in the header and checked before anything is unpickled.

Files written by Tactful 0.1 (``<name>-v<N>.pkl``, an unsigned pickle of ``Artifact``) are refused
with a message to retrain: they cannot be told apart from a swapped file.
"""

from __future__ import annotations

import io
import json
import pickle
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tactful import signing
from tactful.archive import read_archive
from tactful.errors import ArtifactRefused
from tactful.models.base import Model, ModelState, families
from tactful.models.tabular import TableEncoder

__all__ = ["FORMAT", "RETRAIN", "Artifact", "dump", "load"]

FORMAT = "tactful.model_artifact"
_VERSION = 1
RETRAIN = "retrain it with tactful train (--table for a model trained from a table)"


@dataclass(frozen=True)
class Artifact:
    """What is stored: the fitted model and the reference for drift (training sample)."""

    model: Model
    reference_x: NDArray[np.float64]
    reference_scores: NDArray[np.float64]
    encoder: Any = None
    """For a model trained from a table: the ``TableEncoder`` that turns its rows into features."""


def dump(artifact: Artifact) -> bytes:
    """The artifact as an ``.npz`` archive; a ``pickle`` entry only for what has no data form."""
    state = artifact.model.to_state()
    header: dict[str, Any] = {
        "format": FORMAT,
        "version": _VERSION,
        "family": artifact.model.family,
        "model": state.meta if state else None,
        "encoder": None,
    }
    arrays: dict[str, NDArray[Any]] = {
        "reference_x": np.asarray(artifact.reference_x, dtype=np.float64),
        "reference_scores": np.asarray(artifact.reference_scores, dtype=np.float64),
    }
    opaque: dict[str, Any] = {}
    if state is None:
        opaque["model"] = artifact.model
    else:
        arrays.update({f"model.{k}": v for k, v in state.arrays.items()})
        if state.opaque is not None:
            opaque["state"] = state.opaque
    if isinstance(artifact.encoder, TableEncoder):
        header["encoder"] = {
            "numeric": artifact.encoder.numeric_,
            # Pairs, not an object: the header is written with sorted keys, and the columns'
            # order is the feature order the model was fitted on.
            "levels": [[c, vs] for c, vs in artifact.encoder.levels_.items()],
            "dropped": artifact.encoder.dropped_,
        }
    elif artifact.encoder is not None:
        opaque["encoder"] = artifact.encoder
    if opaque:
        payload = pickle.dumps(opaque, protocol=pickle.HIGHEST_PROTOCOL)
        header["pickle_hmac_sha256"] = signing.sign(payload)
        arrays["pickle"] = np.frombuffer(payload, dtype=np.uint8)
    buffer = io.BytesIO()  # allow_pickle=False: an array of Python objects is refused here too
    header_text = np.array(json.dumps(header, sort_keys=True))
    np.savez(buffer, allow_pickle=False, header=header_text, **arrays)
    return buffer.getvalue()


def load(blob: bytes, *, what: str) -> Artifact:
    """The artifact ``dump`` wrote; refuses a pickle of an earlier version, an unsigned or
    wrongly signed pickle entry, and object arrays, without unpickling any of them."""
    header, arrays = read_archive(blob, what=what, format=FORMAT, version=_VERSION,
                                  retrain=RETRAIN)
    opaque: dict[str, Any] = {}
    if "pickle" in arrays:
        payload = arrays.pop("pickle").astype(np.uint8).tobytes()
        signature = header.get("pickle_hmac_sha256")
        if not isinstance(signature, str):
            raise ArtifactRefused(f"{what} holds a pickle without a signature; refusing to load")
        signing.verify(payload, signature, what=what)
        opaque = pickle.loads(payload)  # noqa: S301 -- HMAC verified just above
    if header["model"] is None:
        model = opaque.get("model")
        if not isinstance(model, Model):
            raise ArtifactRefused(f"{what} does not hold a Tactful model")
    else:
        cls = families.get(str(header["family"]))
        state = ModelState(
            meta=header["model"],
            arrays={k.removeprefix("model."): v for k, v in arrays.items() if k[:6] == "model."},
            opaque=opaque.get("state"),
        )
        model = cls.from_state(state)
    encoder: Any = opaque.get("encoder")
    if header["encoder"] is not None:
        spec = header["encoder"]
        encoder = TableEncoder(
            numeric_=[str(c) for c in spec["numeric"]],
            levels_={str(c): [str(v) for v in vs] for c, vs in spec["levels"]},
            dropped_=[str(c) for c in spec["dropped"]],
        )
    return Artifact(model, arrays["reference_x"], arrays["reference_scores"], encoder)
