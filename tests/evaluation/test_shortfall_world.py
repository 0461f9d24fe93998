"""The living-world shortfall evaluation's moving parts on a tiny world.

Specifications: the warnings it sends are accepted by the world in every simulated time zone,
one outcome each; an arm that loads its world's day folders week by week ends with the same
store as one that loads them at once (the same rows, the same merchants).
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from tactful.evaluation.shortfall_world import _arm, _decisions
from tactful.simulate import SimulationConfig
from tactful.simulate.world import World

CONFIG = SimulationConfig(customers=60, months=2, seed=19, start=date(2025, 1, 1))
FORK = date(2025, 1, 20)


@pytest.fixture(scope="module")
def arms(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, World, set[str], set[str]]:
    """A world warned daily for three weeks after ``FORK`` and its silent fork, both to the end;
    with the ids of the warnings sent and of those the world answered."""
    root = tmp_path_factory.mktemp("sw")
    warned = World(CONFIG, root / "warned" / "out", workdir=root / "plan", fmt="parquet")
    warned.step(until=FORK + timedelta(days=1))
    silent = warned.fork(root / "silent" / "out", warned.snapshot())
    sent: set[str] = set()
    answered: set[str] = set()
    for k in range(21):
        day = FORK + timedelta(days=1 + k)
        decisions = _decisions(warned.customer_ids(), day)
        sent |= {d.decision_id for d in decisions}
        answered |= {o.decision_id for o in warned.step(until=day + timedelta(days=1),
                                                        decisions=decisions)}
        silent.step(until=day + timedelta(days=1))
    for w in (warned, silent):
        w.step(until=CONFIG.end)
    return warned, silent, sent, answered


def test_every_warning_is_answered_in_every_time_zone(
    arms: tuple[World, World, set[str], set[str]]
) -> None:
    warned, _, sent, answered = arms
    people = pl.read_parquet(warned.out / "days" / CONFIG.start.isoformat() / "customers.parquet")
    assert people.get_column("timezone").n_unique() >= 3
    assert len(sent) > 21 * 50
    assert answered <= sent and len(answered) > len(sent) // 2, (len(answered), len(sent))


def _table(db: Path, sql: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(db)
    try:
        return sorted(con.execute(sql).fetchall())
    finally:
        con.close()


def test_loading_week_by_week_gives_the_store_a_single_load_gives(
    arms: tuple[World, World, set[str], set[str]], tmp_path: Path
) -> None:
    _, silent, _, _ = arms
    stepwise = _arm(silent, tmp_path / "stepwise")
    for week in (1, 3, 6):
        stepwise.catch_up(through=CONFIG.start + timedelta(days=7 * week))
    stepwise.catch_up()
    once = _arm(silent, tmp_path / "once")
    once.catch_up()
    for arm in (stepwise, once):
        arm.store.close()
    # what was loaded (categories may differ: the text model each store trained on its own
    # first data is the store's own, kept until retrained)
    sql = "select id, account_id, amount_minor, booked_at, status, merchant from transactions"
    a, b = (_table(tmp_path / name / "tactful.db", sql) for name in ("stepwise", "once"))
    assert a == b and len(a) > 1000
