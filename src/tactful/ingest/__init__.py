"""Collect: readers for bank formats, validation and the idempotent loader.

The names below are loaded on first use (PEP 562): importing a light module of the package
(``tactful.ingest.choices``, for the CLI's signatures) must not load the loader, Polars and
the store with it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tactful.ingest.loader import FileReport, IngestReport, Loader, ingest
    from tactful.ingest.mapping import Mapping

__all__ = ["FileReport", "IngestReport", "Loader", "Mapping", "ingest"]

_HOME = {"FileReport": "loader", "IngestReport": "loader", "Loader": "loader", "ingest": "loader",
         "Mapping": "mapping"}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"tactful.ingest.{_HOME[name]}"), name)
