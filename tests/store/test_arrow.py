"""The batch pipeline's Arrow reads keep one connection per store, process and thread on
PostgreSQL (an incremental run makes some thirty small reads: a connection each cost more than
their SQL), read again on a new one when the server dropped it, and close with the store."""

from __future__ import annotations

import time

import polars as pl
from sqlalchemy import func, literal, select, text

from tactful.store import arrow
from tactful.store.store import Store


def _pid(store: Store) -> int:
    query = select(func.pg_backend_pid().label("pid"))
    return int(store.arrow_frame(query, {"pid": pl.Int64}).item())


def _alive(url: str, pid: int) -> bool:
    other = Store.open(url, migrate=False)
    try:
        with other.transaction() as conn:
            return bool(conn.execute(text(
                "select count(*) from pg_stat_activity where pid = :pid"), {"pid": pid}).scalar())
    finally:
        other.close()


def _gone(url: str, pid: int) -> bool:
    for _ in range(50):  # a backend leaves pg_stat_activity a moment after its client
        if not _alive(url, pid):
            return True
        time.sleep(0.05)
    return False


def test_arrow_reads_keep_one_connection_and_close_with_the_store(store_url: str) -> None:
    store = Store.open(store_url)
    if store.dialect == "sqlite":  # read through the store's own connection: nothing kept
        kept = dict(arrow._OPEN)
        frame = store.arrow_frame(select(literal(7).label("x")), {"x": pl.Int64})
        assert frame.item() == 7
        assert kept == arrow._OPEN
        store.close()
        return
    url = store.engine.url.render_as_string(hide_password=False)
    first = _pid(store)
    assert _pid(store) == first  # the same backend served both reads

    with store.transaction() as conn:  # the server drops it: the next read opens another
        conn.execute(text("select pg_terminate_backend(:pid)"), {"pid": first})
    assert _gone(url, first)
    second = _pid(store)
    assert second != first and _pid(store) == second

    store.close()
    assert _gone(url, second)
    assert not [k for k in arrow._OPEN if k[2] == arrow._uri(store.engine)]
