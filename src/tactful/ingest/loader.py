"""The idempotent loader: files in, validated rows into the store, rejects out.

For each file: detect (or take) the format, read it in batches, validate each batch, give every
row its stable id, and write the batch in one database transaction. A crash between batches
leaves whole batches only, and a re-run completes the file without doubling anything, because
every write is keyed (see ``keys.py`` and ``store/bulk.py``). Rows that fail go to
``<report dir>/import-<id>-<file>.rejects.csv`` with file, location, field and reason, beside a
``summary.json`` of the run.

Both reports are customer data (a reject carries its raw record, so the bank can fix it) and are
written 0600 in a 0700 folder; the notes, which are also printed, show account numbers by their
last four characters only (``trust/privacy.py``).
"""

from __future__ import annotations

import csv
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatch
from pathlib import Path
from queue import Empty, Queue
from typing import Any, TextIO

import polars as pl
from sqlalchemy import Connection

from tactful.errors import IngestError
from tactful.ingest.advice import Unread, cause_of, masked
from tactful.ingest.choices import ConflictPolicy
from tactful.ingest.conflicts import (
    MONEY_FIELDS,
    ConflictWriter,
    find_conflicts,
    replacement_rows,
)
from tactful.ingest.conventions import settled
from tactful.ingest.keys import OccurrenceCounter, event_ids, transaction_ids
from tactful.ingest.mapping import Mapping
from tactful.ingest.readers import detect_format, readers
from tactful.ingest.readers.base import Reader
from tactful.ingest.schema import LOCATION, RecordKind, Reject
from tactful.ingest.text import check_text
from tactful.ingest.validate import validate_chunk
from tactful.spreadsheet import spreadsheet_safe
from tactful.store import runs, schema
from tactful.store.store import Store
from tactful.trust import consent
from tactful.trust.erasure import SECRET_KEY_ENV, Tombstones, secret_key_from_env
from tactful.trust.privacy import mask, private_dir, private_open, write_private_text

REPORT_SUFFIXES = (".rejects.csv", ".conflicts.csv", "summary.json")
BULK_TABLES = frozenset({"transactions", "events"})

ProgressFn = Callable[[str, int], None]
"""Called with (file, rows just processed) after each batch."""


@dataclass(slots=True)
class FileReport:
    path: str
    format: str
    kinds: list[str] = field(default_factory=list)
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejects_path: str | None = None
    conflicts: int = 0
    conflicts_path: str | None = None
    on_conflict: str = ConflictPolicy.KEEP.value
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    import_id: int | None = None
    retracted: int = 0
    """Open insights retracted because the file withdrew the consent they needed."""
    unread: list[Unread] = field(default_factory=list)
    """What the file's rejects come to, by cause (``advice.py``)."""
    erased: int = 0
    """Rows not loaded because their customer or account was erased (``tactful erase``)."""


@dataclass(slots=True)
class IngestReport:
    files: list[FileReport] = field(default_factory=list)
    summary_path: str | None = None
    crashed: list[runs.CrashedRun] = field(default_factory=list)
    """Runs of any kind found dead when this one started, now marked ``crashed``."""

    @property
    def inserted(self) -> int:
        return sum(f.inserted for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def retracted(self) -> int:
        return sum(f.retracted for f in self.files)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    def unread(self) -> list[Unread]:
        """Every file's rejects by cause, most frequent first, with up to three examples."""
        merged: dict[str, Unread] = {}
        for f in self.files:
            for u in f.unread:
                into = merged.setdefault(u.title, Unread(u.title, u.fix))
                into.count += u.count
                into.examples += u.examples[: 3 - len(into.examples)]
        return sorted(merged.values(), key=lambda u: -u.count)

    @property
    def conflicts(self) -> int:
        return sum(f.conflicts for f in self.files)

    @property
    def kept_conflicts(self) -> int:
        """Conflicts left as stored: the store does not say what the files say."""
        return sum(f.conflicts for f in self.files if f.on_conflict == ConflictPolicy.KEEP)


IGNORE_FILE = ".tactfulignore"
"""In a folder given to ``tactful ingest``: one glob per line of paths (relative to the folder)
not to load, e.g. ``truth/`` beside a simulator's exports."""


def _ignored(folder: Path) -> list[str]:
    path = folder / IGNORE_FILE
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files under ``paths`` in a stable order.

    In a folder, hidden files, our own reports, Markdown and what the folder's
    ``.tactfulignore`` lists are skipped; a file named itself is always read (or refused with a
    reason), since skipping what the user asked for would end with exit 0 and nothing loaded.
    """
    out: list[Path] = []
    for p in paths:
        if p.is_file():
            out.append(p)
            continue
        if p.is_dir():
            patterns = _ignored(p)
            candidates = []
            for x in sorted(p.rglob("*")):
                rel = x.relative_to(p).as_posix()
                if x.is_file() and not any(
                    fnmatch(rel, pat) or rel.startswith(pat.rstrip("/") + "/") for pat in patterns
                ):
                    candidates.append(x)
        elif p.exists():
            candidates = [p]
        else:
            raise IngestError(f"{p}: no such file or directory")
        for c in candidates:
            if c.name.startswith(".") or c.name.endswith(REPORT_SUFFIXES) or c.suffix == ".md":
                continue
            out.append(c)
    return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def table_frames(
    kind: RecordKind, typed: pl.DataFrame, import_id: int | None, counter: OccurrenceCounter
) -> list[tuple[str, pl.DataFrame]]:
    """The table rows for a validated frame, in write order (parents first)."""
    now = datetime.now(UTC)
    if kind is RecordKind.TRANSACTION:
        ids = transaction_ids(typed, counter)
        frame = (
            typed.with_columns(ids)
            .rename({"transaction_id": "external_id"})
            .select(
                "id",
                "account_id",
                "external_id",
                "booked_at",
                "value_at",
                "amount_minor",
                "currency",
                "description",
                "counterparty",
                "mcc",
                "channel",
                "status",
                "balance_after_minor",
                pl.lit(import_id).alias("import_id"),
            )
        )
        return [("transactions", frame)]
    if kind is RecordKind.EVENT:
        frame = typed.with_columns(event_ids(typed, counter)).select(
            "id",
            "customer_id",
            "kind",
            "occurred_at",
            "session_id",
            "duration_s",
            "feature",
            "channel",
            "attributes",
            pl.lit(import_id).alias("import_id"),
        )
        return [("events", frame)]
    if kind is RecordKind.CONSENT:
        return [("consents", typed.select("customer_id", "purpose", "at", "status", "source"))]
    if kind is RecordKind.PRODUCT:
        return [
            (
                "products",
                typed.rename({"product_id": "id"}).select(
                    "id", "name", "kind", "account_type", "description"
                ),
            )
        ]
    if kind is RecordKind.ACCOUNT:
        frame = typed.rename({"account_id": "id", "account_type": "type"}).select(
            "id",
            "customer_id",
            "type",
            "currency",
            "balance_minor",
            "balance_as_of",
            "credit_limit_minor",
            "opened_on",
            "closed_on",
            "product_id",
            "name",
            pl.lit(now).dt.cast_time_unit("us").alias("updated_at"),
        )
        return [
            (
                "accounts",
                _present_only(
                    frame,
                    typed,
                    {
                        "customer_id": "customer_id",
                        "balance_minor": "balance_minor",
                        "balance_as_of": "balance_as_of",
                    },
                ),
            )
        ]
    frame = typed.rename({"customer_id": "id"})
    customers = frame.select(
        "id",
        "region",
        "locale",
        "timezone",
        "personalization_level",
        "channel_preferences",
        "quiet_hours_start",
        "quiet_hours_end",
        "segment",
        "created_at",
        "vulnerable",
        pl.lit(now).dt.cast_time_unit("us").alias("updated_at"),
    )
    protected = frame.filter(pl.col("age_band").is_not_null() | pl.col("gender").is_not_null())
    return [
        ("customers", customers),
        (
            "customer_protected",
            protected.select(pl.col("id").alias("customer_id"), "age_band", "gender"),
        ),
    ]


def _present_only(
    frame: pl.DataFrame, typed: pl.DataFrame, optional: dict[str, str]
) -> pl.DataFrame:
    """Drop all-null optional columns so an upsert does not touch what the source never had."""
    drop = [col for col, src in optional.items() if typed[src].null_count() == typed.height]
    return frame.drop(drop)


class SeenKeys:
    """The keys written so far from one file, with a hash of their content and location."""

    def __init__(self) -> None:
        self.frame = pl.DataFrame(schema={"_k": pl.Utf8, "_h": pl.UInt64, "_first": pl.Utf8})
        self.key_hashes = pl.Series("_kh", [], dtype=pl.UInt64)

    def add(self, frame: pl.DataFrame) -> None:
        self.frame = pl.concat([self.frame, frame])
        self.key_hashes = pl.concat([self.key_hashes, frame["_k"].hash()])

    def maybe_seen(self, keys: pl.Series) -> pl.Series:
        """True where a key may have been seen: a 64-bit hash match (a rare false positive only
        sends the batch through the exact comparison)."""
        return keys.hash().is_in(self.key_hashes.implode())


def _dedupe(
    table: str, frame: pl.DataFrame, source: str, seen: SeenKeys
) -> tuple[pl.DataFrame, list[Reject], int]:
    """Drop repeated ids within a file: an exact repeat is a duplicate, a different row with the
    same id is a reject naming the first occurrence."""
    keys = {
        "consents": ["customer_id", "purpose", "at"],
        "customer_protected": ["customer_id"],
    }.get(table, ["id"])
    content_cols = [c for c in frame.columns if c not in (LOCATION, "import_id", "updated_at")]
    work = frame.with_columns(
        _k=pl.concat_str([pl.col(k).cast(pl.Utf8) for k in keys], separator="/"),
        _h=pl.struct(content_cols).hash(),
    )
    repeats = work["_k"].is_duplicated()
    if seen.frame.height:
        repeats = repeats | seen.maybe_seen(work["_k"])
    if not repeats.any():  # the common case: nothing repeated, nothing to compare
        seen.add(work.select("_k", "_h", pl.col(LOCATION).alias("_first")))
        return frame, [], 0
    work = work.with_columns(
        _first=pl.col(LOCATION).first().over("_k"),
        _first_h=pl.col("_h").first().over("_k"),
        _is_first=pl.col("_k").is_first_distinct(),
    ).join(seen.frame.rename({"_h": "_seen_h", "_first": "_seen_at"}), on="_k", how="left")
    prior_h = pl.coalesce(pl.col("_seen_h"), pl.col("_first_h"))
    prior_at = pl.coalesce(pl.col("_seen_at"), pl.col("_first"))
    repeated = pl.col("_seen_h").is_not_null() | ~pl.col("_is_first")
    work = work.with_columns(_rep=repeated, _same=prior_h == pl.col("_h"), _prior_at=prior_at)
    conflicts = work.filter(pl.col("_rep") & ~pl.col("_same"))
    rejects = [
        Reject(
            source,
            str(loc),
            f"duplicate id {k!r} with different content (first seen at {at})",
            "id",
        )
        for loc, k, at in zip(
            conflicts[LOCATION].to_list(),
            conflicts["_k"].to_list(),
            conflicts["_prior_at"].to_list(),
            strict=True,
        )
    ]
    duplicates = work.filter(pl.col("_rep") & pl.col("_same")).height
    fresh = work.filter(~pl.col("_rep"))
    seen.add(fresh.select("_k", "_h", pl.col(LOCATION).alias("_first")))
    return fresh.select(frame.columns), rejects, duplicates


def _location_of(table: str, typed: pl.DataFrame, frame: pl.DataFrame) -> pl.Series:
    if table == "customer_protected":
        return typed.filter(pl.col("age_band").is_not_null() | pl.col("gender").is_not_null())[
            LOCATION
        ]
    return typed[LOCATION]


class Loader:
    """Loads files into a store; one instance per run."""

    def __init__(
        self,
        store: Store,
        *,
        mapping: Mapping | None = None,
        batch_size: int = 50_000,
        report_dir: Path = Path("ingest-reports"),
        fmt: str | None = None,
        progress: ProgressFn | None = None,
        on_conflict: ConflictPolicy | str = ConflictPolicy.KEEP,
        erasure_key: bytes | None = None,
    ) -> None:
        if batch_size <= 0:
            raise ValueError("batch_size must be > 0")
        self.on_conflict = ConflictPolicy.parse(on_conflict)
        self.store = store
        self.mapping = mapping or Mapping()
        self.batch_size = batch_size
        self.report_dir = report_dir
        self.fmt = fmt
        self.progress = progress
        # The key that recognises erased customers in the bank's files (TACTFUL_SECRET_KEY).
        self.erasure_key = erasure_key if erasure_key is not None else secret_key_from_env()
        self.tombstones = Tombstones(None)
        self.fail_after_batches: int | None = None  # fault injection for tests of crash safety

    def ingest(self, paths: Iterable[Path]) -> IngestReport:
        report = IngestReport()
        files = expand_paths(paths)
        report.crashed = runs.mark_crashed(self.store)
        with runs.Heartbeat(self.store):
            for path in files:
                report.files.append(self.ingest_file(path))
        private_dir(self.report_dir)
        summary = self.report_dir / "summary.json"
        write_private_text(summary, json.dumps([asdict(f) for f in report.files], indent=2) + "\n")
        report.summary_path = str(summary)
        return report

    def ingest_file(self, path: Path) -> FileReport:
        started = time.perf_counter()
        fmt = self.fmt or detect_format(path) or "unknown"
        file_report = FileReport(path=str(path), format=fmt, on_conflict=self.on_conflict.value)
        import_id = self.store.start_import(path=str(path), sha256=_sha256(path), fmt=fmt)
        file_report.import_id = import_id
        rejects_path = self.report_dir / f"import-{import_id}-{path.name}.rejects.csv"
        writer = _RejectWriter(rejects_path)
        conflicts_path = self.report_dir / f"import-{import_id}-{path.name}.conflicts.csv"
        conflict_writer = ConflictWriter(conflicts_path, str(path))
        status = "done"
        self.tombstones = Tombstones.read(self.store, self.erasure_key)
        try:
            if fmt == "unknown":
                raise IngestError(
                    f"{path}: not a format Tactful reads (csv, jsonl, parquet, ofx, "
                    "camt053, mt940); force one with --format"
                )
            self._load(path, readers.get(fmt)(), import_id, file_report, writer, conflict_writer)
        except IngestError as exc:
            writer.write([Reject(str(path), "file", str(exc).removeprefix(f"{path}: "))])
            file_report.rejected += 1
            status = "failed"
        except Exception:
            self.store.finish_import(import_id, status="crashed")
            writer.close()
            conflict_writer.close()
            raise
        writer.close()
        conflict_writer.close()
        if writer.count:
            file_report.rejects_path = str(rejects_path)
            file_report.unread = list(writer.causes.values())
        if conflict_writer.count:
            file_report.conflicts_path = str(conflicts_path)
        file_report.seconds = round(time.perf_counter() - started, 3)
        self.store.finish_import(
            import_id,
            status=status,
            rows_read=file_report.rows_read,
            inserted=file_report.inserted,
            updated=file_report.updated,
            duplicates=file_report.duplicates,
            rejected=file_report.rejected,
            rejects_path=file_report.rejects_path,
            conflicts=file_report.conflicts,
        )
        return file_report

    def _prepare(self, path: Path, reader: Reader, import_id: int) -> Iterator[_Prepared]:
        """Read, validate, key and de-duplicate each batch: everything but the write."""
        counter_by_kind: dict[RecordKind, OccurrenceCounter] = {}
        seen: dict[str, SeenKeys] = {}
        # Decimal mark and date order are decided once for the file, never per batch.
        chunks = settled(reader.read(path, self.mapping, self.batch_size), str(path))
        for chunk in chunks:
            typed, rejects = validate_chunk(chunk)
            typed, text_rejects = check_text(chunk.kind, typed, str(path))
            rejects += text_rejects
            prepared = _Prepared(
                kind=chunk.kind,
                rows=chunk.frame.height,
                rows_read=chunk.frame.height
                + sum(1 for r in chunk.rejects if r.location != "file"),
                notes=chunk.notes,
                rejects=rejects,
            )
            if typed.height:
                counter = counter_by_kind.setdefault(chunk.kind, OccurrenceCounter())
                for table, frame in table_frames(chunk.kind, typed, import_id, counter):
                    located, gone = self.tombstones.drop(
                        table,
                        frame
                        if LOCATION in frame.columns
                        else frame.with_columns(_location_of(table, typed, frame))
                    )
                    if table != "customer_protected":
                        prepared.erased += gone
                    clean, dup_rejects, dups = _dedupe(
                        table, located, str(path), seen.setdefault(table, SeenKeys())
                    )
                    prepared.rejects += dup_rejects
                    keys = [c.name for c in schema.metadata.tables[table].primary_key.columns]
                    # Sorted by key, the rows reach each B-tree page together: much faster
                    # index maintenance than file order. The location stays for conflicts.
                    prepared.tables.append((table, clean.sort(keys), dups))
            yield prepared

    def _load(
        self,
        path: Path,
        reader: Reader,
        import_id: int,
        report: FileReport,
        writer: _RejectWriter,
        conflict_writer: ConflictWriter,
    ) -> None:
        account_ids: set[str] = set()
        deferred: set[str] = set()
        try:
            for batches, prepared in enumerate(
                _in_background(self._prepare(path, reader, import_id)), start=1
            ):
                if prepared.kind.value not in report.kinds and prepared.rows:
                    report.kinds.append(prepared.kind.value)
                report.notes += [n for n in prepared.notes if n not in report.notes]
                report.rows_read += prepared.rows_read
                report.erased += prepared.erased
                conflicts: list[pl.DataFrame] = []
                with self.store.transaction() as conn:
                    for table, frame, dups in prepared.tables:
                        if batches == 1 and table in BULK_TABLES:
                            deferred |= self.store.defer_indexes(conn, table)
                        compare = MONEY_FIELDS if table == "transactions" else ()
                        result = self.store.write(
                            conn, table, frame.drop(LOCATION), compare=compare
                        )
                        if table != "customer_protected":
                            report.inserted += result.inserted
                            report.updated += result.updated
                            report.duplicates += result.duplicates + dups
                        if table == "consents":
                            # A withdrawal binds in the transaction that stores it.
                            consent.refusals_win_ties(conn, frame)
                            report.retracted += consent.retract_unconsented(
                                conn, frame["customer_id"].unique().to_list())
                        if table == "transactions":
                            account_ids.update(frame["account_id"].unique().to_list())
                            if result.differing is not None:
                                conflicts.append(
                                    self._conflicts(conn, frame, result.differing, report)
                                )
                writer.write(prepared.rejects)
                for found in conflicts:
                    conflict_writer.write(found)
                report.rejected += len(prepared.rejects)
                if self.progress:
                    self.progress(str(path), prepared.rows)
                if self.fail_after_batches is not None and batches >= self.fail_after_batches:
                    raise RuntimeError(f"injected failure after {batches} batch(es)")
        finally:
            if deferred:
                self.store.ensure_indexes()
        if report.erased:
            report.notes.append(
                f"{report.erased} row(s) of erased customers not loaded: they asked Tactful to "
                "forget them (tactful erase), and the bank's file still carries them"
            )
        if self.tombstones.unrecognisable:
            report.notes.append(
                f"{self.tombstones.unrecognisable} erasure(s) on record cannot be recognised "
                f"in this file without the key they were made with ({SECRET_KEY_ENV}): an erased "
                "customer in it would be loaded again"
            )
        if account_ids:
            unknown = account_ids - self.store.existing_ids("accounts", account_ids)
            if unknown:
                report.notes.append(
                    f"{len(unknown)} account(s) not (yet) in the store, e.g. "
                    f"{mask(sorted(unknown)[0])}: load the accounts file to link them to customers"
                )


    def _conflicts(
        self, conn: Connection, frame: pl.DataFrame, stored: pl.DataFrame, report: FileReport
    ) -> pl.DataFrame:
        """The batch's rows whose stored twin (``stored``, found by the write) has other money:
        counted, listed, and replaced if the policy says so (see ``conflicts.py``)."""
        found = find_conflicts(frame, stored)
        if found.height == 0:
            return found
        ids = found["id"].unique()
        report.conflicts += ids.len()
        report.duplicates -= ids.len()
        if self.on_conflict is ConflictPolicy.REPLACE:
            report.updated += self.store.update(
                conn, "transactions", replacement_rows(frame, ids)
            )
        return found


@dataclass(slots=True)
class _Prepared:
    """One batch ready to write: its table frames (sorted by key) and its rejects."""

    kind: RecordKind
    rows: int
    rows_read: int
    notes: list[str]
    rejects: list[Reject]
    tables: list[tuple[str, pl.DataFrame, int]] = field(default_factory=list)
    erased: int = 0


_DONE = object()


def _in_background(items: Iterator[_Prepared], depth: int = 2) -> Iterator[_Prepared]:
    """Run ``items`` in a thread, ``depth`` batches ahead of the consumer.

    Parsing and validation (Polars, mostly outside the GIL) then overlap with the database
    writes (SQLite and libpq release the GIL too), which roughly halves an import on two cores.
    Batches still arrive, and are written, in file order.
    """
    queue: Queue[object] = Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                queue.put(item)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            queue.put(exc)
            return
        queue.put(_DONE)

    thread = threading.Thread(target=produce, name="tactful-ingest-prepare", daemon=True)
    thread.start()
    try:
        while True:
            item = queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while thread.is_alive():
            try:
                queue.get_nowait()
            except Empty:
                thread.join(timeout=0.05)


class _RejectWriter:
    """Appends rejects to a CSV created on the first reject, so clean files leave no file.

    Every cell goes through ``spreadsheet_safe``: the file is made to be opened in a
    spreadsheet, and its cells are the bank's data, which an attacker may have written.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self.causes: dict[str, Unread] = {}
        self._fh: TextIO | None = None
        self._csv: Any = None

    def write(self, rejects: list[Reject]) -> None:
        if not rejects:
            return
        if self._fh is None:
            fh = private_open(self.path, "w", encoding="utf-8", newline="")
            self._fh = fh
            out = csv.writer(fh)
            out.writerow(["file", "location", "field", "reason", "raw"])
            self._csv = out
        for r in rejects:
            cause = cause_of(r.reason)
            unread = self.causes.setdefault(cause.title, Unread(cause.title, cause.fix))
            unread.count += 1
            if len(unread.examples) < 3:
                unread.examples.append(masked(f"{Path(r.source).name}: {r.location}: {r.reason}"))
            cells = (r.source, r.location, r.field or "", r.reason, r.raw)
            self._csv.writerow([spreadsheet_safe(c) for c in cells])
        self.count += len(rejects)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def ingest(
    paths: Iterable[Path | str], store: Store | None = None, **options: object
) -> IngestReport:
    """Load ``paths`` (files or folders) into ``store`` (default: the configured one).

    >>> # ingest(["exports/"], batch_size=10_000)  # doctest: +SKIP
    """
    target = store or Store.open()
    loader = Loader(target, **options)  # type: ignore[arg-type]
    return loader.ingest(Path(p) for p in paths)
