"""Format readers; importing this package registers the built-in ones."""

from importlib import import_module

from tactful.ingest.readers.base import Reader, detect_format, readers

for _module in ("tabular", "ofx", "camt053", "mt940", "berka"):
    try:
        import_module(f"tactful.ingest.readers.{_module}")
    except ModuleNotFoundError as _exc:  # pragma: no cover - only while a reader is being written
        if _exc.name != f"tactful.ingest.readers.{_module}":
            raise

__all__ = ["Reader", "detect_format", "readers"]
