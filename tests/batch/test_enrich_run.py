"""`tactful enrich` over a real store, on SQLite and PostgreSQL: what it writes, that a second
run does nothing, that new data is picked up incrementally and that customers' corrections and
the bank's rules win."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import func, select

from tactful.batch.enrich import run_enrich
from tactful.batch.executor import get_executor
from tactful.enrich import repository as repo
from tactful.errors import ConfigError, NotFoundError, ValidationError
from tactful.ingest.loader import Loader
from tactful.simulate import SimulationConfig, simulate
from tactful.store import schema
from tactful.store.store import Store

CONFIG = SimulationConfig(customers=30, months=4, seed=5, start=date(2025, 1, 1))


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("enrich-bank")
    simulate(CONFIG, out, "parquet")
    return out


@pytest.fixture
def loaded(store: Store, bank: Path, tmp_path: Path) -> Store:
    exports = [p for p in sorted(bank.iterdir()) if p.is_file()]
    Loader(store, report_dir=tmp_path / "reports").ingest(exports)
    return store


def _count(store: Store, table: str, *where: object) -> int:
    tbl = schema.metadata.tables[table]
    return int(store.rows(select(func.count()).select_from(tbl).where(*where))[0][0])  # type: ignore[arg-type]


def test_first_run_enriches_every_transaction_then_nothing_is_left(loaded: Store) -> None:
    t = schema.transactions
    first = run_enrich(loaded, shard_size=7)
    assert first.mode == "full"
    assert first.customers == CONFIG.customers
    assert first.updated == _count(loaded, "transactions")
    assert _count(loaded, "transactions", t.c.category_source.is_(None)) == 0
    assert first.series > 0 and first.series == _count(loaded, "recurring_series")
    assert first.income_streams == _count(loaded, "income_streams") > 0
    assert _count(loaded, "transactions", t.c.series_id.is_not(None)) > 0
    assert first.text_model_id is not None

    second = run_enrich(loaded, shard_size=7)
    assert (second.mode, second.customers, second.updated) == ("incremental", 0, 0)
    assert _count(loaded, "recurring_series") == first.series


def test_processes_executor_gives_the_same_store(loaded: Store, tmp_path: Path) -> None:
    run_enrich(loaded, shard_size=10, executor=get_executor("processes", workers=2))
    t = schema.transactions
    got = loaded.frame(select(t.c.id, t.c.category_detailed, t.c.series_id).order_by(t.c.id))
    run_enrich(loaded, full=True, shard_size=30)
    again = loaded.frame(select(t.c.id, t.c.category_detailed, t.c.series_id).order_by(t.c.id))
    assert got.equals(again)


def test_a_new_transaction_is_enriched_incrementally(loaded: Store) -> None:
    run_enrich(loaded)
    t, a = schema.transactions, schema.accounts
    account, customer = loaded.rows(
        select(a.c.id, a.c.customer_id).where(a.c.type == "checking").order_by(a.c.id).limit(1)
    )[0]
    last = loaded.rows(select(func.max(t.c.booked_at)))[0][0]
    new = pl.DataFrame(
        {
            "id": ["new-1"],
            "account_id": [account],
            "booked_at": [last],
            "amount_minor": [-1250],
            "currency": [loaded.rows(select(a.c.currency).where(a.c.id == account))[0][0]],
            "description": ["STARBUCKS STORE 01234 SEATTLE WA"],
            "mcc": ["5814"],
            "channel": ["card"],
            "status": ["posted"],
        }
    )
    with loaded.transaction() as conn:
        loaded.write(conn, "transactions", new)
    report = run_enrich(loaded)
    assert (report.mode, report.customers) == ("incremental", 1)
    row = loaded.rows(
        select(t.c.merchant, t.c.category, t.c.merchant_key).where(t.c.id == "new-1")
    )[0]
    assert row[0] == "Starbucks"
    assert row[1] == "FOOD_AND_DRINK"
    # read: the new row, the account's credits, its Starbucks payments (its group, by the
    # group key each row keeps; and the debits a credit may have sent back) -- not the
    # customer's history, nor the account's other payments without a merchant
    history = loaded.rows(select(func.count()).select_from(t).join(a, a.c.id == t.c.account_id)
                          .where(a.c.customer_id == customer))[0][0]
    assert loaded.rows(select(t.c.group_key).where(t.c.id == "new-1"))[0][0] == row[2]
    in_account = loaded.rows(select(func.count()).where(
        t.c.account_id == account, (t.c.amount_minor > 0) | (t.c.group_key == row[2])))[0][0]
    assert in_account <= report.transactions < history


def test_a_run_of_an_older_layout_makes_the_next_run_full(loaded: Store) -> None:
    """A store enriched before each row kept its merchant key (migration 0018) cannot be read
    by groups: the next run is full, and the one after incremental again."""
    run_enrich(loaded, shard_size=10)
    r = schema.enrich_runs
    with loaded.transaction() as conn:
        conn.execute(r.update().values(layout=None))
    assert run_enrich(loaded, shard_size=10).mode == "full"
    assert run_enrich(loaded, shard_size=10).mode == "incremental"


def test_a_customers_recategorization_wins_and_sticks(loaded: Store) -> None:
    run_enrich(loaded)
    t = schema.transactions
    tid = loaded.rows(
        select(t.c.id).where(t.c.category == "FOOD_AND_DRINK").order_by(t.c.id).limit(1)
    )[0][0]
    done = repo.recategorize(loaded, tid, "ENTERTAINMENT_OTHER_ENTERTAINMENT")
    assert done.transactions_updated >= 1
    run_enrich(loaded, full=True)
    row = loaded.rows(select(t.c.category_detailed, t.c.category_source).where(t.c.id == tid))[0]
    assert tuple(row) == ("ENTERTAINMENT_OTHER_ENTERTAINMENT", "user")


def test_a_bank_rule_changes_categories_on_the_next_run(loaded: Store) -> None:
    run_enrich(loaded)
    version = repo.save_rule(
        loaded,
        {
            "id": "all-card-is-shopping",
            "conditions": [{"field": "channel", "operator": "equals", "value": "card"}],
            "category_detailed": "GENERAL_MERCHANDISE_OTHER_GENERAL_MERCHANDISE",
            "priority": 1,
        },
    )
    assert version == 1
    report = run_enrich(loaded)
    assert report.mode == "full"  # a rules change re-applies to every customer
    t = schema.transactions
    cards = loaded.rows(
        select(t.c.category_detailed, t.c.category_source, func.count())
        .where(t.c.channel == "card", t.c.category_source != "user")
        .group_by(t.c.category_detailed, t.c.category_source)
    )
    assert [(r[0], r[1]) for r in cards] == [
        ("GENERAL_MERCHANDISE_OTHER_GENERAL_MERCHANDISE", "rule")
    ]
    repo.delete_rule(loaded, "all-card-is-shopping")
    assert repo.current_rules(loaded).rules == ()
    assert repo.rules_version(loaded) == 2


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        (
            {"id": "r1", "conditions": [{"field": "amout", "operator": "gt", "value": 1}],
             "category_detailed": "FOOD_AND_DRINK_COFFEE"},
            "rule 'r1': field 'conditions[0].field': unknown feature 'amout' (known: "
            "account_type, amount_minor, channel, ",
        ),
        (
            {"id": "r2", "conditions": [{"field": "mcc", "operator": "equals", "value": "5411"}],
             "category_detailed": "NOT_A_CATEGORY"},
            "rule 'r2': category_detailed 'NOT_A_CATEGORY' is not in the taxonomy",
        ),
    ],
)
def test_invalid_rules_are_refused_with_the_rule_named(
    sqlite_store: Store, definition: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        repo.save_rule(sqlite_store, definition)
    assert str(caught.value).startswith(message)
    assert repo.rules_version(sqlite_store) == 0


def test_recategorize_refuses_unknown_ids_and_categories(sqlite_store: Store) -> None:
    with pytest.raises(ValidationError, match="unknown category 'COFFEE'"):
        repo.recategorize(sqlite_store, "t1", "COFFEE")
    with pytest.raises(NotFoundError, match="no transaction … on a known account"):
        repo.recategorize(sqlite_store, "nope", "FOOD_AND_DRINK_COFFEE")


def test_shard_frames_carry_local_booking_dates(loaded: Store) -> None:
    customers = repo.customers_to_enrich(loaded, full=True)[:3]
    frame = repo.load_shard(loaded, customers)
    assert frame.height > 0
    assert frame.schema["booked_on"] == pl.Date
    local = frame.head(1)
    assert local["booked_on"][0] is not None


def test_the_profile_shows_categories_series_and_income(loaded: Store) -> None:
    from rich.console import Console

    from tactful.cli.render import profile_panel
    from tactful.profile import load_profile

    run_enrich(loaded)
    s = schema.income_streams
    customer = loaded.rows(select(s.c.customer_id).order_by(s.c.customer_id).limit(1))[0][0]
    profile = load_profile(loaded, customer)
    assert profile.spending and profile.spending_window
    assert all(c.amount.minor > 0 for c in profile.spending)
    assert not {c.category for c in profile.spending} & {"INCOME", "TRANSFER_IN"}
    assert profile.recurring and profile.income
    assert profile.income[0].kind in {"payroll", "pension", "benefit", "gig", "business", "other"}
    assert all(r.status != "cancelled" for r in profile.recurring)
    console = Console(record=True, width=120)
    console.print(profile_panel(profile))
    text = console.export_text()
    for title in ("Spending", "Recurring payments", "Income", profile.income[0].kind):
        assert title in text


class _DiesAfter:
    """An executor whose process "dies" after ``shards`` shards were handed back (and written)."""

    name = "dies"

    def __init__(self, shards: int) -> None:
        self.shards = shards

    def map(self, fn: Any, items: Any) -> Iterator[Any]:
        for n, item in enumerate(items):
            if n == self.shards:
                raise RuntimeError("killed")
            yield fn(item)


def test_a_full_run_that_died_is_resumed_after_its_last_committed_shard(loaded: Store) -> None:
    runs_t, t, a = schema.enrich_runs, schema.transactions, schema.accounts
    with pytest.raises(RuntimeError, match="killed"):
        run_enrich(loaded, shard_size=7, executor=_DiesAfter(2))
    everyone = repo.customers_to_enrich(loaded, full=True)
    died = loaded.rows(select(runs_t.c.id, runs_t.c.status, runs_t.c.customers,
                              runs_t.c.resume_after))[0]
    assert tuple(died[1:]) == ("failed", 14, everyone[13])
    # New data for a customer the dead run had already done: the resumed run takes it too.
    account = loaded.rows(
        select(a.c.id).where(a.c.customer_id == everyone[0]).order_by(a.c.id).limit(1))[0][0]
    fresh = loaded.frame(select(t).where(t.c.account_id == account).limit(1)).with_columns(
        id=pl.lit("new-after-crash"), category_source=pl.lit(None, pl.String))
    with loaded.transaction() as conn:
        loaded.write(conn, "transactions", fresh)

    resumed = run_enrich(loaded, shard_size=7)
    assert (resumed.mode, resumed.resumed_from) == ("full", died[0])
    assert resumed.customers == len(everyone) - 14 + 1
    assert _count(loaded, "transactions", t.c.category_source.is_(None)) == 0
    # What the resumed run left is exactly what a run from the beginning writes.
    again = run_enrich(loaded, full=True, shard_size=30)
    assert (again.resumed_from, again.customers, again.updated) == (None, len(everyone), 0)
    assert again.series == _count(loaded, "recurring_series")


def test_a_dead_run_with_other_rules_is_not_resumed(loaded: Store) -> None:
    run_enrich(loaded)
    with pytest.raises(RuntimeError, match="killed"):
        run_enrich(loaded, full=True, shard_size=7, executor=_DiesAfter(1))
    repo.save_rule(loaded, {
        "id": "r", "conditions": [{"field": "channel", "operator": "equals", "value": "card"}],
        "category_detailed": "GENERAL_MERCHANDISE_OTHER_GENERAL_MERCHANDISE", "priority": 1})
    report = run_enrich(loaded, shard_size=7)  # other rules: the dead run's shards are stale
    assert (report.mode, report.resumed_from) == ("full", None)
    assert report.customers == CONFIG.customers


def _enrichment(store: Store) -> pl.DataFrame:
    t = schema.transactions
    return store.frame(
        select(t.c.id, t.c.channel, *[t.c[n] for n in repo.STORED]).order_by(t.c.id)
    )


def test_a_full_rerun_on_unchanged_data_writes_no_row(loaded: Store) -> None:
    run_enrich(loaded, shard_size=7)
    before = _enrichment(loaded)
    again = run_enrich(loaded, full=True, shard_size=7)
    assert (again.mode, again.customers, again.updated) == ("full", CONFIG.customers, 0)
    assert again.transactions == before.height
    assert _enrichment(loaded).equals(before)


def test_a_changed_rule_rewrites_exactly_the_rows_it_changes(loaded: Store) -> None:
    run_enrich(loaded, shard_size=7)
    before = _enrichment(loaded)
    target = "GENERAL_MERCHANDISE_OTHER_GENERAL_MERCHANDISE"
    repo.save_rule(
        loaded,
        {
            "id": "card-is-shopping",
            "conditions": [{"field": "channel", "operator": "equals", "value": "card"}],
            "category_detailed": target,
            "priority": 1,
        },
    )
    report = run_enrich(loaded, shard_size=7)
    after = _enrichment(loaded)
    assert report.mode == "full"
    joined = before.join(after, on="id", suffix="_after")
    moved = joined.filter(
        pl.any_horizontal([pl.col(n).ne_missing(pl.col(f"{n}_after")) for n in repo.STORED])
    )
    # Exactly the card rows the rule takes over, and nothing else, were written.
    expected = before.filter(
        (pl.col("channel") == "card")
        & (pl.col("category_source") != "user")
        & ((pl.col("category_detailed") != target) | (pl.col("category_source") != "rule"))
    )
    assert 0 < report.updated == moved.height == expected.height < before.height
    assert sorted(moved["id"]) == sorted(expected["id"])
    assert set(moved["category_detailed_after"]) == {target}


def test_shard_loads_take_ids_with_quotes_percents_and_backslashes(store: Store) -> None:
    """The Arrow read inlines the ids in its SQL: each must arrive as itself."""
    from datetime import UTC, datetime

    odd = ["c%1", "c'2", "c\\3", "c%%4"]
    with store.transaction() as conn:
        store.write(conn, "customers", pl.DataFrame(
            {"id": odd, "region": ["US"] * 4, "locale": ["en-US"] * 4,
             "timezone": ["America/New_York"] * 4}))
        store.write(conn, "accounts", pl.DataFrame(
            {"id": [f"a-{c}" for c in odd], "customer_id": odd, "type": ["checking"] * 4,
             "currency": ["USD"] * 4}))
        store.write(conn, "transactions", pl.DataFrame(
            {"id": [f"t-{c}" for c in odd], "account_id": [f"a-{c}" for c in odd],
             "booked_at": [datetime(2025, 3, 1, 3, 30, tzinfo=UTC)] * 4,
             "amount_minor": [-100, -200, -300, -400], "currency": ["USD"] * 4,
             "description": ["100% PURE 'JUICE' \\ BAR"] * 4}))
    frame = repo.load_shard(store, odd[:3])
    assert sorted(frame["customer_id"]) == sorted(odd[:3])
    assert frame.sort("amount_minor")["amount_minor"].to_list() == [-300, -200, -100]
    assert set(frame["description"]) == {"100% PURE 'JUICE' \\ BAR"}
    assert set(frame["booked_on"]) == {date(2025, 2, 28)}  # 03:30 UTC is the evening before
    assert frame["old_category"].null_count() == 3


def test_the_behaviour_answers_stored_with_the_text_model_categorize_every_shard(
    loaded: Store,
) -> None:
    """The behaviour step is fitted with the text model and stored under its id; every shard
    of a run with that model applies it to the payments nothing else categorized."""
    first = run_enrich(loaded, shard_size=7)
    assert first.text_model_id is not None
    ctx = repo.latest_context(loaded)
    customers = repo.customers_to_enrich(loaded, full=True)
    from tactful.enrich.pipeline import categorized

    frame = categorized(repo.load_shard(loaded, customers), ctx)
    open_keys = (
        frame.filter((pl.col("category_source") == "uncategorized")
                     & (pl.col("amount_minor") < 0) & pl.col("merchant_key").is_not_null())
        .get_column("merchant_key").unique().sort().head(3).to_list()
    )
    assert open_keys, "the bank has payments nothing categorizes"
    answers = pl.DataFrame({"merchant_key": open_keys,
                            "category_detailed": ["GENERAL_SERVICES_STORAGE"] * len(open_keys),
                            "confidence": [0.93] * len(open_keys)})
    repo.save_behaviour(loaded, first.text_model_id, answers)
    assert repo.load_behaviour(loaded, first.text_model_id).filter(
        pl.col("merchant_key").is_in(open_keys)).height == len(open_keys)

    run_enrich(loaded, full=True, shard_size=7)
    t = schema.transactions
    rows = loaded.rows(select(t.c.category_detailed, func.count())
                       .where(t.c.category_source == "model", t.c.category_confidence == 0.93)
                       .group_by(t.c.category_detailed))
    assert [r[0] for r in rows] == ["GENERAL_SERVICES_STORAGE"] and rows[0][1] >= len(open_keys)


def test_behaviour_answers_outside_the_taxonomy_are_refused(loaded: Store) -> None:
    report = run_enrich(loaded, shard_size=30)
    assert report.text_model_id is not None
    with loaded.transaction() as conn:
        loaded.write(conn, "merchant_behaviour", pl.DataFrame({
            "text_model_id": [report.text_model_id], "merchant_key": ["ACME"],
            "category_detailed": ["FREE_MONEY"], "confidence": [0.99]}))
    with pytest.raises(Exception, match="unknown categories FREE_MONEY"):
        repo.load_behaviour(loaded, report.text_model_id)


def test_a_merchant_alias_makes_the_next_run_full(loaded: Store) -> None:
    """An alias extends the merchant directory, which names merchants and categories on rows
    enriched long ago: like a rule change, it makes the next run a full one, so every row of
    the merchant reads the same, old and new."""
    run_enrich(loaded, shard_size=10)
    assert run_enrich(loaded, shard_size=10).mode == "incremental"
    t = schema.transactions
    tid, merchant = loaded.rows(select(t.c.id, t.c.merchant).where(
        t.c.channel == "card", t.c.merchant.is_not(None)).order_by(t.c.id).limit(1))[0]
    repo.add_alias(loaded, str(merchant), "Zeta Test Merchant", "GENERAL_SERVICES_STORAGE")
    report = run_enrich(loaded, shard_size=10)
    assert report.mode == "full"
    assert loaded.rows(select(t.c.merchant).where(t.c.id == tid))[0][0] == "Zeta Test Merchant"
    assert run_enrich(loaded, shard_size=10).mode == "incremental"
