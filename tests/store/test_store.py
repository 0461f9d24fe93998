"""The store suite: one set of behaviours, run on SQLite and on PostgreSQL."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, insert, select, text, update

from tactful.errors import ConfigError, StoreError
from tactful.store import schema
from tactful.store.engine import SQLITE_PAGE_SIZE, head_revision
from tactful.store.store import Store


def _txns(ids: list[str], amounts: list[int]) -> pl.DataFrame:
    n = len(ids)
    return pl.DataFrame(
        {
            "id": ids,
            "account_id": ["A1"] * n,
            "booked_at": [
                datetime(2024, 1, 1, 12, tzinfo=UTC) + timedelta(days=i) for i in range(n)
            ],
            "amount_minor": amounts,
            "currency": ["EUR"] * n,
            "description": ["coffee"] * n,
            "channel": ["card"] * n,
            "status": ["posted"] * n,
        }
    )


def test_migrated_on_first_open_and_schema_matches_models(store: Store) -> None:
    assert store.revision() == head_revision()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), schema.metadata)
    assert diff == []


def test_upgrade_from_the_first_revision_keeps_the_rows(store_url: str) -> None:
    old = Store.open(store_url, migrate=False)
    try:
        old.upgrade("0001")
        with old.transaction() as conn:
            conn.exec_driver_sql(
                "INSERT INTO transactions (id, account_id, booked_at, amount_minor, currency) "
                "VALUES ('t1', 'A1', '2024-01-01 12:00:00', -100, 'EUR')"
            )
        old.upgrade()
        assert old.is_current()
        rows = old.rows(select(schema.transactions.c.id, schema.transactions.c.category_confidence))
        assert [tuple(r) for r in rows] == [("t1", None)]
        assert old.rows(select(schema.recurring_series)) == []
    finally:
        old.close()


def test_opening_a_store_an_earlier_version_made_migrates_it(store_url: str) -> None:
    old = Store.open(store_url, migrate=False)
    try:
        old.upgrade("0002")
    finally:
        old.close()
    reopened = Store.open(store_url)
    try:
        assert reopened.is_current()
        assert reopened.rows(select(schema.insights)) == []
    finally:
        reopened.close()


def test_append_only_write_is_idempotent(store: Store) -> None:
    frame = _txns(["t1", "t2", "t3"], [-100, -200, 300])
    with store.transaction() as conn:
        first = store.write(conn, "transactions", frame)
    with store.transaction() as conn:
        second = store.write(conn, "transactions", frame)
    assert (first.inserted, first.duplicates) == (3, 0)
    assert (second.inserted, second.duplicates) == (0, 3)
    assert store.counts()["transactions"] == 3


def test_failed_transaction_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as conn:
        store.write(conn, "transactions", _txns(["t1", "t2"], [1, 2]))
        raise RuntimeError("crash mid-batch")
    assert store.counts()["transactions"] == 0


def test_timestamps_come_back_aware_in_utc(store: Store) -> None:
    berlin = timezone(timedelta(hours=1))
    frame = _txns(["t1"], [-1]).with_columns(
        pl.lit(datetime(2024, 3, 1, 7, 30, tzinfo=berlin))
        .dt.convert_time_zone("UTC")
        .alias("booked_at")
    )
    with store.transaction() as conn:
        store.write(conn, "transactions", frame)
    (booked,) = store.rows(select(schema.transactions.c.booked_at))[0]
    assert booked == datetime(2024, 3, 1, 6, 30, tzinfo=UTC)
    assert booked.tzinfo is not None


def test_money_is_exact_integer_minor_units(store: Store) -> None:
    big = 9_007_199_254_740_993  # not representable as a float
    with store.transaction() as conn:
        store.write(conn, "transactions", _txns(["t1"], [big]))
    (amount,) = store.rows(select(schema.transactions.c.amount_minor))[0]
    assert amount == big and isinstance(amount, int)


def _account(**values: object) -> pl.DataFrame:
    row = {
        "id": "A1",
        "customer_id": "C1",
        "type": "checking",
        "currency": "EUR",
        "balance_minor": 1000,
        "balance_as_of": datetime(2024, 2, 1, tzinfo=UTC),
        "opened_on": date(2020, 1, 1),
        "updated_at": datetime.now(UTC),
    }
    row.update(values)
    return pl.DataFrame([row])


def test_upsert_fills_without_erasing(store: Store) -> None:
    with store.transaction() as conn:
        first = store.write(conn, "accounts", _account())
    # A statement knows the balance but not the owner: the owner link must survive.
    with store.transaction() as conn:
        second = store.write(
            conn,
            "accounts",
            _account(
                customer_id=None, balance_minor=1500, balance_as_of=datetime(2024, 3, 1, tzinfo=UTC)
            ),
        )
    row = store.rows(select(schema.accounts))[0]
    assert (first.inserted, second.inserted, second.updated) == (1, 0, 1)
    assert row.customer_id == "C1" and row.balance_minor == 1500


def test_older_statement_does_not_roll_back_the_balance(store: Store) -> None:
    with store.transaction() as conn:
        store.write(
            conn,
            "accounts",
            _account(balance_minor=1500, balance_as_of=datetime(2024, 3, 1, tzinfo=UTC)),
        )
    with store.transaction() as conn:
        result = store.write(
            conn,
            "accounts",
            _account(balance_minor=1000, balance_as_of=datetime(2024, 2, 1, tzinfo=UTC)),
        )
    row = store.rows(select(schema.accounts))[0]
    assert row.balance_minor == 1500
    assert result.updated == 0


def test_unchanged_upsert_counts_as_duplicate(store: Store) -> None:
    frame = _account()
    with store.transaction() as conn:
        store.write(conn, "accounts", frame)
    with store.transaction() as conn:
        again = store.write(
            conn, "accounts", frame.with_columns(pl.lit(datetime.now(UTC)).alias("updated_at"))
        )
    assert (again.inserted, again.updated, again.duplicates) == (0, 0, 1)


def test_protected_attributes_are_read_only_with_a_purpose_and_logged(store: Store) -> None:
    with store.transaction() as conn:
        store.write(
            conn,
            "customers",
            pl.DataFrame(
                [
                    {
                        "id": "C1",
                        "region": "EU",
                        "locale": "de_DE",
                        "timezone": "Europe/Berlin",
                        "personalization_level": "basic",
                        "channel_preferences": "in_app",
                    }
                ]
            ),
        )
        store.write(
            conn,
            "customer_protected",
            pl.DataFrame([{"customer_id": "C1", "age_band": "25-34", "gender": "F"}]),
        )
    with pytest.raises(StoreError, match="requested_by and purpose"):
        store.protected_attributes(None, requested_by="", purpose="")
    frame = store.protected_attributes(
        ["C1"], requested_by="fairness-audit", purpose="quarterly churn model audit"
    )
    assert frame.to_dicts() == [{"customer_id": "C1", "age_band": "25-34", "gender": "F"}]
    log = store.rows(select(schema.protected_access_log))
    assert [(r.requested_by, r.rows_returned) for r in log] == [("fairness-audit", 1)]


def test_unknown_columns_are_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="not in table transactions"), store.transaction() as conn:
        store.write(conn, "transactions", _txns(["t"], [1]).with_columns(pl.lit(1).alias("x")))


def test_only_the_schemas_column_names_reach_the_sql(store: Store) -> None:
    """The bulk writers name columns in SQL text; every door to them refuses a foreign name."""
    frame = pl.DataFrame({"x) VALUES (1); DROP TABLE customers; --": [1]})
    refused = r"table income_changes has no column\(s\) \['x\) VALUES"
    with pytest.raises(StoreError, match=refused), store.transaction() as conn:
        store.replace_customers(conn, "income_changes", ["C1"], frame)
    with pytest.raises(StoreError, match="has no key column 'nope'"), store.transaction() as conn:
        store.update(conn, "transactions", _txns(["t"], [1]).select("id"), key="nope")
    assert store.rows(select(schema.customers.c.id)) == []  # the table is still there


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://localhost/x", "unsupported store backend 'mysql'"),
        ("not a url", "is not a database URL"),
    ],
)
def test_bad_urls_are_clear(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Store.open(url)


def test_unreachable_postgres_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="cannot reach the store"):
        Store.open("postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=1")


def test_a_new_sqlite_store_has_large_pages_and_wal(tmp_path: Path) -> None:
    """Set before WAL mode fixes the header (after it, SQLite silently keeps 4 KiB)."""
    Store.open(f"sqlite:///{tmp_path / 'new.db'}").close()
    with sqlite3.connect(tmp_path / "new.db") as raw:
        assert raw.execute("PRAGMA page_size").fetchone() == (SQLITE_PAGE_SIZE,)
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


@pytest.mark.parametrize("path", ["insert", "update"])
def test_copy_null_marker_and_backslashes_are_text_not_null(store: Store, path: str) -> None:
    """COPY's NULL marker ``\\N`` written as data stays data, on the insert path (a new row, and
    a batch that goes through the staging table) and on the update path."""
    texts = ["\\N", "\\", "a\\Nb", "", "\\\\N"]
    ids = [f"t{i}" for i in range(len(texts))]
    frame = _txns(ids, [1] * len(texts)).with_columns(
        pl.Series("description", texts), pl.Series("counterparty", texts)
    )
    with store.transaction() as conn:
        if path == "insert":
            store.write(conn, "transactions", frame.head(2))
            store.write(conn, "transactions", frame)  # two exist: the staging path
        else:
            store.write(conn, "transactions", frame.with_columns(pl.lit("x").alias("description")))
            store.update(conn, "transactions", frame.select("id", "description", "counterparty"))
    t = schema.transactions
    rows = store.rows(select(t.c.id, t.c.description, t.c.counterparty).order_by(t.c.id))
    assert [(r.description, r.counterparty) for r in rows] == list(zip(texts, texts, strict=True))


def test_the_reads_of_a_reading_block_share_one_connection(store: Store) -> None:
    """A request's reads check out one connection, not one each; writes keep their own and
    the block's later reads see them; outside the block every read takes its own."""
    checkouts: list[object] = []
    event.listen(store.engine, "checkout", lambda *args: checkouts.append(args[1]))
    c = schema.customers
    with store.reading() as conn:
        with store.reading() as inner:
            assert inner is conn
        assert store.rows(select(c.c.id)) == []
        assert store.frame(select(c.c.id)).height == 0
        assert len(checkouts) == 1
        with store.transaction() as tx:
            tx.execute(insert(c).values(id="C1", region="EU", locale="en_GB",
                                        timezone="Europe/London"))
        assert len(checkouts) == 2
        assert [r[0] for r in store.rows(select(c.c.id))] == ["C1"]
        assert len(checkouts) == 2
    store.rows(select(c.c.id))
    store.rows(select(c.c.id))
    assert len(checkouts) == 4


def test_tidy_leaves_postgresql_no_dead_rows_after_a_rewrite(store: Store) -> None:
    """A run that rewrote every row asks the store to tidy: PostgreSQL vacuums and analyzes
    the table (no dead row versions left, statistics from now); SQLite has nothing to do."""
    c = schema.customers
    with store.transaction() as conn:
        conn.execute(insert(c), [dict(id=f"C{k}", region="EU", locale="en_GB",
                                      timezone="Europe/London") for k in range(50)])
    with store.transaction() as conn:
        conn.execute(update(c).values(locale="en_IE"))
    store.tidy("customers")
    if store.dialect == "postgresql":
        dead, analyzed = store.rows(text(
            "SELECT n_dead_tup, last_analyze FROM pg_stat_user_tables "
            "WHERE relname = 'customers'"))[0]
        assert dead == 0 and analyzed is not None
    with pytest.raises(ValueError, match="no table"):
        store.tidy("customers; DROP TABLE customers")
