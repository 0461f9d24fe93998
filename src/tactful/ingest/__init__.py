"""Collect: readers for bank formats, validation and the idempotent loader."""

from tactful.ingest.loader import FileReport, IngestReport, Loader, ingest
from tactful.ingest.mapping import Mapping

__all__ = ["FileReport", "IngestReport", "Loader", "Mapping", "ingest"]
