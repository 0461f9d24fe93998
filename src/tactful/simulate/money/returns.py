"""Direct debits that do not go as scheduled: late, returned unpaid, then presented again.

A biller's collection is not clockwork. Some arrive a few days after their usual date (the
biller's run moves, a bank holiday upstream): ``LATE_SHARE`` of direct debits and standing
orders, 1-3 days late (chosen; no public rate found). A debit that would take the account beyond
its arranged limit is returned unpaid with probability ``RETURN_SHARE`` (banks pay the others into
overdraft, and charge for it where they charge per item) -- "insufficient funds" (R01) is by
far the most common ACH return reason (Nacha), and Bacs returns an unpaid direct debit to the
originator by the third working day (ARUDD). The returned debit shows as the debit
and its reversal two days later; the biller then presents it again a week later (Nacha allows
two re-presentments; UK and SEPA creditors usually retry once, within days), and that retry
belongs to the bill's series like any payment. No returned-item fee is charged: most large US
banks dropped NSF fees in 2022 (CFPB), and UK and euro-area banks charge none to consumers for
an unpaid direct debit in most cases.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.bank.accounts import Accounts
from tactful.simulate.base.calendar import Window
from tactful.simulate.base.columns import Builder
from tactful.simulate.base.rng import Keyed
from tactful.simulate.base.rows import CH_DD, CH_SO, CHECKING, D_DD_RETURN, FIXED, Rows
from tactful.simulate.money.liquidity import projected_balance
from tactful.simulate.people.personas import Population

LATE_SHARE: Final = 0.03
RETURN_SHARE: Final = 0.3
RETURN_LAG, RETRY_LAG = 2, 7


def _collections(rows: Rows) -> NDArray[np.bool_]:
    """Debits a biller collects from checking (not the linked side of a card payment)."""
    out: NDArray[np.bool_] = (
        (rows.slot == CHECKING)
        & (rows.amount < 0)
        & (rows.series >= 0)
        & (rows.lkind == FIXED)
        & (rows.pair < 0)
    )
    return out


def with_late_and_returned(
    r: Keyed, w: Window, pop: Population, accts: Accounts, rows: Rows
) -> Rows:
    """``rows`` with some collections moved late, and returned ones reversed and retried."""
    g = pop.gidx
    coll = _collections(rows) & np.isin(rows.channel, [CH_DD, CH_SO])
    c = np.flatnonzero(coll)
    gg = g[rows.cust[c]]
    # Keys that do not depend on the chunk (a series index does).
    keys = (gg, rows.day[c], rows.sec[c], rows.amount[c])
    late = r.uniform("dd.late", *keys) < LATE_SHARE
    shift = 1 + r.integers("dd.late.days", 3, *keys)
    rows.day[c[late]] += shift[late].astype(rows.day.dtype)

    d = np.flatnonzero(_collections(rows) & (rows.channel == CH_DD))
    d = d[(rows.day[d] >= 0) & (rows.day[d] < w.n_days)]
    bal = projected_balance(w, pop, accts, rows, np.ones(len(rows), dtype=bool))
    cust, day = rows.cust[d].astype(np.int64), rows.day[d].astype(np.int64)
    short = bal[cust, day] < -accts.limit[cust, CHECKING] / 100.0
    gg = g[cust]
    back = short & (r.uniform("dd.return", gg, day, rows.sec[d], rows.amount[d]) < RETURN_SHARE)
    idx = d[back]
    if len(idx) == 0:
        return rows
    reversal = rows.take(idx)
    reversal.amount = -reversal.amount
    reversal.day = reversal.day + RETURN_LAG
    reversal.desc = np.full(len(idx), D_DD_RETURN, dtype=reversal.desc.dtype)
    reversal.series = np.full(len(idx), -1, dtype=reversal.series.dtype)
    retry = rows.take(idx)
    retry.day = retry.day + RETRY_LAG
    out = Builder(Rows)
    out.extend(rows)
    out.extend(reversal)
    out.extend(retry)
    return out.build()


def returned(rows: Rows) -> NDArray[np.bool_]:
    """Which rows are reversals of returned debits."""
    out: NDArray[np.bool_] = rows.desc == D_DD_RETURN
    return out
