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
from tactful.ingest.csv_statement import check_chunks, running_balance, statement_mapping
from tactful.ingest.decode import decode
from tactful.ingest.layout import (
    HEAD_ROWS,
    find_header,
    infer_columns,
    is_section_row,
    is_summary_row,
    sniff_delimiter,
)
from tactful.ingest.mapping import FileMapping, Mapping, alias_rank, normalize_header
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
from tactful.ingest.signs import apply_sign, merge_debit_credit
from tactful.ingest.validate import missing_required

_KIND_ORDER = (
    RecordKind.TRANSACTION,
    RecordKind.EVENT,
    RecordKind.CONSENT,
    RecordKind.ACCOUNT,
    RecordKind.CUSTOMER,
    RecordKind.PRODUCT,
)
_MAX_FIELD = 1 << 20


class ColumnClashError(IngestError):
    """Two columns of a header that is otherwise readable map to one field."""


def _with_debit_credit(columns: Sequence[str]) -> list[str]:
    have = list(columns)
    pair = "debit" in have or "credit" in have
    if "amount" not in have and "amount_minor" not in have and pair:
        have.append("amount")
    return have


def plan_columns(
    headers: Sequence[str],
    fm: FileMapping,
    path: Path,
    *,
    supplied: frozenset[str] = frozenset(),
) -> tuple[RecordKind, dict[int, str], list[str]]:
    """(kind, source column index -> canonical field, ignored headers) for ``headers``.

    ``supplied``: transaction fields the reader can give a file that has no column for them
    (a statement's account and currency, see ``csv_statement.py``); they make a transaction
    file plannable, never a file of another kind.
    """
    candidates: list[tuple[int, int, RecordKind, dict[int, str], list[str]]] = []
    kinds = [fm.kind] if fm.kind else list(_KIND_ORDER)
    stem = path.name.lower()
    clashes: dict[RecordKind, tuple[str, str, str]] = {}
    for rank, kind in enumerate(kinds):
        plan: dict[int, str] = {}
        ignored: list[str] = []
        currencies: list[int] = []
        for i, header in enumerate(headers):
            target = fm.canonical_name(header, kind)
            if target == "currency":
                currencies.append(i)
            if target in _SECONDS and target in plan.values():
                target = _SECONDS[target](plan, headers, i, fm)
            if target is None:
                ignored.append(header)
            elif target in plan.values():
                if target != "currency":
                    first = next(headers[j] for j, t in plan.items() if t == target)
                    clashes.setdefault(kind, (first, header, target))
                ignored.append(header)
            else:
                plan[i] = target
        if len(currencies) > 1:
            _pick_currency(plan, currencies)
        extra = supplied if kind is RecordKind.TRANSACTION else frozenset()
        present = _with_debit_credit([*plan.values(), *fm.constants, *extra])
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
        raise ColumnClashError(
            f"{path}: columns {first!r} and {second!r} both map to {target}; map one of them "
            'to another field or to "ignore" in the mapping'
        )
    return kind, plan, ignored


def _named(plan: dict[int, str], headers: Sequence[str], i: int, fm: FileMapping,
           target: str) -> tuple[int, bool, bool]:
    """(the column ``target`` is planned on, whether the mapping names it, whether it names
    column ``i``)."""
    first = next(j for j, t in plan.items() if t == target)
    return first, normalize_header(headers[first]) in fm.columns, \
        normalize_header(headers[i]) in fm.columns


def _yield_to_named(plan: dict[int, str], first: int, first_named: bool, this_named: bool,
                    target: str) -> tuple[bool, str | None]:
    """(decided, the second column's field). Where the mapping names one of the two columns,
    it has the field and the other is left out; where it names both, they clash (refused,
    naming both); where it names neither, the defaults decide (not decided here)."""
    if first_named and this_named:
        return True, target
    if first_named:
        return True, None
    if this_named:
        del plan[first]
        return True, target
    return False, None


def _second_date(
    plan: dict[int, str], headers: Sequence[str], i: int, fm: FileMapping
) -> str | None:
    """What a second column named like a booking date is, by default: a "Time" beside a
    "Date" is the date's clock time (left out), and a posting date beside a transaction
    date (a card export's "Transaction Date" and "Posted Date", a card's "Belegdatum" and
    "Buchungsdatum"), before or after it, is the value date. Any other second date still
    clashes (refused, naming both), as a column the mapping names does with another it
    names."""
    first, first_named, this_named = _named(plan, headers, i, fm, "booked_at")
    decided, named = _yield_to_named(plan, first, first_named, this_named, "booked_at")
    if decided:
        return named
    if normalize_header(headers[first]) in _CLOCK:
        del plan[first]
        return "booked_at"
    if normalize_header(headers[i]) in _CLOCK:
        return None
    if "value_at" not in plan.values():
        if normalize_header(headers[i]) in _POSTING:
            return "value_at"
        if normalize_header(headers[first]) in _POSTING:  # "Posted Date" before the other
            plan[first] = "value_at"
            return "booked_at"
    return "booked_at"


_CLOCK = frozenset({"time", "datetime", "timestamp"})
"""Headers of the same moment as a date column, with its clock time (Wise: Date and Date Time)."""
_POSTING = frozenset(
    {"posteddate", "postingdate", "buchungsdatum", "buchungstag", "datumzauctovani"}
)
"""Headers of the day a card payment was posted, beside the day it was made."""


def _second_value_date(
    plan: dict[int, str], headers: Sequence[str], i: int, fm: FileMapping
) -> str | None:
    """A second column named like a value date (``Value Date`` beside ``Settlement Date``) is
    left out: it moves no money, and refusing the file would lose every row. Unless the
    mapping names it."""
    first, first_named, this_named = _named(plan, headers, i, fm, "value_at")
    return _yield_to_named(plan, first, first_named, this_named, "value_at")[1]


def _second_text(
    plan: dict[int, str], headers: Sequence[str], i: int, fm: FileMapping
) -> str | None:
    """Of two columns named like a description, the one whose name is the likelier home of the
    text is the description (``mapping.alias_rank``); the other is the counterparty when it is
    a ``Name`` and none is mapped (bunq: Name and Description), else left out. A wrong choice
    here moves no money, where refusing the file loses it all. Where the mapping names one of
    them, it is the description."""
    first, first_named, this_named = _named(plan, headers, i, fm, "description")
    decided, named = _yield_to_named(plan, first, first_named, this_named, "description")
    if decided:
        return named

    def role(header: str) -> str | None:
        payee = normalize_header(header) == "name" and "counterparty" not in plan.values()
        return "counterparty" if payee else None

    if alias_rank("description", headers[i]) >= alias_rank("description", headers[first]):
        return role(headers[i])
    del plan[first]
    if (other := role(headers[first])) is not None:
        plan[first] = other
    return "description"


_SECONDS = {"booked_at": _second_date, "value_at": _second_value_date,
            "description": _second_text}
"""A second column for one of these fields is resolved, not refused (see each)."""


def _pick_currency(plan: dict[int, str], columns: list[int]) -> None:
    """Of several currency columns (ING Germany: ``Saldo;Währung;Betrag;Währung``), keep the
    one beside the amount: each names the currency of the number before it."""
    amount = next((i for i, t in plan.items() if t in ("amount", "debit", "credit")), None)
    for i in columns:
        plan.pop(i, None)
    chosen = columns[0]
    if amount is not None:
        chosen = min(columns, key=lambda i: (abs(i - amount), i < amount))
    plan[chosen] = "currency"


def finish_frame(frame: pl.DataFrame, fm: FileMapping) -> pl.DataFrame:
    """Apply constants, value maps and the debit/credit merge to a canonical text frame."""
    extra = [
        pl.lit(v, dtype=pl.Utf8).alias(k) for k, v in fm.constants.items() if k not in frame.columns
    ]
    if extra:
        frame = frame.with_columns(extra)
    for field_name, mapping in fm.values.items():
        if field_name in frame.columns:
            column = pl.col(field_name).cast(pl.Utf8).replace(mapping)
            if "" in mapping:  # a blank cell reads as "", " " or null, by reader path
                blank = pl.col(field_name).cast(pl.Utf8).str.strip_chars().fill_null("") == ""
                column = pl.when(blank).then(pl.lit(mapping[""])).otherwise(column)
            frame = frame.with_columns(column.alias(field_name))
    # Signs before merging: a sign column applies to an amount column, never to a pair.
    return merge_debit_credit(apply_sign(frame))




@readers.register("csv")
class CsvReader(Reader):
    """Delimited text: delimiter, encoding, decimal mark, a preamble before the header, or no
    header at all, are inferred (``ingest/layout.py``)."""

    name = "csv"

    def sniff(self, head: bytes, path: Path) -> float:
        if head.startswith(b"PAR1") or head.lstrip().startswith((b"{", b"<", b"OFXHEADER")):
            return 0.0
        text = decode(head).text
        lines = [ln for ln in text.splitlines()[:HEAD_ROWS] if ln.strip()]
        if not lines:
            return 0.0
        delim = sniff_delimiter(lines, None)
        if sum(1 for ln in lines if delim in ln) < min(2, len(lines)):
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
                delim = sniff_delimiter([ln for ln in head if ln.strip()], fm.delimiter)
                rows = _head_rows(head, delim)
                planned = _plan_or_none(rows[0], fm, path)
                fast = _polars_rows(body, delim, rows[0], 1) if planned else None
                if planned and fast is not None:
                    kind, plan = planned
                    fm_file, plan, notes = statement_mapping(
                        kind, plan, rows[0], rows[1:], [], path, fm
                    )
                    indices = sorted(plan)
                    yield from self._fast_chunks(
                        fast,
                        kind,
                        indices,
                        [plan[i] for i in indices],
                        1,
                        source,
                        fm_file,
                        notes,
                        batch_size,
                    )
                    return
        try:
            decoded = decode(raw, fm.encoding)
        except UnicodeError as exc:
            raise IngestError(f"{path}: {exc}") from exc
        text = decoded.text
        first_lines = text[:65536].splitlines()
        delim = sniff_delimiter([ln for ln in first_lines if ln.strip()], fm.delimiter)
        csv.field_size_limit(_MAX_FIELD)
        located = _located_rows(text, delim, HEAD_ROWS)
        if not located:
            raise IngestError(f"{path}: the file is empty")
        head_rows = [r for _, r in located]
        notes = [f"{decoded.note}"] if decoded.note else []
        at = find_header(head_rows, lambda r: _plan_or_none(r, fm, path) is not None)
        if at is None:
            header, kind, plan, skip_to, inferred = _headerless(head_rows, fm, path)
            notes += inferred
            preamble: list[list[str]] = []
        else:
            header, skip_to = head_rows[at], located[at][0]
            preamble = head_rows[:at]
            kind, plan, _ = plan_columns(header, fm, path, supplied=STATEMENT_SUPPLIED)
            if at:
                notes.append(f"skipped {at} preamble row(s) before the header on line {skip_to}")
        fm, plan, more = statement_mapping(
            kind, plan, header, head_rows[at + 1 if at is not None else 0 :], preamble, path, fm
        )
        notes += more
        indices = sorted(plan)
        names = [plan[i] for i in indices]
        fast = _polars_rows(text.encode("utf-8"), delim, header, skip_to) if at == 0 else None
        if fast is not None:
            yield from self._fast_chunks(
                fast, kind, indices, names, skip_to, source, fm, notes, batch_size
            )
            return
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
        try:
            while reader.line_num < skip_to:
                next(reader)
        except (StopIteration, csv.Error) as exc:
            raise IngestError(f"{path}: line {reader.line_num}: unreadable header: {exc}") from exc
        careful = self._careful_chunks(
            reader, kind, indices, names, header, skip_to, delim, source, fm, notes, batch_size
        )
        chunks = settle_chunks(list(careful), source)
        yield from check_chunks(chunks, fm, source)

    def _careful_chunks(
        self,
        reader: Any,
        kind: RecordKind,
        indices: list[int],
        names: list[str],
        header: list[str],
        header_line: int,
        delim: str,
        source: str,
        fm: FileMapping,
        notes: list[str],
        batch_size: int,
    ) -> Iterator[Chunk]:
        """Row by row with the csv module, each malformed or ragged row a reject with its line.

        Tolerated without a reject, and counted in a note: a trailing delimiter (a row longer
        than the header by empty cells), header cells without a name at the end, rows short of
        columns nothing reads, section and note rows, and (in transaction files) opening,
        closing, turnover and total rows.
        """
        width = len(header)
        named = max((i + 1 for i, h in enumerate(header) if h.strip()), default=width)
        needed = max(indices, default=-1) + 1
        statement = kind is RecordKind.TRANSACTION
        skipped: dict[str, list[int]] = {"summary": [], "section": [], "short": []}
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
            if len(row) > width and not any(c.strip() for c in row[width:]):
                row = row[:width]
            if statement and is_section_row(row, width):
                skipped["section"].append(line)
                continue
            if len(row) < width and len(row) >= named:
                row = row + [""] * (width - len(row))
            elif len(row) < width and len(row) >= needed and statement:
                skipped["short"].append(line)
                row = row + [""] * (width - len(row))
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
            if statement and is_summary_row(row):
                skipped["summary"].append(line)
                continue
            for col, i in zip(columns, indices, strict=True):
                col.append(row[i])
            locations.append(f"line {line}")
            if len(locations) >= batch_size:
                yield self._chunk(kind, names, columns, locations, source, fm, rejects, notes)
                columns = [[] for _ in names]
                locations, rejects, notes = [], [], []
        notes = notes + _skipped_notes(skipped)
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
        whole, more = running_balance(whole, kind, options, source, fm.on_balance_mismatch)
        notes = notes + more
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


STATEMENT_SUPPLIED = frozenset({"account_id", "currency"})


def _plan_or_none(
    row: Sequence[str], fm: FileMapping, path: Path
) -> tuple[RecordKind, dict[int, str]] | None:
    try:
        kind, plan, _ = plan_columns(row, fm, path, supplied=STATEMENT_SUPPLIED)
    except IngestError:
        return None
    return kind, plan


def _head_rows(lines: list[str], delim: str) -> list[list[str]]:
    """The first rows of a file, parsed (quoted line breaks may split one; it is a sample)."""
    sample = [ln for ln in lines[: HEAD_ROWS * 4] if ln.strip()][: HEAD_ROWS * 4]
    try:
        return [r for r in csv.reader(sample, delimiter=delim)]
    except csv.Error:
        return [next(csv.reader([ln], delimiter=delim), []) for ln in sample]


def _located_rows(text: str, delim: str, limit: int) -> list[tuple[int, list[str]]]:
    """(line the row ends on, row) for the first ``limit * 4`` non-blank rows."""
    reader = csv.reader(io.StringIO(text[: 1 << 20], newline=""), delimiter=delim)
    out: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if any(c.strip() for c in row):
                out.append((reader.line_num, row))
                if len(out) >= limit * 4:
                    break
    except csv.Error:
        pass
    return out


def _headerless(
    rows: list[list[str]], fm: FileMapping, path: Path
) -> tuple[list[str], RecordKind, dict[int, str], int, list[str]]:
    """(synthesized header, kind, plan, line before the data, notes) of a file without a
    header, its columns recognized from their content; columns the mapping names as
    ``"column 3"`` win over what was recognized."""
    fields, notes = infer_columns(rows)
    if "booked_at" not in fields or "amount" not in fields:
        for row in rows:
            # A header that reads but for two columns of one field was no header to
            # ``find_header``: say so, not that no column was recognized.
            try:
                plan_columns(row, fm, path, supplied=STATEMENT_SUPPLIED)
            except ColumnClashError:
                raise
            except IngestError:
                continue
        plan_columns(rows[0], fm, path)  # raises with the columns it saw
        raise IngestError(f"{path}: no header, and no date and amount columns recognized")
    claimed = {
        fm.columns[key]
        for i in range(len(fields))
        if (key := normalize_header(f"column {i + 1}")) in fm.columns
    }
    header = [
        f if f is not None and f not in claimed else f"column {i + 1}"
        for i, f in enumerate(fields)
    ]
    kind, plan, _ = plan_columns(header, fm, path, supplied=STATEMENT_SUPPLIED)
    return header, kind, plan, 0, notes


def _skipped_notes(skipped: dict[str, list[int]]) -> list[str]:
    what = {
        "summary": "opening/closing balance, turnover or total row(s) skipped",
        "section": "section or note row(s) skipped",
        "short": "row(s) shorter than the header, missing only columns nothing reads",
    }
    return [
        f"{len(lines)} {what[key]} (line {', '.join(map(str, lines[:5]))}"
        + (", ..." if len(lines) > 5 else "")
        + ")"
        for key, lines in skipped.items()
        if lines
    ]


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
    edges = pl.concat([frame.head(3), frame.tail(3)]).fill_null("").rows()
    if any(is_summary_row(row) for row in edges):
        # an opening or closing balance row (BancoPosta's "SALDO FINALE" was stored as a
        # payment of 28,359.05): the careful path skips those; they stand first or last
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


_PARQUET_ERRORS = (pl.exceptions.PolarsError, pl.exceptions.PanicException)
"""A damaged Parquet file can make Polars panic (an assertion in its decoder, seen with Polars
2.2 on a file with bytes inserted) instead of raising: that is an unreadable row group too."""


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
        except (OSError, *_PARQUET_ERRORS) as exc:
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
            except _PARQUET_ERRORS as exc:
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
