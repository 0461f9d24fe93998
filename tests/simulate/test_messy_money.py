"""Money that does not run like clockwork: refunds, returned and retried debits, people, one-off
debits, value dates, employer changes and hourly pay (docs/simulator.md, "Money flows")."""

from __future__ import annotations

import numpy as np

from tactful.simulate.bank.booking import DECLINED
from tactful.simulate.base.calendar import CADENCES, NEVER
from tactful.simulate.base.rows import (
    CH_CARD,
    CH_DD,
    CH_ONLINE,
    D_DD_RETURN,
    D_P2P_OUT,
    D_SUPPORT,
    FOLLOW_FEE,
)
from tactful.simulate.generate import Chunk
from tactful.simulate.money.income import HOURLY_SIGMA
from tactful.simulate.money.pay import SLOT_MAIN, SLOT_NEWJOB
from tactful.simulate.money.series import K_PAYROLL
from tactful.simulate.people.life_events import EVENT_KINDS


def test_refunds_follow_a_purchase_at_the_same_merchant(population: Chunk) -> None:
    b, rows = population.booked, population.booked.rows
    refund = np.flatnonzero((rows.lkind == FOLLOW_FEE) & (b.amount > 0) & (rows.merchant >= 0))
    assert len(refund) > 50
    purchase = np.flatnonzero((rows.pair >= 0) & (rows.lkind != FOLLOW_FEE))
    by_pair = dict(zip(rows.pair[purchase].tolist(), purchase.tolist(), strict=True))
    for i in refund:
        p = by_pair[int(rows.pair[i])]
        assert rows.cust[p] == rows.cust[i] and rows.slot[p] == rows.slot[i]
        assert rows.merchant[p] == rows.merchant[i] and rows.category[p] == rows.category[i]
        assert 2 <= rows.day[i] - rows.day[p] <= 30
        assert b.status[p] != DECLINED and 0 < b.amount[i] <= -b.amount[p]


def test_returned_debits_are_reversed_and_presented_again(population: Chunk) -> None:
    b, rows = population.booked, population.booked.rows
    back = np.flatnonzero(rows.desc == D_DD_RETURN)
    assert len(back) > 0
    n_days = population.window.n_days
    for i in back:
        same = (rows.cust == rows.cust[i]) & (rows.cparty == rows.cparty[i])
        same &= rows.amount == -rows.amount[i]
        original = same & (rows.day == rows.day[i] - 2)
        retry = same & (rows.day == rows.day[i] + 5) & (rows.series >= 0)
        assert original.any()
        assert retry.any() or rows.day[i] + 5 >= n_days
        assert rows.series[i] == -1 and b.amount[i] > 0


def test_people_send_and_receive_money(population: Chunk) -> None:
    rows = population.booked.rows
    out = rows.desc == D_P2P_OUT
    n = len(population.pop)
    senders = np.unique(rows.cust[out])
    assert len(senders) > 0.5 * n
    assert np.any((rows.desc == D_SUPPORT) & (rows.amount > 0) & (rows.cparty >= 0))
    # Each customer pays a small circle of people, again and again.
    per = [len(np.unique(rows.cparty[out & (rows.cust == c)])) for c in senders[:100]]
    assert max(per) <= 6


def test_some_direct_debits_belong_to_no_series(population: Chunk) -> None:
    rows = population.booked.rows
    one_off = (rows.channel == CH_DD) & (rows.series < 0) & (rows.desc != D_DD_RETURN)
    one_off &= rows.amount < 0
    assert one_off.sum() > 100


def test_card_payments_take_value_after_booking(population: Chunk) -> None:
    rows = population.booked.rows
    card = np.isin(rows.channel, [CH_CARD, CH_ONLINE]) & (rows.amount < 0)
    lags = np.bincount(rows.value_lag[card], minlength=4)
    assert lags[0] == 0 and lags[1] > lags[2] > lags[3] > 0
    assert np.all(rows.value_lag[~card] == 0)


def test_employer_changes_swap_payroll_without_a_gap_in_employment(population: Chunk) -> None:
    life, s = population.life, population.series
    moved = np.flatnonzero(life.switch_day < population.churn.salary_move_day)
    assert len(moved) > 10
    assert np.all(life.job_loss_day[moved] == NEVER)
    _, k, _, _ = life.table(population.pop.gidx)
    assert EVENT_KINDS[int(k.max())] == "employer_change"
    for i in moved[:20]:
        pay = np.flatnonzero((s.cust == i) & np.isin(s.slot, [SLOT_MAIN, SLOT_NEWJOB]))
        old = pay[s.end[pay] <= life.switch_day[i] + 1]
        new = pay[s.start[pay] > life.switch_day[i]]
        assert len(old) >= 1 and len(new) == 1
        assert s.cparty[new[0]] not in s.cparty[old]


def test_hourly_pay_varies_from_payment_to_payment(population: Chunk) -> None:
    s, rows = population.series, population.booked.rows
    weekly = np.flatnonzero((s.kind == K_PAYROLL) & (s.cadence == CADENCES.index("weekly")))
    assert np.all(s.sigma[weekly] == HOURLY_SIGMA)
    spreads = []
    for j in weekly[:30]:
        amounts = rows.amount[rows.series == j]
        if len(amounts) > 5:
            spreads.append(np.std(np.log(amounts)))
    assert 0.1 < float(np.median(spreads)) < 0.3
