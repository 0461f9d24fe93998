"""Loading a bank's files (exports, statements, event feeds) into the store, as the command line
and the demo do it: the reader chosen per file, the column mapping, the rejects and conflicts
files. The real-time path, one posted record at a time, is ``ingest``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tactful.ingest.loader import IngestReport
from tactful.store.store import Store

__all__ = ["IngestReport", "ingest_files"]


def ingest_files(
    store: Store,
    *,
    paths: list[Path],
    report_dir: Path,
    fmt: str | None = None,
    mapping: Path | None = None,
    batch_size: int = 50_000,
    on_conflict: str = "keep",
    account: str | None = None,
    currency: str | None = None,
    progress: Callable[[int], Any] | None = None,
) -> IngestReport:
    """Load every file under ``paths``; ``progress`` hears the rows read, batch by batch."""
    from tactful.ingest.loader import Loader, expand_paths
    from tactful.ingest.mapping import Mapping

    files = expand_paths(paths)
    loader = Loader(
        store,
        mapping=Mapping.load(mapping).with_statement(account=account, currency=currency),
        batch_size=batch_size,
        report_dir=report_dir,
        fmt=fmt,
        progress=(lambda _f, n: progress(n)) if progress is not None else None,
        on_conflict=on_conflict,
    )
    return loader.ingest(files)
