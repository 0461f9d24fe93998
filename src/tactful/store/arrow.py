"""Bulk reads as Arrow columns: the shard loads of the batch pipeline.

A shard of 500 customers is ~150,000 rows; through the DB-API every value becomes a Python object
in a tuple before Polars copies it back into a column, and that costs more than enriching it
(issue 21: 38% of ``enrich --full``). ADBC drivers hand over Arrow record batches filled in C,
one driver per store. Measured once on the loaded 2-core
machine (a throwaway probe, best of 2) over the 296k transactions of ``bench/enrich.py
--store``'s bank in shards of 500 customers: the old ``load_shard`` (DB-API tuples, then the
frame's post-processing) read 59k rows/s on SQLite and 75k rows/s on PostgreSQL; the raw read
alone, before post-processing, ran at 280k rows/s through ``adbc-driver-sqlite``, 241k rows/s
through ``adbc-driver-postgresql`` (binary COPY, typed columns) and 225k rows/s through
psycopg's ``COPY (...) TO STDOUT`` CSV into ``pl.read_csv`` (text, to be typed after).

SQLite is read through the store's own ``sqlite3`` connection, not ADBC, despite the
figures: ``adbc-driver-sqlite`` carries its own copy of the SQLite library, and two copies in
one process opening the same file do not see each other's POSIX locks (closing one drops the
other's, sqlite.org/howtocorrupt.html 2.2.1). The enrich benchmark died twice of it (SIGBUS in a
commit, the WAL index unmapped under a live connection). PostgreSQL's ADBC connection is the
driver's own, in autocommit: it sees what is committed, which is all a batch load reads. It is
opened once per store, process and thread and kept (``close_arrow`` closes it; the store's
``close`` calls it): an incremental run makes some thirty small reads, and opening a connection
for each cost 0.1 s against 26 ms of SQL.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, Select

from tactful.errors import ConfigError, StoreError
from tactful.store.engine import is_driver_error, store_error


def _sql(engine: Engine, query: Select[Any]) -> str:
    """The query with its values inlined by the dialect's own literal rendering: ADBC binds
    parameters by position, not by SQLAlchemy's names. Values are the store's own ids.

    psycopg's ``pyformat`` paramstyle has SQLAlchemy double every ``%`` of the text, literals
    included; with no parameter left, the statement goes out with them single again."""
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    if engine.dialect.paramstyle in ("pyformat", "format"):
        sql = sql.replace("%%", "%")
    return sql


_OPEN: dict[tuple[int, int, str], Any] = {}
"""The ADBC connections kept, by process, thread and URI: a connection is not shared between
threads, and a forked worker opens its own rather than use its parent's."""
_OPEN_LOCK = threading.Lock()


def _uri(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _postgresql(engine: Engine, sql: str) -> pl.DataFrame:
    try:
        import adbc_driver_postgresql.dbapi
    except ImportError as exc:
        raise ConfigError(
            "the Arrow driver for PostgreSQL is not installed: pip install 'tactful[postgres]'"
        ) from exc
    key = (os.getpid(), threading.get_ident(), _uri(engine))
    with _OPEN_LOCK:
        kept = _OPEN.get(key)
    if kept is not None:
        try:
            return _fetch(kept, sql)
        except Exception:
            # dropped by the server since (a restart, a forced drop of the database), or a
            # failing statement: a read is safe to run again, once, on a new connection
            _close(key)
    conn = adbc_driver_postgresql.dbapi.connect(key[2], autocommit=True)
    with _OPEN_LOCK:
        _OPEN[key] = conn
    try:
        return _fetch(conn, sql)
    except Exception:
        _close(key)
        raise


def _fetch(conn: Any, sql: str) -> pl.DataFrame:
    with conn.cursor() as cur:
        cur.execute(sql)
        return pl.from_arrow(cur.fetch_arrow_table())  # type: ignore[return-value]


def _close(key: tuple[int, int, str]) -> None:
    with _OPEN_LOCK:
        conn = _OPEN.pop(key, None)
    if conn is not None:
        with contextlib.suppress(Exception):  # a connection already broken
            conn.close()


def close_arrow(engine: Engine | None = None) -> None:
    """Close this process's kept Arrow connections (to ``engine``'s database, or all)."""
    uri = None if engine is None or engine.dialect.name == "sqlite" else _uri(engine)
    if engine is not None and uri is None:
        return
    with _OPEN_LOCK:
        keys = [k for k in _OPEN if k[0] == os.getpid() and (uri is None or k[2] == uri)]
    for key in keys:
        _close(key)


atexit.register(close_arrow)


def rows_frame(conn: Connection, query: Select[Any], schema: dict[str, Any]) -> pl.DataFrame:
    """The DB-API rows, straight to Polars (no SQLAlchemy per-value processing), typed by
    ``schema`` (every selected column, in order)."""
    result = conn.execute(query)
    names = list(result.keys())
    rows = result.cursor.fetchall() if result.cursor is not None else []
    if list(schema) != names:
        raise StoreError(f"schema {list(schema)} does not match columns {names}")
    return pl.DataFrame(rows, schema=schema, orient="row")


def _rows(engine: Engine, query: Select[Any], schema: dict[str, Any]) -> pl.DataFrame:
    with engine.connect() as conn:
        return rows_frame(conn, query, schema)


def read_frame(engine: Engine, query: Select[Any], schema: dict[str, Any]) -> pl.DataFrame:
    """``query``'s rows as a frame: from Arrow batches on PostgreSQL, from the DB-API rows on
    SQLite (see the module's docstring); ``schema`` types the DB-API rows."""
    dialect = engine.dialect.name
    try:
        if dialect == "sqlite":
            return _rows(engine, query, schema)
        return _postgresql(engine, _sql(engine, query))
    except ImportError as exc:
        raise ConfigError(f"the Arrow driver for {dialect} is not installed ({exc})") from exc
    except Exception as exc:
        if is_driver_error(exc):
            raise store_error(exc, engine.url.render_as_string(hide_password=True)) from None
        if type(exc).__module__.startswith("adbc_driver"):
            # The driver's message names the statement, not row values.
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StoreError(f"bulk read from {engine.url!r} failed: {first}") from None
        raise
