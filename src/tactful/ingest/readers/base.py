"""The reader plug-in: one class per file format.

A reader turns bytes into ``Chunk``s of canonical rows (see ``ingest/schema.py``). It never
raises on bad content: a record it cannot read becomes a ``Reject`` with its location and reason,
and a file it cannot read at all raises ``IngestError``, which the loader turns into one reject.

To add a format, subclass ``Reader``, give it a ``name``, implement ``sniff`` and ``read``, and
register it::

    @readers.register("fixedwidth")
    class FixedWidthReader(Reader):
        name = "fixedwidth"
        def sniff(self, head: bytes, path: Path) -> float: ...
        def read(self, path: Path, mapping: Mapping, batch_size: int) -> Iterator[Chunk]: ...

A bank's own package can register it through the ``tactful.readers`` entry point group instead.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from tactful.ingest.mapping import Mapping
from tactful.ingest.schema import Chunk
from tactful.plugins import Registry


class Reader(ABC):
    """Base of every format reader; ``__init__`` takes no arguments."""

    name: ClassVar[str]

    @abstractmethod
    def sniff(self, head: bytes, path: Path) -> float:
        """Confidence in [0, 1] that a file starting with ``head`` is in this format."""

    @abstractmethod
    def read(self, path: Path, mapping: Mapping, batch_size: int) -> Iterator[Chunk]:
        """Yield chunks of at most ``batch_size`` rows, in file order."""


readers: Registry[type[Reader]] = Registry("readers")

SNIFF_BYTES = 64 * 1024


def detect_format(path: Path, head: bytes | None = None) -> str | None:
    """The name of the reader most confident about ``path``, or ``None`` if none is."""
    if head is None:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    best: tuple[float, str] | None = None
    for name, cls in readers:
        score = cls().sniff(head, path)
        if score > 0 and (best is None or score > best[0]):
            best = (score, name)
    return best[1] if best else None
