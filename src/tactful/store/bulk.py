"""Fast, idempotent writes of whole frames, one strategy per backend.

Row-by-row ORM inserts manage a few thousand rows a second; a bank export has millions. SQLite
gets one prepared ``executemany`` inside the caller's transaction; PostgreSQL gets ``COPY`` into a
temporary staging table and one ``INSERT ... SELECT ... ON CONFLICT``. Both use the same conflict
rules, so idempotency does not depend on the backend:

* append-only tables (transactions, events, consents): ``ON CONFLICT DO NOTHING`` -- a row already
  loaded is a duplicate, never an overwrite;
* entity tables (customers, accounts, products): an upsert that only fills what the new row
  knows (``COALESCE(excluded.x, t.x)``) and only touches a row that actually changes, so a
  statement that knows nothing of the owner does not erase the link an accounts file made.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, Table, func, select

from tactful.errors import StoreError

_SQLITE_TS = "%Y-%m-%d %H:%M:%S%.6f"
_PG_TS = "%Y-%m-%d %H:%M:%S%.6f+00:00"


@dataclass(frozen=True, slots=True)
class WriteResult:
    inserted: int = 0
    updated: int = 0
    duplicates: int = 0
    differing: pl.DataFrame | None = None
    """With ``compare``: the stored key and compared columns of each duplicate whose compared
    columns differ from the frame's (a re-export that corrects an amount)."""


def _db_ready(frame: pl.DataFrame, dialect: str) -> pl.DataFrame:
    """Datetimes and dates as the text each backend parses; everything else as is."""
    ts_format = _SQLITE_TS if dialect == "sqlite" else _PG_TS
    exprs = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            exprs.append(
                pl.col(name).dt.convert_time_zone("UTC").dt.strftime(ts_format).alias(name)
            )
        elif dtype == pl.Date:
            exprs.append(pl.col(name).dt.strftime("%Y-%m-%d").alias(name))
    return frame.with_columns(exprs) if exprs else frame


# A column only moves forward in time: an older statement re-imported after a newer one must not
# put back an old balance.
_GUARDED_BY = {"accounts": {"balance_minor": "balance_as_of", "balance_as_of": "balance_as_of"}}


def _set_expr(table: str, column: str, present: list[str]) -> str:
    if column == "updated_at":
        return f"{column} = excluded.{column}"
    merged = f"COALESCE(excluded.{column}, {table}.{column})"
    guard = _GUARDED_BY.get(table, {}).get(column)
    if guard and guard in present:
        newer = (
            f"({table}.{guard} IS NULL OR (excluded.{guard} IS NOT NULL "
            f"AND excluded.{guard} >= {table}.{guard}))"
        )
        merged = f"CASE WHEN {newer} THEN {merged} ELSE {table}.{column} END"
    return f"{column} = {merged}"


def _conflict_clause(table: Table, columns: list[str], upsert: bool) -> str:
    keys = [c.name for c in table.primary_key.columns]
    target = ", ".join(keys)
    if not upsert:
        return f"ON CONFLICT ({target}) DO NOTHING"
    name = table.name
    settable = [c for c in columns if c not in keys]
    compared = [c for c in settable if c != "updated_at"]
    if not compared:
        return f"ON CONFLICT ({target}) DO NOTHING"
    assignments = [_set_expr(name, c, columns) for c in settable]
    sets = ", ".join(assignments)
    changed = " OR ".join(
        f"{name}.{c} IS DISTINCT FROM {a.split(' = ', 1)[1]}"
        for c, a in zip(settable, assignments, strict=True)
        if c in compared
    )
    return f"ON CONFLICT ({target}) DO UPDATE SET {sets} WHERE {changed}"


def _count(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _own_columns(table: Table, columns: list[str]) -> None:
    """Refuse a column the table does not have: the SQL below names columns by string, so only
    the schema's own identifiers may reach it (values always go as parameters or through COPY)."""
    unknown = [c for c in columns if c not in table.columns]
    if unknown:
        raise StoreError(f"table {table.name} has no column(s) {unknown}; nothing was written")


def _required(table: Table, column: str) -> bool:
    col = table.columns[column]
    return bool(col.primary_key or (not col.nullable and col.server_default is None))


def write_frame(
    conn: Connection,
    table: Table,
    frame: pl.DataFrame,
    *,
    upsert: bool,
    compare: Sequence[str] = (),
) -> WriteResult:
    """Write ``frame`` (columns named as ``table``'s) inside the caller's transaction.

    ``compare`` (append-only tables): when some keys were already stored, also return the
    stored rows among them whose ``compare`` columns differ from the frame's -- found by one
    join of the batch against the table, and only when the batch met stored keys, so a first
    import pays nothing for it.
    """
    if frame.height == 0:
        return WriteResult()
    _own_columns(table, frame.columns)
    if compare and upsert:
        raise ValueError("compare is for append-only writes")
    dialect = conn.dialect.name
    if not upsert:
        # A column no row fills is left to its default instead of being sent a million NULLs.
        frame = frame.select(
            [
                c
                for c in frame.columns
                if frame[c].null_count() < frame.height or _required(table, c)
            ]
        )
    columns = list(frame.columns)
    before = _count(conn, table) if upsert else 0
    ready = _db_ready(frame, dialect)
    clause = _conflict_clause(table, columns, upsert)
    col_list = ", ".join(columns)
    if dialect == "sqlite":
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table.name} ({col_list}) VALUES ({marks}) {clause}"  # noqa: S608 -- schema identifiers only
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        # Column lists zipped in C build the row tuples several times faster than rows().
        cursor.executemany(sql, zip(*(ready[c].to_list() for c in columns), strict=True))
        touched = max(cursor.rowcount, 0)
        differing = (
            _sqlite_differing(cursor, table, ready, compare)
            if compare and touched < frame.height
            else None
        )
        cursor.close()
    else:
        touched, differing = _copy_and_merge(
            conn, table, ready, col_list, clause, upsert, compare
        )
    if upsert:
        inserted = _count(conn, table) - before
        return WriteResult(
            inserted=inserted, updated=touched - inserted, duplicates=frame.height - touched
        )
    return WriteResult(
        inserted=touched,
        duplicates=frame.height - touched,
        differing=None
        if differing is None
        else _typed(table, _key_and(table, compare), differing, dialect),
    )


def _key_and(table: Table, compare: Sequence[str]) -> list[str]:
    return [*(c.name for c in table.primary_key.columns), *compare]


def _json_text(expr: pl.Expr) -> pl.Expr:
    """``expr`` as a JSON string literal, quotes and escapes included (vectorized)."""
    return pl.struct(expr.alias("s")).struct.json_encode().str.slice(5).str.head(-1)


def _sqlite_differing(
    cursor: Any, table: Table, ready: pl.DataFrame, compare: Sequence[str]
) -> list[tuple[Any, ...]]:
    """Stored rows whose ``compare`` columns differ from the batch's.

    The batch travels as one JSON object, key -> compared values joined by U+001F, built by
    Polars; ``json_each`` walks it and each stored row is found by its primary key and
    compared as one string. Scalar values keep SQLite from re-parsing JSON per row, which
    makes this several times cheaper than fetching the stored rows into Python.
    """
    (key,) = [c.name for c in table.primary_key.columns]
    texts = [pl.col(c).cast(pl.Utf8) for c in (key, *compare)]
    plain = not ready.select(
        pl.any_horizontal([t.str.contains(r'["\\\x00-\x1f]') for t in texts]).any()
    ).item()
    if plain:  # the usual case: nothing to escape, so plain concatenation is valid JSON
        packed = pl.concat_str(texts[1:], separator="\\u001f")
        pairs = pl.concat_str([pl.lit('"'), texts[0], pl.lit('":"'), packed, pl.lit('"')])
    else:
        packed = pl.concat_str(texts[1:], separator="\x1f")
        pairs = pl.concat_str([_json_text(texts[0]), pl.lit(":"), _json_text(packed)])
    payload = "{" + str(ready.select(pairs.str.join(",")).item()) + "}"
    stored = " || char(31) || ".join(f"t.{c}" for c in compare)
    selected = ", ".join(f"t.{c}" for c in _key_and(table, compare))
    sql = (
        f"SELECT {selected} FROM json_each(?) AS j JOIN {table.name} AS t ON t.{key} = j.key "  # noqa: S608 -- schema identifiers only
        f"WHERE ({stored}) IS NOT j.value"
    )
    return list(cursor.execute(sql, (payload,)).fetchall())


def _typed(
    table: Table, columns: list[str], rows: list[tuple[Any, ...]], dialect: str
) -> pl.DataFrame:
    """``rows`` of ``columns`` as a frame; timestamps as ``Datetime("us", "UTC")`` whether the
    driver gave text (SQLite) or aware datetimes (PostgreSQL)."""
    types: dict[str, pl.DataType] = {}
    stamps = []
    for name in columns:
        column_type = table.columns[name].type
        # A TypeDecorator (UtcDateTime) answers for its implementation.
        python = getattr(column_type, "impl_instance", column_type).python_type
        if python is datetime:
            stamps.append(name)
            types[name] = pl.Utf8() if dialect == "sqlite" else pl.Datetime("us", "UTC")
        else:
            types[name] = pl.Int64() if python is int else pl.Utf8()
    frame = pl.DataFrame(rows, schema=types, orient="row")
    if dialect != "sqlite" or not stamps:
        return frame
    return frame.with_columns(
        pl.col(n).str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", time_zone="UTC")
        for n in stamps
    )


def _copy_and_merge(
    conn: Connection,
    table: Table,
    frame: pl.DataFrame,
    col_list: str,
    clause: str,
    upsert: bool,
    compare: Sequence[str] = (),
) -> tuple[int, list[tuple[Any, ...]] | None]:
    """COPY the rows in; straight into the table when none of them exists yet.

    New rows are the common case (today's transactions), and a direct COPY writes them once
    instead of twice. If any key is already there, the COPY fails as a whole inside a savepoint
    and the rows go through a staging table and ``INSERT ... ON CONFLICT`` instead; the staging
    table, joined with the table, then also gives the stored rows whose ``compare`` columns
    differ. Returns (rows written, those stored rows or None).
    """
    import psycopg

    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=False, null_value="\\N", quote_style="non_numeric")
    payload = buffer.getvalue()
    copy_opts = "WITH (FORMAT csv, NULL '\\N')"
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:  # type: ignore[union-attr]
        if not upsert:
            cur.execute("SAVEPOINT tactful_copy")
            try:
                with cur.copy(f"COPY {table.name} ({col_list}) FROM STDIN {copy_opts}") as copy:
                    copy.write(payload)
            except psycopg.errors.UniqueViolation:
                cur.execute("ROLLBACK TO SAVEPOINT tactful_copy")
            else:
                cur.execute("RELEASE SAVEPOINT tactful_copy")
                return frame.height, None
        stage = f"_stage_{table.name}"
        cur.execute(f"DROP TABLE IF EXISTS {stage}")
        cur.execute(
            f"CREATE TEMP TABLE {stage} (LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        with cur.copy(f"COPY {stage} ({col_list}) FROM STDIN {copy_opts}") as copy:
            copy.write(payload)
        cur.execute(
            f"INSERT INTO {table.name} ({col_list}) SELECT {col_list} FROM {stage} {clause}"  # noqa: S608 -- schema identifiers only
        )
        touched = int(cur.rowcount)
        if not compare or touched == frame.height:
            return touched, None
        keys = [c.name for c in table.primary_key.columns]
        on = " AND ".join(f"t.{k} = s.{k}" for k in keys)
        stored = ", ".join(f"t.{c}" for c in compare)
        staged = ", ".join(f"s.{c}" for c in compare)
        selected = ", ".join(f"t.{c}" for c in _key_and(table, compare))
        cur.execute(
            f"SELECT {selected} FROM {stage} AS s JOIN {table.name} AS t ON {on} "  # noqa: S608 -- schema identifiers only
            f"WHERE ({stored}) IS DISTINCT FROM ({staged})"
        )
        return touched, list(cur.fetchall())


def update_frame(conn: Connection, table: Table, frame: pl.DataFrame, *, key: str) -> int:
    """Set ``frame``'s other columns on the rows whose ``key`` matches; returns rows updated.

    The enrichment layer rewrites a few columns of rows that already exist (a category, a series
    id); row-by-row UPDATE statements would cost more than the enrichment itself. Both backends
    stage the rows in a temporary table (SQLite: one prepared ``executemany``; PostgreSQL:
    ``COPY``) and apply them with ONE set-based ``UPDATE ... FROM`` (SQLite >= 3.33), so the
    database joins on the key once instead of planning and running a statement per row.
    """
    if frame.height == 0:
        return 0
    _own_columns(table, frame.columns)
    if key not in frame.columns:
        raise StoreError(f"update of {table.name}: the frame has no key column {key!r}")
    dialect = conn.dialect.name
    # One staged row per key, the last one, as statements run in order would have left it.
    frame = frame.unique(subset=key, keep="last", maintain_order=True)
    ready = _db_ready(frame, dialect)
    columns = [c for c in frame.columns if c != key]
    stage = f"_upd_{table.name}"
    col_list = ", ".join(ready.columns)
    if dialect == "sqlite":
        name = table.name
        marks = ", ".join("?" for _ in ready.columns)
        sets = ", ".join(f"{c} = s.{c}" for c in columns)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(f"DROP TABLE IF EXISTS temp.{stage}")
            # CREATE ... AS SELECT keeps the columns' affinities: REAL stays REAL.
            cursor.execute(
                f"CREATE TEMP TABLE {stage} AS SELECT {col_list} FROM {name} WHERE 0"  # noqa: S608 -- schema identifiers only
            )
            cursor.executemany(
                f"INSERT INTO {stage} ({col_list}) VALUES ({marks})",  # noqa: S608 -- schema identifiers only
                zip(*(ready[c].to_list() for c in ready.columns), strict=True),
            )
            cursor.execute(
                f"UPDATE {name} SET {sets} FROM {stage} AS s WHERE {name}.{key} = s.{key}"  # noqa: S608 -- schema identifiers only
            )
            touched = max(cursor.rowcount, 0)
            cursor.execute(f"DROP TABLE temp.{stage}")
        finally:
            cursor.close()
        return int(touched)
    buffer = io.BytesIO()
    ready.write_csv(buffer, include_header=False, null_value="\\N", quote_style="non_numeric")
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:  # type: ignore[union-attr]
        cur.execute(f"DROP TABLE IF EXISTS {stage}")
        cur.execute(
            f"CREATE TEMP TABLE {stage} AS SELECT {col_list} FROM {table.name} WITH NO DATA"  # noqa: S608 -- schema identifiers only
        )
        with cur.copy(f"COPY {stage} ({col_list}) FROM STDIN WITH (FORMAT csv, NULL '\\N')") as cp:
            cp.write(buffer.getvalue())
        sets = ", ".join(f"{c} = s.{c}" for c in columns)
        cur.execute(
            f"UPDATE {table.name} AS t SET {sets} FROM {stage} AS s WHERE t.{key} = s.{key}"  # noqa: S608 -- schema identifiers only
        )
        touched = int(cur.rowcount)
        cur.execute(f"DROP TABLE {stage}")
        return touched
