"""The store: the one place that talks to the database.

``Store.open()`` reads ``TACTFUL_DATABASE_URL`` (default: ``sqlite:///tactful.db``) and applies
the migrations on first use of an empty store, so ``tactful ingest`` works on a new laptop with
no set-up. Reads return typed records or Polars frames; writes take frames shaped like the tables.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import (
    Connection,
    Engine,
    Executable,
    Select,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.schema import CreateIndex, DropIndex

from tactful.config import get_settings
from tactful.errors import StoreError
from tactful.store import schema
from tactful.store.arrow import close_arrow, read_frame, rows_frame
from tactful.store.bulk import WriteResult, update_frame, write_frame
from tactful.store.engine import (
    current_revision,
    head_revision,
    is_driver_error,
    make_engine,
    store_error,
    upgrade,
)
from tactful.store.runs import Owner

APPEND_ONLY = {"transactions", "events", "consents", "imports"}


class Store:
    """A SQLite or PostgreSQL database holding the unified customer profile."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._stripes = tuple(threading.Lock() for _ in range(256))
        self._held = threading.local()

    @classmethod
    def open(cls, url: str | None = None, *, migrate: bool = True) -> Store:
        """Open the store at ``url`` (or the configured one), bringing it to the current schema:
        an empty store is created, and one an earlier version of Tactful made is migrated (the
        migrations only add), so upgrading Tactful never leaves a store it cannot read."""
        store = cls(make_engine(url or get_settings().database_url))
        if migrate and not store.is_current():
            store.upgrade()
        if migrate:
            store.ensure_indexes()
        return store

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def revision(self) -> str | None:
        return current_revision(self.engine)

    def is_current(self) -> bool:
        return self.revision() == head_revision()

    def upgrade(self, revision: str = "head") -> None:
        upgrade(self.engine, revision)

    def close(self) -> None:
        close_arrow(self.engine)
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One database transaction: everything written inside commits or none of it does.

        A database error leaves as a ``StoreError`` without row values (``store_error``); the
        driver's own exception, which quotes them, is not chained to it.
        """
        try:
            with self.engine.begin() as conn:
                yield conn
        except Exception as exc:
            if is_driver_error(exc):
                raise store_error(exc, self.url) from None
            raise

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """Every read of this thread inside the block (``rows``, ``frame``, ``raw_frame``) on
        one connection: a request's dozen reads check out one connection instead of a dozen,
        each of which PostgreSQL's pool rolls back on return (a round trip). Writes
        (``transaction``) still take their own. Blocks nest; the outermost one owns the
        connection."""
        held: Connection | None = getattr(self._held, "conn", None)
        if held is not None:
            yield held
            return
        with self._connected() as conn:
            self._held.conn = conn
            try:
                yield conn
            finally:
                self._held.conn = None

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        held: Connection | None = getattr(self._held, "conn", None)
        if held is not None:
            yield held
            return
        with self._connected() as conn:
            yield conn

    @contextmanager
    def _connected(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except Exception as exc:
            if is_driver_error(exc):
                raise store_error(exc, self.url) from None
            raise

    @contextmanager
    def exclusive(self, key: str) -> Iterator[None]:
        """Hold ``key`` against every other holder of the same key: the threads of this process
        and, on PostgreSQL, every process on the database (a session advisory lock).

        Work that reads the store, decides and writes for one customer must not interleave
        with another request doing the same: each would read a history without the other's
        message, and both would pass a cap that allows only one. SQLite serves from one process,
        so the in-process lock covers it."""
        digest = hashlib.sha256(key.encode()).digest()
        with self._stripes[digest[0] % len(self._stripes)]:
            if self.dialect != "postgresql":
                yield
                return
            number = int.from_bytes(digest[:8], "big", signed=True)
            with self._connected() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": number})
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": number})
                    conn.commit()

    # -- writes ---------------------------------------------------------------------------------

    @staticmethod
    def write(
        conn: Connection, table: str, frame: pl.DataFrame, *, compare: Sequence[str] = ()
    ) -> WriteResult:
        """Write a frame shaped like ``table`` idempotently inside ``conn``'s transaction.

        ``compare`` (append-only tables): also return, as ``differing``, the stored rows among
        the duplicates whose ``compare`` columns differ from the frame's."""
        tbl = schema.metadata.tables[table]
        unknown = (set(frame.columns) | set(compare)) - set(tbl.columns.keys())
        if unknown:
            raise StoreError(f"columns {sorted(unknown)} are not in table {table}")
        return write_frame(conn, tbl, frame, upsert=table not in APPEND_ONLY, compare=compare)

    @staticmethod
    def update(conn: Connection, table: str, frame: pl.DataFrame, *, key: str = "id") -> int:
        """Set the frame's columns on existing rows of ``table`` matched on ``key``."""
        tbl = schema.metadata.tables[table]
        unknown = set(frame.columns) - set(tbl.columns.keys())
        if unknown:
            raise StoreError(f"columns {sorted(unknown)} are not in table {table}")
        return update_frame(conn, tbl, frame, key=key)

    @staticmethod
    def insert(conn: Connection, table: str, frame: pl.DataFrame) -> WriteResult:
        """Insert the frame's rows into ``table``, whose rows of the same keys the caller has
        just deleted in the same transaction (a derived table's rows swapped)."""
        return write_frame(conn, schema.metadata.tables[table], frame, upsert=False)

    @staticmethod
    def replace_customers(
        conn: Connection, table: str, customer_ids: Sequence[str], frame: pl.DataFrame
    ) -> WriteResult:
        """Replace every row of ``table`` that belongs to ``customer_ids`` with ``frame``.

        Derived tables (series, income streams) are a pure function of a customer's history:
        recomputing a shard and swapping its rows in one transaction keeps them exactly in step.
        """
        tbl = schema.metadata.tables[table]
        ids = list(dict.fromkeys(customer_ids))
        for start in range(0, len(ids), 5_000):
            conn.execute(delete(tbl).where(tbl.c.customer_id.in_(ids[start : start + 5_000])))
        return Store.insert(conn, table, frame)

    @staticmethod
    def defer_indexes(conn: Connection, table: str) -> set[str]:
        """Drop ``table``'s secondary indexes if it is empty, for a bulk load to rebuild after.

        Building an index once over loaded rows is several times cheaper than maintaining it
        row by row (the classic bulk-load advice of both SQLite and PostgreSQL). The drop is
        part of the caller's transaction; ``ensure_indexes`` (run by the loader when the file
        ends, and by ``Store.open``) puts them back even after a crash.
        """
        tbl = schema.metadata.tables[table]
        if conn.execute(select(literal(1)).select_from(tbl).limit(1)).first() is not None:
            return set()
        dropped = set()
        for index in tbl.indexes:
            if not index.unique:
                conn.execute(DropIndex(index, if_exists=True))
                dropped.add(str(index.name))
        return dropped

    def ensure_indexes(self) -> None:
        """Create any index of the schema that is missing (after an interrupted bulk load).

        Two processes (two ingests at once) may both find an index missing and both create
        it. ``IF NOT EXISTS`` makes the second creation a no-op on SQLite, whose deferred
        transaction lets both read "missing" before either writes; on PostgreSQL the second
        can still fail on ``pg_class``, so a transaction-level advisory lock makes the check and
        the creation one step there."""
        with self.transaction() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(746163746675)"))
            for table in schema.metadata.sorted_tables:
                for index in table.indexes:
                    conn.execute(CreateIndex(index, if_not_exists=True))

    def tidy(self, table: str) -> None:
        """After a run rewrote most of ``table``: on PostgreSQL, ``VACUUM (ANALYZE)`` it.

        PostgreSQL's UPDATE leaves the old version of each row behind, in the heap and in every
        index -- a partial index on a column the run filled (``ix_transactions_pending``) still
        lists every row until vacuumed -- and the planner's statistics describe the table before
        the run. Autovacuum gets there within a minute or so; the next run should not depend on
        it: a day's increment right after a full run at 1M transactions read its new rows
        through a million dead index entries (0.37 s a shard, against 0.02 s vacuumed) and
        scanned the table for an account list the stale statistics thought matched most of it.
        SQLite updates in place: nothing to do."""
        if table not in schema.metadata.tables:
            raise ValueError(f"no table {table!r} in the schema")
        if self.dialect != "postgresql":
            return
        try:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f'VACUUM (ANALYZE) "{table}"'))
        except Exception as exc:
            if is_driver_error(exc):
                raise store_error(exc, self.url) from None
            raise

    def start_import(self, *, path: str, sha256: str, fmt: str) -> int:
        """A ``running`` import owned by this process (``store/runs.py`` marks it ``crashed``
        if the process dies before ``finish_import``)."""
        with self.transaction() as conn:
            result = conn.execute(
                insert(schema.imports).values(
                    path=path,
                    sha256=sha256,
                    format=fmt,
                    started_at=datetime.now(UTC),
                    status="running",
                    **Owner.me().values(),
                )
            )
            key = result.inserted_primary_key
            assert key is not None  # noqa: S101 -- narrows a type; holds by construction
            return int(key[0])

    def finish_import(self, import_id: int, *, status: str, **counts: Any) -> None:
        with self.transaction() as conn:
            conn.execute(
                update(schema.imports)
                .where(schema.imports.c.id == import_id)
                .values(status=status, finished_at=datetime.now(UTC), **counts)
            )

    # -- reads ----------------------------------------------------------------------------------

    def frame(
        self, query: Select[Any], schema_overrides: dict[str, Any] | None = None
    ) -> pl.DataFrame:
        """Run a SELECT and return its rows as a Polars frame."""
        with self._reading() as conn:
            result = conn.execute(query)
            names = list(result.keys())
            rows = result.all()
        return pl.DataFrame(
            [tuple(r) for r in rows],
            schema=names,
            orient="row",
            schema_overrides=schema_overrides,
            infer_schema_length=None,
        )

    def raw_frame(self, query: Select[Any], schema: dict[str, Any]) -> pl.DataFrame:
        """Like ``frame``, for bulk reads: the driver's rows go to Polars untouched, typed by
        ``schema`` (every selected column, in order), without SQLAlchemy's per-value processing.

        Timestamps therefore arrive as the driver gives them: ISO text on SQLite, aware
        datetimes on PostgreSQL; give them a ``pl.Object``-free dtype per dialect.
        """
        with self._reading() as conn:
            return rows_frame(conn, query, schema)

    def arrow_frame(self, query: Select[Any], schema: dict[str, Any]) -> pl.DataFrame:
        """Like ``raw_frame``, for the batch pipeline's shard loads: the rows arrive as Arrow
        columns through PostgreSQL's ADBC driver (``store/arrow.py``), never as Python tuples;
        SQLite's stay DB-API rows (the module says why). Cast to ``schema`` (every selected
        column, in order). Timestamps arrive as
        ``raw_frame``'s do: ISO text on SQLite, aware UTC datetimes on PostgreSQL."""
        frame = read_frame(self.engine, query, schema)
        if list(schema) != frame.columns:
            raise StoreError(
                f"arrow_frame schema {list(schema)} does not match columns {frame.columns}"
            )
        return frame.cast(schema)  # type: ignore[arg-type]

    def rows(self, query: Executable, values: Mapping[str, Any] | None = None) -> (
        Sequence[Any]
    ):
        """The rows of ``query``: a ``select`` or a statement built once with bound
        parameters, given their ``values`` (building a statement costs more than running a
        small one)."""
        with self._reading() as conn:
            return conn.execute(query, values).all()

    def counts(self) -> dict[str, int]:
        tables = ("customers", "accounts", "products", "transactions", "events", "consents")
        with self.engine.connect() as conn:
            return {
                t: int(
                    conn.execute(
                        select(func.count()).select_from(schema.metadata.tables[t])
                    ).scalar_one()
                )
                for t in tables
            }

    def existing_ids(self, table: str, ids: Iterable[str]) -> set[str]:
        tbl = schema.metadata.tables[table]
        wanted = list(dict.fromkeys(ids))
        found: set[str] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 5_000):
                part = wanted[start : start + 5_000]
                found |= set(conn.execute(select(tbl.c.id).where(tbl.c.id.in_(part))).scalars())
        return found

    def protected_attributes(
        self, customer_ids: Sequence[str] | None, *, requested_by: str, purpose: str
    ) -> pl.DataFrame:
        """Age band and gender, for a fairness audit only; every call is logged.

        The profile never reads this table: protected attributes must not drive decisions, only
        check that decisions are fair.
        """
        if not requested_by.strip() or not purpose.strip():
            raise StoreError("reading protected attributes needs requested_by and purpose")
        query = select(schema.customer_protected)
        if customer_ids is not None:
            query = query.where(schema.customer_protected.c.customer_id.in_(list(customer_ids)))
        frame = self.frame(query)
        with self.transaction() as conn:
            conn.execute(
                insert(schema.protected_access_log).values(
                    at=datetime.now(UTC),
                    requested_by=requested_by,
                    purpose=purpose,
                    rows_returned=frame.height,
                )
            )
        return frame
