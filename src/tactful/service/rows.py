"""Insert rows, keeping a row already stored under the same key: what two concurrent requests
that found the same thing must do (one insight, one kept answer), on either backend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table


def insert_new(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows`` into ``table`` inside the caller's transaction; return how many were new."""
    if not rows:
        return 0
    statement: Any
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement = pg_insert(table).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table).on_conflict_do_nothing()
    # Counted by RETURNING: a driver's rowcount for a many-row insert is not to be trusted
    # (psycopg's batched insert reports -1).
    returned = conn.execute(statement.returning(*table.primary_key.columns), list(rows))
    return len(returned.all())
