"""The causes and hidden needs the truth records are real in the simulated flows: a recorded rise
of spending shows in the category's payments, a recorded shortfall in the balance path."""

from __future__ import annotations

import numpy as np
import polars as pl

from tactful.simulate.base.taxonomy import DETAILED, PRIMARY_OF_DETAILED
from tactful.simulate.counterparties import merchants as mc
from tactful.simulate.generate import Chunk
from tactful.simulate.people.habits import SHIFT_CAUSES, kind_category
from tactful.simulate.people.needs import BUFFER_WEEKS, IDLE_DAYS, needs_of


def _daily_payments(ch: Chunk, c: int, category: int) -> np.ndarray:
    """Card payments per day (counts: the factor changes how often, not how much)."""
    rows, n_days = ch.booked.rows, ch.window.n_days
    m = (rows.cust == c) & (rows.category == category) & (ch.booked.amount < 0)
    m &= (rows.day >= 0) & (rows.day < n_days) & (rows.series < 0)
    out = np.zeros(n_days)
    np.add.at(out, rows.day[m], 1.0)
    return out


def test_recorded_habit_changes_move_the_category_spending(population: Chunk) -> None:
    sh, n_days = population.shifts, population.window.n_days
    up, down = [], []
    for i in range(len(sh.cust)):
        lo, hi = int(sh.start[i]), min(int(sh.end[i]), n_days)
        if SHIFT_CAUSES[sh.cause[i]] not in ("new_habit", "cutback") or lo < 30 or hi - lo < 30:
            continue
        with mc.using(mc.table_for(5)):  # the population fixture's seed: its merchant world
            category = kind_category(int(sh.kind[i]))
        spend = _daily_payments(population, int(sh.cust[i]), category)
        inside = np.zeros(n_days, dtype=bool)
        for j in np.flatnonzero((sh.cust == sh.cust[i]) & (sh.kind == sh.kind[i])):
            inside[max(int(sh.start[j]), 0) : min(int(sh.end[j]), n_days)] = True
        (up if sh.factor[i] > 1 else down).append(
            (spend[lo:hi].sum(), (hi - lo) * spend[~inside].mean())
        )
    assert len(up) > 20 and len(down) > 10
    ratio_up = sum(a for a, _ in up) / sum(b for _, b in up)
    ratio_down = sum(a for a, _ in down) / sum(b for _, b in down)
    assert ratio_up > 1.5, ratio_up
    assert ratio_down < 0.75, ratio_down


def test_needs_read_the_simulated_balance_path(population: Chunk) -> None:
    nd = needs_of(population)
    eod = population.checking_eod
    c, d = np.nonzero(nd.shortfall_day >= 0)
    assert len(c) > 0
    s = nd.shortfall_day[c, d]
    assert (eod[c, d] >= 0).all() and (s > d).all() and (eod[c, s] < 0).all()
    # stressed and idle are states of a minority / a good part of the customers, not everyone
    assert 0.05 < nd.stressed.mean() < 0.6, nd.stressed.mean()
    assert 0.1 < nd.idle[:, -1].mean() < 0.9, nd.idle[:, -1].mean()
    ci = np.flatnonzero(nd.idle[:, -1])
    six_weeks = population.pop.monthly_income[ci] * 12 / 52 * BUFFER_WEEKS
    assert (eod[ci, -IDLE_DAYS:].min(axis=1) > six_weeks).all()


def test_truth_records_the_causes_and_the_needs(tables: dict[str, pl.DataFrame]) -> None:
    changes = tables["truth_behaviour_changes"]
    assert set(changes["cause"].unique()) <= set(SHIFT_CAUSES)
    assert changes.filter(pl.col("cause") == "new_habit").height > 0
    assert set(changes["category_detailed"]) <= set(DETAILED)
    pairs = set(zip(PRIMARY_OF_DETAILED, DETAILED, strict=True))
    assert set(changes.select("category_primary", "category_detailed").iter_rows()) <= pairs
    new = changes.filter(pl.col("cause") == "new_baby")
    assert new["factor"].null_count() == new.height
    needs = tables["truth_customer_needs"]
    customers = set(tables["customers"]["customer_id"])
    assert set(needs["customer_id"]) <= customers
    assert (needs["stressed"] | needs["idle_cash"] | needs["shortfall_date"].is_not_null()).all()
    ahead = needs.filter(pl.col("shortfall_date").is_not_null())
    assert (ahead["shortfall_date"] > ahead["date"]).all()
