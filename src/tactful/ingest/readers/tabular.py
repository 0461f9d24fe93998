"""Tabular exports: CSV (any delimiter), JSON Lines and Parquet.

The three share the column mapping (``ingest/mapping.py``): headers (or JSON keys) are mapped to
canonical fields, the kind of records is told from which fields are present (or set in the
mapping), constants and value maps are applied, and ``debit``/``credit`` column pairs become one
signed ``amount``.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from tactful.errors import IngestError
from tactful.ingest.conventions import Evidence, gather, settle, settle_chunks
from tactful.ingest.decode import decode
from tactful.ingest.mapping import FileMapping, Mapping
from tactful.ingest.readers.base import Reader, readers
from tactful.ingest.schema import (
    LOCATION,
    Chunk,
    FieldType,
    RecordKind,
    Reject,
    SourceOptions,
    fields_of,
)
from tactful.ingest.validate import missing_required

_KIND_ORDER = (
    RecordKind.TRANSACTION,
    RecordKind.EVENT,
    RecordKind.CONSENT,
    RecordKind.ACCOUNT,
    RecordKind.CUSTOMER,
    RecordKind.PRODUCT,
)
_DELIMITERS = (",", ";", "\t", "|")
_MAX_FIELD = 1 << 20


def _with_debit_credit(columns: Sequence[str]) -> list[str]:
    have = list(columns)
    if "amount" not in have and "amount_minor" not in have and "debit" in have:
        have.append("amount")
    return have


def plan_columns(
    headers: Sequence[str], fm: FileMapping, path: Path
) -> tuple[RecordKind, dict[int, str], list[str]]:
    """(kind, source column index -> canonical field, ignored headers) for ``headers``."""
    candidates: list[tuple[int, int, RecordKind, dict[int, str], list[str]]] = []
    kinds = [fm.kind] if fm.kind else list(_KIND_ORDER)
    stem = path.name.lower()
    clashes: dict[RecordKind, tuple[str, str, str]] = {}
    for rank, kind in enumerate(kinds):
        plan: dict[int, str] = {}
        ignored: list[str] = []
        for i, header in enumerate(headers):
            target = fm.canonical_name(header, kind)
            if target is None:
                ignored.append(header)
            elif target in plan.values():
                first = next(headers[j] for j, t in plan.items() if t == target)
                clashes.setdefault(kind, (first, header, target))
                ignored.append(header)
            else:
                plan[i] = target
        present = _with_debit_credit([*plan.values(), *fm.constants])
        if missing_required(kind, present, fm.options):
            continue
        hint = 1 if stem.startswith(kind.value) or stem.startswith(kind.value[:-1]) else 0
        candidates.append((hint, len(plan) - rank, kind, plan, ignored))
    if not candidates:
        shown = ", ".join(repr(h) for h in headers[:12]) or "none"
        detail = ""
        if fm.kind:
            targets = [fm.canonical_name(h, fm.kind) for h in headers]
            have = _with_debit_credit([t for t in targets if t] + list(fm.constants))
            detail = f"; missing {', '.join(missing_required(fm.kind, have, fm.options))}"
        raise IngestError(
            f"{path}: cannot tell which records these columns hold ({shown}){detail}; "
            "name the columns in a mapping file (--mapping)"
        )
    candidates.sort(key=lambda c: (c[0], c[1]), reverse=True)
    _, _, kind, plan, ignored = candidates[0]
    if kind in clashes:
        # Keeping the first of two amount columns silently loaded whichever came first.
        first, second, target = clashes[kind]
        raise IngestError(
            f"{path}: columns {first!r} and {second!r} both map to {target}; map one of them "
            'to another field or to "ignore" in the mapping'
        )
    return kind, plan, ignored


def finish_frame(frame: pl.DataFrame, fm: FileMapping) -> pl.DataFrame:
    """Apply constants, value maps and the debit/credit merge to a canonical text frame."""
    extra = [
        pl.lit(v, dtype=pl.Utf8).alias(k) for k, v in fm.constants.items() if k not in frame.columns
    ]
    if extra:
        frame = frame.with_columns(extra)
    for field_name, mapping in fm.values.items():
        if field_name in frame.columns:
            frame = frame.with_columns(
                pl.col(field_name).cast(pl.Utf8).replace(mapping).alias(field_name)
            )
    if "debit" in frame.columns or "credit" in frame.columns:
        debit = (
            pl.col("debit").cast(pl.Utf8).str.strip_chars().str.strip_chars("-+").replace("", None)
            if "debit" in frame.columns
            else pl.lit(None, pl.Utf8)
        )
        credit = (
            pl.col("credit").cast(pl.Utf8).str.strip_chars().replace("", None)
            if "credit" in frame.columns
            else pl.lit(None, pl.Utf8)
        )
        if "amount" not in frame.columns and "amount_minor" not in frame.columns:
            frame = frame.with_columns(
                pl.when(debit.is_not_null())
                .then(pl.lit("-") + debit)
                .otherwise(credit)
                .alias("amount")
            )
        frame = frame.drop([c for c in ("debit", "credit") if c in frame.columns])
    return frame


def _sniff_delimiter(lines: list[str], forced: str | None) -> str:
    if forced:
        return forced
    best, best_score = ",", -1
    for delim in _DELIMITERS:
        counts = [next(csv.reader([ln], delimiter=delim), []).__len__() for ln in lines[:20] if ln]
        if not counts or counts[0] < 2:
            continue
        score = sum(1 for c in counts if c == counts[0]) * 10 + counts[0]
        if score > best_score:
            best, best_score = delim, score
    return best


@readers.register("csv")
class CsvReader(Reader):
    """Delimited text with a header row; delimiter, encoding and decimal mark are inferred."""

    name = "csv"

    def sniff(self, head: bytes, path: Path) -> float:
        if head.startswith(b"PAR1") or head.lstrip().startswith((b"{", b"<", b"OFXHEADER")):
            return 0.0
        text = decode(head).text
        lines = [ln for ln in text.splitlines()[:10] if ln.strip()]
        if not lines:
            return 0.0
        delim = _sniff_delimiter(lines, None)
        if delim not in lines[0]:
            return 0.0
        bonus = 0.2 if path.suffix.lower() in {".csv", ".tsv", ".txt"} else 0.0
        return 0.3 + bonus

    def read(self, path: Path, mapping: Mapping, batch_size: int) -> Iterator[Chunk]:
        fm = mapping.for_file(path)
        source = str(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise IngestError(f"{path}: {exc}") from exc
        if fm.encoding is None and not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            # Clean UTF-8 goes straight to the native reader; the decode below would copy it.
            body = raw[len(codecs.BOM_UTF8) :] if raw.startswith(codecs.BOM_UTF8) else raw
            head = decode(body[:65536]).text.splitlines()
            first = next((ln for ln in head if ln.strip()), None)
            if first is not None and first == head[0]:
                delim = _sniff_delimiter([ln for ln in head if ln.strip()], fm.delimiter)
                names_row = next(csv.reader([first], delimiter=delim))
                fast = _polars_rows(body, delim, names_row, 1)
                if fast is not None:
                    kind, plan, _ = plan_columns(names_row, fm, path)
                    indices = sorted(plan)
                    yield from self._fast_chunks(
                        fast,
                        kind,
                        indices,
                        [plan[i] for i in indices],
                        1,
                        source,
                        fm,
                        [],
                        batch_size,
                    )
                    return
        try:
            decoded = decode(raw, fm.encoding)
        except UnicodeError as exc:
            raise IngestError(f"{path}: {exc}") from exc
        text = decoded.text
        first_lines = text[:65536].splitlines()
        delim = _sniff_delimiter([ln for ln in first_lines if ln.strip()], fm.delimiter)
        csv.field_size_limit(_MAX_FIELD)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
        header: list[str] | None = None
        header_line = 0
        try:
            for row in reader:
                if any(cell.strip() for cell in row):
                    header, header_line = row, reader.line_num
                    break
        except csv.Error as exc:
            raise IngestError(f"{path}: line {reader.line_num}: unreadable header: {exc}") from exc
        if header is None:
            raise IngestError(f"{path}: the file is empty")
        kind, plan, _ignored = plan_columns(header, fm, path)
        indices = sorted(plan)
        names = [plan[i] for i in indices]
        width = len(header)
        notes = [f"{decoded.note}"] if decoded.note else []
        fast = _polars_rows(text.encode("utf-8"), delim, header, header_line)
        if fast is not None:
            yield from self._fast_chunks(
                fast, kind, indices, names, header_line, source, fm, notes, batch_size
            )
            return
        careful = self._careful_chunks(
            reader, kind, indices, names, width, header_line, delim, source, fm, notes, batch_size
        )
        yield from settle_chunks(list(careful), source)

    def _careful_chunks(
        self,
        reader: Any,
        kind: RecordKind,
        indices: list[int],
        names: list[str],
        width: int,
        header_line: int,
        delim: str,
        source: str,
        fm: FileMapping,
        notes: list[str],
        batch_size: int,
    ) -> Iterator[Chunk]:
        """Row by row with the csv module, each malformed or ragged row a reject with its line."""
        rejects: list[Reject] = []
        columns: list[list[str | None]] = [[] for _ in names]
        locations: list[str] = []
        line_start = header_line + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                rejects.append(Reject(source, f"line {line_start}", f"malformed CSV: {exc}"))
                line_start = reader.line_num + 1
                continue
            line = line_start
            line_start = reader.line_num + 1
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) != width:
                rejects.append(
                    Reject(
                        source,
                        f"line {line}",
                        f"expected {width} fields (as in the header), found {len(row)}",
                        None,
                        delim.join(row)[:500],
                    )
                )
                continue
            for col, i in zip(columns, indices, strict=True):
                col.append(row[i])
            locations.append(f"line {line}")
            if len(locations) >= batch_size:
                yield self._chunk(kind, names, columns, locations, source, fm, rejects, notes)
                columns = [[] for _ in names]
                locations, rejects, notes = [], [], []
        if locations or rejects or notes:
            yield self._chunk(kind, names, columns, locations, source, fm, rejects, notes)

    @staticmethod
    def _fast_chunks(
        frame: pl.DataFrame,
        kind: RecordKind,
        indices: list[int],
        names: list[str],
        header_line: int,
        source: str,
        fm: FileMapping,
        notes: list[str],
        batch_size: int,
    ) -> Iterator[Chunk]:
        picked = frame.select([frame.columns[i] for i in indices])
        picked.columns = names
        first = header_line + 1
        picked = picked.with_columns(
            (pl.lit("line ") + pl.int_range(first, first + picked.height).cast(pl.Utf8)).alias(
                LOCATION
            )
        )
        whole = finish_frame(picked, fm)
        # The whole file is in memory: its conventions are decided from all of it at once.
        options = settle(gather(whole, kind, _options(fm)), _options(fm), source)
        for offset in range(0, whole.height, batch_size):
            yield Chunk(
                kind,
                whole.slice(offset, batch_size),
                source,
                dataclasses.replace(options),
                [],
                notes if offset == 0 else [],
            )

    @staticmethod
    def _chunk(
        kind: RecordKind,
        names: list[str],
        columns: list[list[str | None]],
        locations: list[str],
        source: str,
        fm: FileMapping,
        rejects: list[Reject],
        notes: list[str],
    ) -> Chunk:
        data: dict[str, Any] = {
            n: pl.Series(n, c, dtype=pl.Utf8) for n, c in zip(names, columns, strict=True)
        }
        data[LOCATION] = pl.Series(LOCATION, locations, dtype=pl.Utf8)
        frame = finish_frame(pl.DataFrame(data), fm)
        return Chunk(kind, frame, source, _options(fm), list(rejects), list(notes))


def _polars_rows(
    data: bytes, delim: str, header: list[str], header_line: int
) -> pl.DataFrame | None:
    """The file parsed by Polars' native reader, when that parse is provably line-exact.

    Python's csv module finds every malformed row and its line; Polars reads ten times faster
    but cannot say which line a row came from. So Polars is used only when each line after the
    header is exactly one record (no blank lines, no quoted line breaks, no ragged rows, valid
    UTF-8) and it sees the same header; any other file takes the careful path.
    """
    if header_line != 1 or data.count(b"\r") != data.count(b"\r\n"):
        return None
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    try:
        frame = pl.read_csv(
            data,
            separator=delim,
            has_header=True,
            infer_schema=False,
            quote_char='"',
            raise_if_empty=False,
        )
    except (pl.exceptions.PolarsError, ValueError):
        return None
    if list(frame.columns) != header or frame.height + 1 != lines:
        return None
    if _has_short_rows(data, delim, frame):
        return None
    return frame.with_columns(pl.all().fill_null(""))


def _has_short_rows(data: bytes, delim: str, frame: pl.DataFrame) -> bool:
    """Whether a row has fewer fields than the header (Polars pads it with nulls; the careful
    path rejects it). A longer row already made Polars fail.

    Without quotes, every delimiter separates fields, so counting them is exact. With quotes, a
    short row ends in a null, so only rows ending in a null (or empty) field are re-read.
    """
    width = frame.width
    if b'"' not in data:
        return data.count(delim.encode()) != (width - 1) * (frame.height + 1)
    suspects = frame[frame.columns[-1]].is_null().arg_true().to_list()
    if not suspects:
        return False
    lines = data.split(b"\n")
    for index in suspects:
        line = lines[index + 1].decode("utf-8").rstrip("\r")
        if len(next(csv.reader([line], delimiter=delim), [])) != width:
            return True
    return False


def _options(fm: FileMapping) -> SourceOptions:
    o = fm.options
    return SourceOptions(
        decimal=o.decimal,
        timezone=o.timezone,
        currency=o.currency,
        date_format=o.date_format,
        day_first=o.day_first,
    )


@readers.register("jsonl")
class JsonLinesReader(Reader):
    """One JSON object per line: behavioural event feeds, and records of any kind."""

    name = "jsonl"

    def sniff(self, head: bytes, path: Path) -> float:
        text = decode(head).text.lstrip()
        if not text.startswith("{"):
            return 0.0
        first = text.split("\n", 1)[0].strip()
        try:
            return 0.8 if isinstance(json.loads(first), dict) else 0.0
        except ValueError:
            return 0.2 if path.suffix.lower() in {".jsonl", ".ndjson", ".json"} else 0.0

    def read(self, path: Path, mapping: Mapping, batch_size: int) -> Iterator[Chunk]:
        fm = mapping.for_file(path)
        source = str(path)
        try:
            decoded = decode(path.read_bytes(), fm.encoding)
        except (OSError, UnicodeError) as exc:
            raise IngestError(f"{path}: {exc}") from exc
        text = decoded.text
        fast = _polars_lines(text)
        if fast is not None:
            try:
                kind, plan, _ = plan_columns(list(fast.columns), fm, path)
            except IngestError:
                pass
            else:
                picked = fast.select([fast.columns[i] for i in sorted(plan)])
                picked.columns = [plan[i] for i in sorted(plan)]
                yield from CsvReader._fast_chunks(
                    picked,
                    kind,
                    list(range(picked.width)),
                    list(picked.columns),
                    0,
                    source,
                    fm,
                    [decoded.note] if decoded.note else [],
                    batch_size,
                )
                return
        yield from settle_chunks(list(self._careful_chunks(text, path, fm, batch_size)), source)

    def _careful_chunks(
        self, text: str, path: Path, fm: FileMapping, batch_size: int
    ) -> Iterator[Chunk]:
        """Line by line, each line that is not a JSON object a reject with its line."""
        source = str(path)
        records: list[dict[str, Any]] = []
        locations: list[str] = []
        rejects: list[Reject] = []
        plan_cache: dict[tuple[str, ...], tuple[RecordKind, dict[int, str]]] = {}
        current_kind: RecordKind | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                rejects.append(
                    Reject(source, f"line {number}", f"not valid JSON: {exc}", None, line[:500])
                )
                continue
            if not isinstance(obj, dict):
                rejects.append(
                    Reject(source, f"line {number}", "not a JSON object", None, line[:500])
                )
                continue
            keys = tuple(obj)
            if keys not in plan_cache:
                try:
                    kind, plan, _ = plan_columns(list(keys), fm, path)
                except IngestError as exc:
                    rejects.append(
                        Reject(
                            source, f"line {number}", str(exc).split(": ", 1)[-1], None, line[:500]
                        )
                    )
                    continue
                plan_cache[keys] = (kind, plan)
            kind, plan = plan_cache[keys]
            if current_kind is not None and kind != current_kind and locations:
                yield self._chunk(current_kind, records, locations, source, fm, rejects)
                records, locations, rejects = [], [], []
            current_kind = kind
            record = {plan[i]: _as_text(obj[k]) for i, k in enumerate(keys) if i in plan}
            if surrogate := _lone_surrogate(record):
                rejects.append(
                    Reject(source, f"line {number}", surrogate[1], surrogate[0], line[:500])
                )
                continue
            records.append(record)
            locations.append(f"line {number}")
            if len(locations) >= batch_size:
                yield self._chunk(kind, records, locations, source, fm, rejects)
                records, locations, rejects = [], [], []
        if current_kind is None:
            if not rejects:
                raise IngestError(f"{path}: the file holds no JSON records")
            current_kind = fm.kind or RecordKind.EVENT
        if locations or rejects:
            yield self._chunk(current_kind, records, locations, source, fm, rejects)

    @staticmethod
    def _chunk(
        kind: RecordKind,
        records: list[dict[str, Any]],
        locations: list[str],
        source: str,
        fm: FileMapping,
        rejects: list[Reject],
    ) -> Chunk:
        names = sorted({k for r in records for k in r})
        data = {n: pl.Series(n, [r.get(n) for r in records], dtype=pl.Utf8) for n in names}
        data[LOCATION] = pl.Series(LOCATION, locations, dtype=pl.Utf8)
        return Chunk(
            kind, finish_frame(pl.DataFrame(data), fm), source, _options(fm), list(rejects)
        )


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate(record: dict[str, str | None]) -> tuple[str, str] | None:
    """(field, reason) of the first value holding a lone UTF-16 surrogate (JSON ``"\\ud800"``).

    Such a string is not text (it has no UTF-8 form): no store can hold it, so its line is
    rejected rather than altered.
    """
    for name, value in record.items():
        if value is not None and (found := _SURROGATE.search(value)):
            code = f"\\u{ord(found.group()):04x}"
            return name, f"holds a lone UTF-16 surrogate ({code}), which is not a character"
    return None


def _polars_lines(text: str) -> pl.DataFrame | None:
    """Every line one JSON object, read natively, all values as text (nested ones as JSON).

    Like the CSV fast path, used only when it is line-exact; anything else (a bad line, a blank
    line, a line that is not an object) takes the careful path, which reports each line.
    """
    if not text.strip() or "\n\n" in text.replace("\r\n", "\n").strip("\n"):
        return None
    if _SURROGATE_ESCAPE.search(text):
        return None  # Polars reads a lone surrogate escape as NUL: the careful path rejects it
    lines = text.strip("\n").count("\n") + 1
    data = text.encode("utf-8")
    try:
        keys = pl.read_ndjson(io.BytesIO(data), infer_schema_length=None).columns
        frame = pl.read_ndjson(io.BytesIO(data), schema=dict.fromkeys(keys, pl.String))
    except (pl.exceptions.PolarsError, ValueError, OverflowError):
        return None
    if frame.height != lines or not keys:
        return None
    return frame


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


@readers.register("parquet")
class ParquetReader(Reader):
    """Parquet files, read in row slices so a large file loads in bounded memory."""

    name = "parquet"

    def sniff(self, head: bytes, path: Path) -> float:
        return 1.0 if head.startswith(b"PAR1") else 0.0

    def read(self, path: Path, mapping: Mapping, batch_size: int) -> Iterator[Chunk]:
        fm = mapping.for_file(path)
        source = str(path)
        try:
            schema = pl.read_parquet_schema(path)
            total = pl.scan_parquet(path).select(pl.len()).collect().item()
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise IngestError(f"{path}: not a readable Parquet file: {exc}") from exc
        kind, plan, _ = plan_columns(list(schema), fm, path)
        source_names = list(schema)
        rename = {source_names[i]: target for i, target in plan.items()}
        options = _parquet_options(path, schema, rename, kind, fm)
        for offset in range(0, max(int(total), 0), batch_size):
            try:
                part = (
                    pl.scan_parquet(path).slice(offset, batch_size).select(list(rename)).collect()
                )
            except pl.exceptions.PolarsError as exc:
                yield Chunk(
                    kind,
                    pl.DataFrame(),
                    source,
                    dataclasses.replace(options),
                    [
                        Reject(
                            source,
                            f"rows {offset + 1}-{offset + batch_size}",
                            f"unreadable Parquet row group: {exc}",
                        )
                    ],
                )
                continue
            part = part.rename(rename).with_columns(
                (
                    pl.lit("row ")
                    + (pl.int_range(offset + 1, offset + 1 + part.height).cast(pl.Utf8))
                ).alias(LOCATION)
            )
            yield Chunk(kind, finish_frame(part, fm), source, dataclasses.replace(options), [])


_DECIDING = frozenset({"amount", "balance", "credit_limit", "balance_after", "debit", "credit"})


def _parquet_options(
    path: Path, schema: Any, rename: dict[str, str], kind: RecordKind, fm: FileMapping
) -> SourceOptions:
    """The file's conventions from its text money and date columns, read whole (only those
    columns; typed columns need no decision and are not read twice)."""
    dates = {s.name for s in fields_of(kind) if s.type in (FieldType.TIMESTAMP, FieldType.DATE)}
    wanted = [
        src
        for src, target in rename.items()
        if (target in _DECIDING or target in dates) and schema[src] == pl.Utf8
    ]
    options = _options(fm)
    if not wanted:
        return settle(Evidence(), options, str(path))
    extra = [src for src, target in rename.items() if target == "currency"]
    try:
        frame = pl.read_parquet(path, columns=[*wanted, *extra])
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise IngestError(f"{path}: not a readable Parquet file: {exc}") from exc
    frame = finish_frame(frame.rename({c: rename[c] for c in frame.columns}), fm)
    return settle(gather(frame, kind, options), options, str(path))
