"""Reading the engine's own ``.npz`` archives (models, text models) without ever unpickling.

Whoever can write the model directory and the store can swap a file and its checksum together,
so an archive is data: a JSON header and plain arrays read with ``allow_pickle=False``. A file
that is not such an archive, a pickle from an earlier version, or a header of another format or
version is refused with the one message that helps: retrain.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Collection
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tactful.errors import ArtifactRefused


def read_archive(
    blob: bytes, *, what: str, format: str, version: int, retrain: str,
    arrays: Collection[str] | None = None,
) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """The header and arrays of an archive of ``format`` at ``version`` (only ``arrays`` when
    given, every entry but the header otherwise), or ``ArtifactRefused`` saying why not."""
    if not zipfile.is_zipfile(io.BytesIO(blob)):
        if blob[:1] == b"\x80":
            raise ArtifactRefused(
                f"{what} is a pickle written by an earlier version of Tactful, which this "
                f"version does not load (a pickle can run code); {retrain}"
            )
        raise ArtifactRefused(f"{what} is not a Tactful {format} archive; {retrain}")
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
            header: dict[str, Any] = json.loads(str(archive["header"][()]))
            names = archive.files if arrays is None else list(arrays)
            found = {name: archive[name] for name in names if name != "header"}
    except (ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:
        raise ArtifactRefused(f"{what} cannot be read ({exc}); {retrain}") from exc
    if header.get("format") != format or header.get("version") != version:
        raise ArtifactRefused(
            f"{what} has format {header.get('format')!r} version {header.get('version')!r}, "
            f"not {format!r} version {version}; {retrain}"
        )
    return header, found
