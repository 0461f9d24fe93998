"""Streaming file sinks: each table is written chunk by chunk into one file.

Same input, same bytes: CSV is written by Polars with a fixed column order; Parquet by one
``pyarrow.parquet.ParquetWriter`` per file with fixed settings (zstd level 1, row groups of a
fixed size, fixed schema), so no timestamp of "now" or run-dependent metadata enters the files.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Protocol

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]


def _prepare(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Columns in schema order and types; empty text becomes null (an empty CSV field)."""
    frame = frame.select(list(schema)).cast(schema)  # type: ignore[arg-type]
    text = [c for c, t in schema.items() if t == pl.Utf8]
    return frame.with_columns(pl.col(text).replace("", None)) if text else frame


class Sink(Protocol):
    def write(self, frame: pl.DataFrame) -> None: ...

    def close(self) -> None: ...


class CsvSink:
    """UTF-8, comma-separated, header once, ``\\n`` line ends."""

    def __init__(self, path: Path, schema: dict[str, pl.DataType]) -> None:
        self.path, self.schema = path, schema
        self._fh: IO[bytes] = path.open("wb")
        self._header = True

    def write(self, frame: pl.DataFrame) -> None:
        _prepare(frame, self.schema).write_csv(
            self._fh, include_header=self._header, line_terminator="\n"
        )
        self._header = False

    def close(self) -> None:
        if self._header:
            pl.DataFrame(schema=self.schema).write_csv(self._fh, include_header=True)
        self._fh.close()


_UNIQUE = frozenset(
    {"transaction_id", "description", "booked_at", "balance_as_of", "created_at", "at", "event_id"}
)


class ParquetSink:
    """Row groups of a fixed number of rows, so the file does not depend on the chunk size."""

    ROW_GROUP = 1 << 17

    def __init__(self, path: Path, schema: dict[str, pl.DataType]) -> None:
        self.path, self.schema = path, schema
        self._buffer: list[pa.Table] = []
        self._buffered = 0
        self._arrow = pl.DataFrame(schema=schema).to_arrow().schema
        # Dictionary-encode only repetitive text; ids, descriptors and timestamps are unique.
        dictionary = [c for c, t in schema.items() if t == pl.Utf8 and c not in _UNIQUE]
        self._writer = pq.ParquetWriter(
            str(path),
            self._arrow,
            compression="zstd",
            compression_level=1,
            write_statistics=True,
            use_dictionary=dictionary,
            version="2.6",
        )

    def write(self, frame: pl.DataFrame) -> None:
        # Buffered as Arrow, which copies the text into compact buffers of its own. A Polars
        # string column made by a gather or a filter only points into its source's buffers: a
        # few thousand buffered rows of a small table (series members) kept every chunk's
        # transaction ids alive until the row group filled, ~15 MB a chunk.
        table = _prepare(frame, self.schema).to_arrow()
        if table.schema != self._arrow:
            table = table.cast(self._arrow)
        self._buffer.append(table)
        self._buffered += table.num_rows
        while self._buffered >= self.ROW_GROUP:
            self._flush(self.ROW_GROUP)

    def _flush(self, n: int) -> None:
        whole = pa.concat_tables(self._buffer) if len(self._buffer) > 1 else self._buffer[0]
        head, rest = whole.slice(0, n), whole.slice(n)
        self._buffer = [rest] if rest.num_rows else []
        self._buffered = rest.num_rows
        self._writer.write_table(head, row_group_size=n)

    def close(self) -> None:
        if self._buffered:
            self._flush(self._buffered)
        self._writer.close()


class LinesSink:
    """JSON Lines: one pre-rendered JSON object per line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[bytes] = path.open("wb")

    def write_lines(self, lines: pl.Series) -> None:
        if len(lines):
            pl.DataFrame({"line": lines}).write_csv(
                self._fh, include_header=False, quote_style="never", line_terminator="\n"
            )

    def close(self) -> None:
        self._fh.close()


def open_sink(path: Path, fmt: str, schema: dict[str, pl.DataType]) -> Sink:
    if fmt == "parquet":
        return ParquetSink(path.with_suffix(".parquet"), schema)
    return CsvSink(path.with_suffix(".csv"), schema)
