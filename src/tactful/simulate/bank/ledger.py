"""The bank's ledger: running balances, declines, overdraft fees, interest, card payments.

Balances are path-dependent (a declined payment leaves money for the next one; a fee makes the
next payment more likely to be declined), so the ledger walks each account's rows in booking
order. It does so for all accounts of a chunk at once: step k processes the k-th row of every
account that has one, vectorised across accounts, so the Python loop runs once per row *position*
(a few thousand times a year), never once per transaction.

Rules (docs/simulator.md, "Balances and fees"):
- a card payment or ATM withdrawal is declined if it would take the balance below ``-limit``
  (the arranged overdraft, or the credit limit of a card; 0 for US debit cards not opted in to
  overdraft coverage); transfers and direct debits always post, even beyond the limit;
- US: a per-item overdraft fee for every item that overdraws the account, at most three a day,
  none when the day ends less than the de-minimis amount below zero;
- UK and euro area: overdraft interest accrued daily, charged monthly; savings interest accrued
  daily, paid monthly; loans and mortgages accrue interest daily, charged monthly;
- credit cards: the statement cut remembers the balance; the payment due ~3 weeks later is the
  whole statement balance (transactors) or a share of it, at least the minimum (revolvers);
- approved fraud is refunded once reported; closure sweeps the balance to zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.base.rows import (
    CARD,
    CARD_PAY,
    FOLLOW_FEE,
    FORCE_DECLINE,
    INTEREST,
    LINKED,
    OD_FEE,
    STATEMENT,
    SWEEP,
)

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
REFUND = 10
"""Credit of the approved fraud on the account since the last refund."""


@dataclass(slots=True)
class AccountParams:
    """One entry per account taking part in a ledger pass."""

    opening: I64
    limit: I64
    rate_pos: F64
    rate_neg: F64
    fee_item: I64
    fee_cap: I64
    de_minimis: I64
    pay_share: F64
    revolver: NDArray[np.bool_]


@dataclass(slots=True)
class LedgerResult:
    amount: I64
    """Effective amount of each row (0 for declined rows and empty placeholders)."""
    declined: NDArray[np.bool_]
    balance: I64
    """Balance after the row (after the previous row for declined ones)."""
    closing: I64


def run_ledger(
    account: I64,
    lkind: NDArray[np.int8],
    amount: I64,
    day: I64,
    parent: I64,
    fraud: NDArray[np.bool_],
    params: AccountParams,
) -> LedgerResult:
    """Walk rows grouped by ``account`` (0..A-1, each group in booking order).

    ``parent`` is, for FOLLOW_FEE rows, the row index of the purchase the fee belongs to.
    """
    n_rows = len(account)
    n_acc = len(params.opening)
    out_amount = np.zeros(n_rows, dtype=np.int64)
    out_decl = np.zeros(n_rows, dtype=bool)
    out_bal = np.zeros(n_rows, dtype=np.int64)
    counts = np.bincount(account, minlength=n_acc)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    perm = np.argsort(-counts, kind="stable")
    lens = counts[perm]
    first = starts[perm]
    p = params
    bal = p.opening[perm].copy()
    limit = p.limit[perm]
    rpos, rneg = p.rate_pos[perm], p.rate_neg[perm]
    fee_item, fee_cap, de_min = p.fee_item[perm], p.fee_cap[perm], p.de_minimis[perm]
    share, revolver = p.pay_share[perm], p.revolver[perm]
    accr = np.zeros(n_acc)
    last_day = np.zeros(n_acc, dtype=np.int64)
    today = np.full(n_acc, -1, dtype=np.int64)
    items = np.zeros(n_acc, dtype=np.int64)
    stmt = np.zeros(n_acc, dtype=np.int64)
    owed_fraud = np.zeros(n_acc, dtype=np.int64)
    max_len = int(lens.max(initial=0))
    active_n = np.searchsorted(-lens, -np.arange(max_len), side="left")
    for k in range(max_len):
        m = int(active_n[k])
        r = first[:m] + k
        kind = lkind[r]
        amt = amount[r]
        d = day[r]
        b = bal[:m]
        dt = d - last_day[:m]
        accr[:m] += b * np.where(b > 0, rpos[:m], rneg[:m]) * dt / 365.0
        last_day[:m] = d
        new_day = d != today[:m]
        items[:m] = np.where(new_day, 0, items[:m])
        today[:m] = d
        eff = amt.copy()
        is_int = kind == INTEREST
        if is_int.any():
            eff = np.where(is_int, np.rint(accr[:m]).astype(np.int64), eff)
            accr[:m] = np.where(is_int, 0.0, accr[:m])
        is_fee = kind == OD_FEE
        if is_fee.any():
            n_items = np.minimum(items[:m], fee_cap[:m])
            charge = (b < -de_min[:m]) & (n_items > 0)
            eff = np.where(is_fee, np.where(charge, -fee_item[:m] * n_items, 0), eff)
        is_stmt = kind == STATEMENT
        if is_stmt.any():
            stmt[:m] = np.where(is_stmt, b, stmt[:m])
            eff = np.where(is_stmt, 0, eff)
        is_pay = kind == CARD_PAY
        if is_pay.any():
            owed = np.maximum(-stmt[:m], 0)
            minimum = np.minimum(owed, np.maximum(2500, owed * 3 // 100))
            due = np.where(
                revolver[:m], np.maximum(minimum, np.rint(owed * share[:m]).astype(np.int64)), owed
            )
            due = np.minimum(due, np.maximum(-b, 0))
            eff = np.where(is_pay, due, eff)
        is_sweep = kind == SWEEP
        if is_sweep.any():
            eff = np.where(is_sweep, -b, eff)
        is_refund = kind == REFUND
        if is_refund.any():
            eff = np.where(is_refund, owed_fraud[:m], eff)
            owed_fraud[:m] = np.where(is_refund, 0, owed_fraud[:m])
        declined = (kind == FORCE_DECLINE) | ((kind == CARD) & (eff < 0) & (b + eff < -limit[:m]))
        is_follow = kind == FOLLOW_FEE
        if is_follow.any():
            declined |= is_follow & out_decl[np.where(is_follow, parent[r], 0)]
        eff = np.where(declined, 0, eff)
        nb = b + eff
        bal[:m] = nb
        counts_item = (eff < 0) & (nb < 0) & ((kind == CARD) | (kind == 0) | (kind == LINKED))
        items[:m] += counts_item
        fr = fraud[r]
        if fr.any():
            owed_fraud[:m] -= np.where(fr & ~declined, eff, 0)
        out_amount[r] = eff
        out_decl[r] = declined
        out_bal[r] = nb
    closing = np.empty(n_acc, dtype=np.int64)
    closing[perm] = bal
    return LedgerResult(out_amount, out_decl, out_bal, closing)
