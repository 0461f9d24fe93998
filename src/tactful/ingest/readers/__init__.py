"""Format readers; importing this package registers the built-in ones."""

from tactful.ingest.readers import camt053, mt940, ofx, tabular  # noqa: F401
from tactful.ingest.readers.base import Reader, detect_format, readers

__all__ = ["Reader", "detect_format", "readers"]
