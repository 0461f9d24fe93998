"""From generated rows to booked transactions: placeholders, ledger passes, statuses.

Non-checking accounts are booked first (their card payments decide how much each checking
account pays its card), then the checking accounts, with US overdraft-fee placeholders added for
the accounts whose balance can go below zero at all. The result keeps, per output transaction,
its effective amount, status, running balance and its place among the account's transactions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.bank.accounts import Accounts
from tactful.simulate.bank.ledger import REFUND, AccountParams, LedgerResult, run_ledger
from tactful.simulate.base.calendar import Window
from tactful.simulate.base.columns import Builder
from tactful.simulate.base.rows import (
    CARD,
    CARD_PAY,
    CH_FEE,
    CHECKING,
    D_FEE_OD,
    FOLLOW_FEE,
    INTEREST,
    LINKED,
    OD_FEE,
    STATEMENT,
    SWEEP,
    Rows,
)
from tactful.simulate.base.taxonomy import code
from tactful.simulate.people.personas import Population
from tactful.simulate.people.regions import PROFILES, REGIONS

I64 = NDArray[np.int64]
STATUS: tuple[str, str, str] = ("posted", "pending", "declined")
POSTED, PENDING, DECLINED = 0, 1, 2
_PLACEHOLDERS = (INTEREST, OD_FEE, CARD_PAY, LINKED, SWEEP, REFUND)


@dataclass(slots=True)
class Booked:
    rows: Rows
    """Output rows, sorted by account and booking time."""
    amount: I64
    status: NDArray[np.int8]
    balance: I64
    seq: I64
    """Ordinal of the transaction in its account (0-based), the basis of its id."""
    account: I64
    """Dense account index: position in ``np.flatnonzero(accounts.exists.ravel())``."""
    closing: NDArray[np.int64]
    """(n, 6) closing balances."""


def _params(pop: Population, accts: Accounts, keys: I64) -> AccountParams:
    c, s = keys // 6, keys % 6
    prof = PROFILES[REGIONS[2]]
    us_checking = (s == CHECKING) & (pop.region[c] == 2)
    return AccountParams(
        opening=accts.opening[c, s],
        limit=accts.limit[c, s],
        rate_pos=accts.rate_pos[c, s],
        rate_neg=accts.rate_neg[c, s],
        fee_item=np.where(us_checking, prof.overdraft_item_fee_minor, 0).astype(np.int64),
        fee_cap=np.where(us_checking, prof.overdraft_max_items_per_day, 0).astype(np.int64),
        de_minimis=np.where(us_checking, prof.overdraft_de_minimis_minor, 0).astype(np.int64),
        pay_share=accts.pay_share[c],
        revolver=accts.revolver[c],
    )


def sort_key(
    dense: I64, day: NDArray[np.int32], sec: NDArray[np.int32], order: NDArray[np.int8]
) -> I64:
    """One int64 per row ordering by account, day, second, then ``order``.

    Bits: account 22, day 16 (offset so that negative days sort first), second 17, order 4.
    """
    return (
        (dense.astype(np.int64) << 37)
        | ((day.astype(np.int64) + 1000) << 21)
        | (sec.astype(np.int64) << 4)
        | order.astype(np.int64)
    )


def _parents(pair: I64, lkind: NDArray[np.int8]) -> I64:
    """For each FOLLOW_FEE row, the index of its purchase (same pair id); -1 elsewhere."""
    parent = np.full(len(pair), -1, dtype=np.int64)
    fee = np.flatnonzero(lkind == FOLLOW_FEE)
    if len(fee) == 0:
        return parent
    cand = np.flatnonzero((pair >= 0) & (lkind != FOLLOW_FEE))
    if len(cand) == 0:
        return parent
    order = cand[np.argsort(pair[cand], kind="stable")]
    j = np.minimum(np.searchsorted(pair[order], pair[fee]), len(order) - 1)
    ok = pair[order][j] == pair[fee]
    parent[fee[ok]] = order[j[ok]]
    return parent


def _pass(
    rows: Rows, idx: I64, dense: I64, keys_all: I64, pop: Population, accts: Accounts
) -> tuple[LedgerResult, I64]:
    """Run the ledger over rows ``idx`` (in booking order); returns (result, accounts used)."""
    used, label = np.unique(dense[idx], return_inverse=True)
    parent = _parents(rows.pair[idx], rows.lkind[idx])
    res = run_ledger(
        label.astype(np.int64),
        rows.lkind[idx],
        rows.amount[idx],
        rows.day[idx].astype(np.int64),
        parent,
        rows.fraud[idx] > 0,
        _params(pop, accts, keys_all[used]),
    )
    return res, used


def book(w: Window, pop: Population, accts: Accounts, rows: Rows) -> Booked:
    keys_all = np.flatnonzero(accts.exists.ravel()).astype(np.int64)
    dense = np.searchsorted(keys_all, rows.cust.astype(np.int64) * 6 + rows.slot).astype(np.int64)
    key = sort_key(dense, rows.day, rows.sec, rows.order)
    order = np.argsort(key, kind="stable")
    checking = rows.slot[order] == CHECKING
    idx1 = order[~checking]
    res1, used1 = _pass(rows, idx1, dense, keys_all, pop, accts)
    # Copy each card payment onto its checking-side twin.
    pay = idx1[rows.lkind[idx1] == CARD_PAY]
    pay_amount = res1.amount[rows.lkind[idx1] == CARD_PAY]
    linked = np.flatnonzero(rows.lkind == LINKED)
    if len(linked) and len(pay):
        o = np.argsort(rows.pair[pay], kind="stable")
        j = np.minimum(np.searchsorted(rows.pair[pay][o], rows.pair[linked]), len(o) - 1)
        ok = rows.pair[pay][o][j] == rows.pair[linked]
        rows.amount[linked] = np.where(ok, -pay_amount[o][j], 0)
    idx2 = order[checking]
    rows, dense, idx2 = _add_fee_placeholders(pop, accts, keys_all, rows, dense, idx2)
    res2, used2 = _pass(rows, idx2, dense, keys_all, pop, accts)

    n_rows = len(rows)
    amount = np.zeros(n_rows, dtype=np.int64)
    declined = np.zeros(n_rows, dtype=bool)
    balance = np.zeros(n_rows, dtype=np.int64)
    for res, idx in ((res1, idx1), (res2, idx2)):
        amount[idx], declined[idx], balance[idx] = res.amount, res.declined, res.balance
    closing = accts.opening.copy()
    for res, used in ((res1, used1), (res2, used2)):
        k = keys_all[used]
        closing[k // 6, k % 6] = res.closing
    # Which rows are transactions a bank would show, in booking order.
    final = np.concatenate([idx1, idx2])
    final = final[
        np.argsort(
            sort_key(dense[final], rows.day[final], rows.sec[final], rows.order[final]),
            kind="stable",
        )
    ]
    lk = rows.lkind[final]
    drop = (lk == STATEMENT) | ((lk == FOLLOW_FEE) & declined[final])
    drop |= np.isin(lk, _PLACEHOLDERS) & (amount[final] == 0)
    final = final[~drop]
    out = rows.take(final)
    amount, declined, balance, dense = amount[final], declined[final], balance[final], dense[final]
    status = np.where(declined, DECLINED, POSTED).astype(np.int8)
    recent = out.day >= w.n_days - 2
    status = np.where(~declined & recent & np.isin(out.lkind, (CARD, FOLLOW_FEE)), PENDING, status)
    amount = np.where(declined, out.amount, amount)
    seq = np.arange(len(dense)) - np.searchsorted(dense, dense)
    return Booked(
        rows=out,
        amount=amount,
        status=status.astype(np.int8),
        balance=balance,
        seq=seq.astype(np.int64),
        account=dense,
        closing=closing,
    )


def _add_fee_placeholders(
    pop: Population, accts: Accounts, keys_all: I64, rows: Rows, dense: I64, idx: I64
) -> tuple[Rows, I64, I64]:
    """US checking accounts that can go below zero get an end-of-day fee row per debit day.

    Without a balance below zero no item can overdraw and no fee can be charged (declines only
    raise the balance), so the naive running balance tells which accounts need them.
    """
    d = dense[idx]
    c, s = keys_all[d] // 6, keys_all[d] % 6
    cs = np.cumsum(rows.amount[idx])
    start = np.searchsorted(d, d)
    bal = accts.opening[c, s] + cs - np.concatenate([[0], cs])[start]
    low = np.bincount(d, weights=bal < 1000, minlength=len(keys_all)) > 0
    at_risk = low[d] & (pop.region[c] == 2) & (rows.amount[idx] < 0)
    if not np.any(at_risk):
        return rows, dense, idx
    ad = np.unique(d[at_risk] * 100_000 + rows.day[idx][at_risk])
    acc, day = ad // 100_000, ad % 100_000
    k = keys_all[acc]
    b = Builder(Rows)
    b.extend(rows)
    b.add(
        cust=k // 6,
        slot=k % 6,
        day=day,
        sec=86_390,
        lkind=OD_FEE,
        channel=CH_FEE,
        category=code("BANK_FEES_OVERDRAFT_FEES"),
        desc=D_FEE_OD,
        order=7,
    )
    new_rows = b.build()
    new_idx = np.arange(len(rows), len(new_rows))
    dense2 = np.concatenate([dense, acc])
    both = np.concatenate([idx, new_idx])
    keys = sort_key(dense2[both], new_rows.day[both], new_rows.sec[both], new_rows.order[both])
    return new_rows, dense2, both[np.argsort(keys, kind="stable")]
