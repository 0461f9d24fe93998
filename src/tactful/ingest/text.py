"""Text the store can hold, the same on SQLite and PostgreSQL.

SQLite stores any string, NUL bytes and all, and does not enforce ``VARCHAR(n)``; PostgreSQL
refuses a NUL byte in text outright and refuses a string longer than its column. Left to the
backends, the same file would load on one store and crash the other mid-import (and crash again
at the same batch on every re-run). So the loader applies PostgreSQL's limits on both stores,
before the write, and rejects the rows that break them with their field and reason:

* a NUL character (U+0000) is rejected, not stripped: it is not text a bank meant to send, and
  removing it silently would store a value the file does not hold;
* a value longer than its column (``counterparty`` 200, ``segment`` 64, ...) is rejected, not
  cut, for the same reason.

Everything else is stored exactly as read: backslashes, a literal ``\\N``, tabs, line breaks,
carriage returns and characters outside the Basic Multilingual Plane (emoji).
"""

from __future__ import annotations

from functools import cache

import polars as pl
from sqlalchemy import String

from tactful.ingest.schema import LOCATION, RecordKind, Reject
from tactful.store import schema

_TABLES = {
    RecordKind.CUSTOMER: ("customers", "customer_protected"),
    RecordKind.ACCOUNT: ("accounts",),
    RecordKind.PRODUCT: ("products",),
    RecordKind.TRANSACTION: ("transactions",),
    RecordKind.EVENT: ("events",),
    RecordKind.CONSENT: ("consents",),
}


@cache
def column_limits(kind: RecordKind) -> dict[str, int]:
    """The length limit of each bounded text column the records of ``kind`` are written to.

    Fields renamed on the way (``transaction_id`` -> ``external_id``, ``account_id`` -> ``id``)
    are ids, which the validator already holds to 128 characters.
    """
    limits: dict[str, int] = {}
    for name in _TABLES[kind]:
        for column in schema.metadata.tables[name].columns:
            if isinstance(column.type, String) and column.type.length is not None:
                length = int(column.type.length)
                limits[column.name] = min(length, limits.get(column.name, length))
    return limits


def check_text(
    kind: RecordKind, typed: pl.DataFrame, source: str
) -> tuple[pl.DataFrame, list[Reject]]:
    """``typed`` without the rows whose text the store cannot hold, and a reject for each."""
    limits = column_limits(kind)
    checks: list[pl.Expr] = []
    for name, dtype in typed.schema.items():
        if name == LOCATION or dtype != pl.Utf8:
            continue
        col = pl.col(name)
        checks.append(
            pl.when(col.str.contains("\x00", literal=True)).then(
                pl.lit(f"{name}\x1fcontains a NUL character (U+0000), which the store cannot hold")
            )
        )
        if name in limits:
            limit = limits[name]
            checks.append(
                pl.when(col.str.len_chars() > limit).then(
                    pl.lit(f"{name}\x1fis longer than {limit} characters (the store's limit)")
                )
            )
    if not checks or typed.height == 0:
        return typed, []
    verdict = typed.select(pl.coalesce(checks).alias("_problem"))["_problem"]
    bad = verdict.is_not_null()
    if not bad.any():
        return typed, []
    rejects = []
    for location, problem in zip(
        typed.filter(bad)[LOCATION].to_list(), verdict.filter(bad).to_list(), strict=True
    ):
        field, reason = str(problem).split("\x1f", 1)
        rejects.append(Reject(source, str(location), reason, field))
    return typed.filter(~bad), rejects
