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
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, Table, func, select

_SQLITE_TS = "%Y-%m-%d %H:%M:%S%.6f"
_PG_TS = "%Y-%m-%d %H:%M:%S%.6f+00:00"


@dataclass(frozen=True, slots=True)
class WriteResult:
    inserted: int = 0
    updated: int = 0
    duplicates: int = 0


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


def _required(table: Table, column: str) -> bool:
    col = table.columns[column]
    return bool(col.primary_key or (not col.nullable and col.server_default is None))


def write_frame(
    conn: Connection, table: Table, frame: pl.DataFrame, *, upsert: bool
) -> WriteResult:
    """Write ``frame`` (columns named as ``table``'s) inside the caller's transaction."""
    if frame.height == 0:
        return WriteResult()
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
        sql = f"INSERT INTO {table.name} ({col_list}) VALUES ({marks}) {clause}"
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        # Column lists zipped in C build the row tuples several times faster than rows().
        cursor.executemany(sql, zip(*(ready[c].to_list() for c in columns), strict=True))
        touched = max(cursor.rowcount, 0)
        cursor.close()
    else:
        touched = _copy_and_merge(conn, table, ready, col_list, clause, upsert)
    if upsert:
        inserted = _count(conn, table) - before
        return WriteResult(
            inserted=inserted, updated=touched - inserted, duplicates=frame.height - touched
        )
    return WriteResult(inserted=touched, duplicates=frame.height - touched)


def _copy_and_merge(
    conn: Connection, table: Table, frame: pl.DataFrame, col_list: str, clause: str, upsert: bool
) -> int:
    """COPY the rows in; straight into the table when none of them exists yet.

    New rows are the common case (today's transactions), and a direct COPY writes them once
    instead of twice. If any key is already there, the COPY fails as a whole inside a savepoint
    and the rows go through a staging table and ``INSERT ... ON CONFLICT`` instead.
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
                return frame.height
        stage = f"_stage_{table.name}"
        cur.execute(f"DROP TABLE IF EXISTS {stage}")
        cur.execute(
            f"CREATE TEMP TABLE {stage} (LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        with cur.copy(f"COPY {stage} ({col_list}) FROM STDIN {copy_opts}") as copy:
            copy.write(payload)
        cur.execute(
            f"INSERT INTO {table.name} ({col_list}) SELECT {col_list} FROM {stage} {clause}"
        )
        return int(cur.rowcount)


def update_frame(conn: Connection, table: Table, frame: pl.DataFrame, *, key: str) -> int:
    """Set ``frame``'s other columns on the rows whose ``key`` matches; returns rows updated.

    The enrichment layer rewrites a few columns of rows that already exist (a category, a series
    id); row-by-row UPDATE statements through the ORM would cost more than the enrichment itself.
    SQLite gets one prepared ``executemany``; PostgreSQL gets ``COPY`` into a staging table and
    one ``UPDATE ... FROM``.
    """
    if frame.height == 0:
        return 0
    dialect = conn.dialect.name
    ready = _db_ready(frame, dialect)
    columns = [c for c in frame.columns if c != key]
    if dialect == "sqlite":
        sets = ", ".join(f"{c} = ?" for c in columns)
        sql = f"UPDATE {table.name} SET {sets} WHERE {key} = ?"
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.executemany(sql, zip(*(ready[c].to_list() for c in [*columns, key]), strict=True))
        touched = max(cursor.rowcount, 0)
        cursor.close()
        return int(touched)
    buffer = io.BytesIO()
    ready.write_csv(buffer, include_header=False, null_value="\\N", quote_style="non_numeric")
    stage = f"_upd_{table.name}"
    col_list = ", ".join(ready.columns)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:  # type: ignore[union-attr]
        cur.execute(f"DROP TABLE IF EXISTS {stage}")
        cur.execute(
            f"CREATE TEMP TABLE {stage} AS SELECT {col_list} FROM {table.name} WITH NO DATA"
        )
        with cur.copy(f"COPY {stage} ({col_list}) FROM STDIN WITH (FORMAT csv, NULL '\\N')") as cp:
            cp.write(buffer.getvalue())
        sets = ", ".join(f"{c} = s.{c}" for c in columns)
        cur.execute(
            f"UPDATE {table.name} AS t SET {sets} FROM {stage} AS s WHERE t.{key} = s.{key}"
        )
        touched = int(cur.rowcount)
        cur.execute(f"DROP TABLE {stage}")
        return touched
