"""The simulated bank looks like a bank: shares and counts in plausible public ranges.

Bands are wide on purpose: they catch a broken simulator, not a tuning preference. The sources
of each expectation are in docs/simulator.md.
"""

from __future__ import annotations

import numpy as np

from tactful.simulate.bank.booking import DECLINED
from tactful.simulate.base import taxonomy as T
from tactful.simulate.base.calendar import CADENCES, NEVER
from tactful.simulate.base.rows import CH_CARD, CH_ONLINE, CHECKING, CREDIT_CARD
from tactful.simulate.generate import Chunk
from tactful.simulate.money.series import K_PAYROLL, K_SUBSCRIPTION
from tactful.simulate.people.regions import REGIONS


def _income_and_spending(ch: Chunk) -> tuple[np.ndarray, np.ndarray]:
    b, rows = ch.booked, ch.booked.rows
    n = len(ch.pop)
    primary = np.array(T.PRIMARY_OF_DETAILED)[rows.category]
    detailed = np.array(T.DETAILED)[rows.category]
    ok = b.status != DECLINED
    inc = ok & (rows.slot == CHECKING) & (primary == "INCOME")
    out = ok & (b.amount < 0) & np.isin(rows.slot, [CHECKING, CREDIT_CARD])
    out &= (primary != "TRANSFER_OUT") & (detailed != "LOAN_PAYMENTS_CREDIT_CARD_PAYMENT")
    income = np.bincount(rows.cust[inc], weights=b.amount[inc], minlength=n)
    spend = np.bincount(rows.cust[out], weights=-b.amount[out], minlength=n)
    return income, spend


def test_most_customers_earn_more_than_they_spend(population: Chunk) -> None:
    income, spend = _income_and_spending(population)
    alive = (income > 0) & (population.churn.intent_day == NEVER)
    share = np.mean(income[alive] > spend[alive])
    assert 0.6 < share < 0.97, share


def test_overdraft_share_is_plausible(population: Chunk) -> None:
    b, rows = population.booked, population.booked.rows
    neg = (rows.slot == CHECKING) & (b.status != DECLINED) & (b.balance < 0)
    share = len(np.unique(rows.cust[neg])) / len(population.pop)
    assert 0.05 < share < 0.35, share


def test_subscriptions_per_customer(population: Chunk) -> None:
    s = population.series
    per = np.bincount(s.cust[s.kind == K_SUBSCRIPTION], minlength=len(population.pop))
    assert 2 <= per.mean() <= 8, per.mean()
    assert (per == 0).mean() < 0.3


def test_fraud_is_a_small_share_of_card_payments(population: Chunk) -> None:
    rows = population.booked.rows
    card = np.isin(rows.channel, [CH_CARD, CH_ONLINE])
    share = np.mean(rows.fraud[card] > 0)
    assert 0 < share < 0.003, share


def test_declines_are_rare(population: Chunk) -> None:
    rows, b = population.booked.rows, population.booked
    card = np.isin(rows.channel, [CH_CARD, CH_ONLINE]) & (rows.fraud == 0)
    assert 0 < np.mean(b.status[card] == DECLINED) < 0.05


def test_us_pay_is_mostly_biweekly_and_europe_monthly(population: Chunk) -> None:
    s = population.series
    pay = s.kind == K_PAYROLL
    region = population.pop.region[s.cust]
    us = np.bincount(s.cadence[pay & (region == REGIONS.index("US"))], minlength=8)
    eu = np.bincount(s.cadence[pay & (region == REGIONS.index("EU"))], minlength=8)
    assert np.argmax(us) == CADENCES.index("biweekly")
    assert eu[CADENCES.index("monthly")] == eu.sum()


def test_transactions_per_customer_month(population: Chunk) -> None:
    per = len(population.booked.rows) / len(population.pop) / 6
    assert 25 < per < 90, per
