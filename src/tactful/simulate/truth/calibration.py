"""The simulated population's money measured the way public studies measure real households.

Each figure here has a published counterpart (docs/simulator.md, "Calibration", gives the table
and the sources; ``tests/simulate/test_calibration.py`` holds each within a stated band). The
measures read the generated ledger and the simulator's own truth (true categories), never an
engine output, so a figure moves only when the simulated people behave differently.

>>> from datetime import date
>>> from tactful.simulate import SimulationConfig
>>> from tactful.simulate.generate import generate_chunk
>>> cfg = SimulationConfig(customers=40, months=2, seed=1, start=date(2024, 1, 1))
>>> fig = measure([generate_chunk(cfg, 0, 40)])
>>> fig.card_payments > 0
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.bank.booking import DECLINED
from tactful.simulate.base import taxonomy as T
from tactful.simulate.base.calendar import NEVER
from tactful.simulate.base.rows import CH_CARD, CH_ONLINE, CHECKING, CREDIT_CARD, D_FEE_OD
from tactful.simulate.generate import Chunk
from tactful.simulate.people.regions import REGIONS

F64 = NDArray[np.float64]
NECESSITIES: Final = frozenset(
    {
        "RENT_AND_UTILITIES",
        "MEDICAL",
    }
    | {
        d
        for d in T.DETAILED
        if d
        in (
            "LOAN_PAYMENTS_CAR_PAYMENT",
            "LOAN_PAYMENTS_PERSONAL_LOAN_PAYMENT",
            "LOAN_PAYMENTS_MORTGAGE_PAYMENT",
            "LOAN_PAYMENTS_STUDENT_LOAN_PAYMENT",
            "FOOD_AND_DRINK_GROCERIES",
            "GENERAL_SERVICES_CHILDCARE",
            "GENERAL_SERVICES_INSURANCE",
            "GOVERNMENT_AND_NON_PROFIT_TAX_PAYMENT",
            "TRANSPORTATION_GAS",
            "TRANSPORTATION_PUBLIC_TRANSIT",
        )
    }
)
"""Bank of America Institute's necessity spending: housing, utilities, groceries, fuel and
transit, insurance, health care, child care, and debt payments other than card balances."""
_NOT_SPENDING: Final = ("TRANSFER_OUT", "TRANSFER_IN", "INCOME")


@dataclass(frozen=True, slots=True)
class Figures:
    """One population's figures, each on the customers its source studied: the US studies
    (JPMorgan Chase Institute, Bank of America Institute, CFPB) on US customers, the European
    card sample on euro-area and UK customers. Medians are over customers unless said."""

    buffer_days: float
    """Median days of checking outflows the median checking balance covers (JPMCI cash buffer)."""
    paycheck_to_paycheck: float
    """Share of customers whose necessity spending exceeds 95% of their income (BofA Institute)."""
    income_volatile_months: float
    """Mean number of months a year with income more than 25% off the customer's median month."""
    spending_change: float
    """Median month-to-month absolute change of spending, relative to the earlier month."""
    ticket_tail: float
    """p99 / median of card purchase amounts."""
    frequent_overdrafter_share: float
    """Share of US checking accounts with more than 10 overdraft fees a year (CFPB)."""
    frequent_overdrafter_fees: float
    """Share of all US overdraft fees paid by those accounts."""
    card_payments: float
    """Card purchases per customer per month (all regions)."""


@dataclass(frozen=True, slots=True)
class _Part:
    us: NDArray[np.bool_]
    live: NDArray[np.bool_]
    buffers: F64
    p2p: F64
    volatile: F64
    change: F64
    od: F64
    tickets: F64
    tickets_europe: F64


def measure(chunks: Sequence[Chunk]) -> Figures:
    """The figures of a population generated in ``chunks`` (of one configuration)."""
    parts = [_per_chunk(ch) for ch in chunks]

    def cat(name: str, us: bool = True) -> F64:
        return np.concatenate(
            [getattr(p, name)[(p.us if us else np.ones_like(p.us)) & p.live] for p in parts]
        )

    months = chunks[0].window.months
    n = sum(len(ch.pop) for ch in chunks)
    scale = 12.0 / months
    od = np.concatenate([p.od[p.us] for p in parts])
    frequent = od * scale > 10
    tickets = np.concatenate([p.tickets_europe for p in parts])
    return Figures(
        buffer_days=float(np.median(cat("buffers"))),
        paycheck_to_paycheck=float(np.mean(cat("p2p"))),
        income_volatile_months=float(np.mean(cat("volatile")) * scale),
        spending_change=float(np.median(cat("change"))),
        ticket_tail=float(np.quantile(tickets, 0.99) / np.median(tickets)),
        frequent_overdrafter_share=float(np.mean(frequent)),
        frequent_overdrafter_fees=float(od[frequent].sum() / max(od.sum(), 1.0)),
        card_payments=sum(len(p.tickets) for p in parts) / n / months,
    )


def _per_chunk(ch: Chunk) -> _Part:
    b, rows, pop, w = ch.booked, ch.booked.rows, ch.pop, ch.window
    n = len(pop)
    detailed = np.array(T.DETAILED)[rows.category]
    primary = np.array(T.PRIMARY_OF_DETAILED)[rows.category]
    ok = (b.status != DECLINED) & (rows.fraud == 0)
    month = np.searchsorted(w.month_start(np.arange(w.months + 1)), rows.day, side="right") - 1

    def by_month(mask: NDArray[np.bool_], sign: float) -> F64:
        flat = rows.cust[mask].astype(np.int64) * w.months + month[mask]
        out = np.bincount(flat, weights=sign * b.amount[mask] / 100.0, minlength=n * w.months)
        return out.astype(np.float64).reshape(n, w.months)

    income_m = by_month(ok & (rows.slot == CHECKING) & (primary == "INCOME") & (b.amount > 0), 1)
    # Net of refunds and returned debits (their credits carry the purchase's category).
    spend = ok & np.isin(rows.slot, [CHECKING, CREDIT_CARD])
    spend &= ~np.isin(primary, _NOT_SPENDING) & (detailed != "LOAN_PAYMENTS_CREDIT_CARD_PAYMENT")
    spend_m = by_month(spend, -1)
    need = spend & (np.isin(primary, list(NECESSITIES)) | np.isin(detailed, list(NECESSITIES)))
    need_total = by_month(need, -1).sum(axis=1)
    income = income_m.sum(axis=1)

    out_chk = ok & (rows.slot == CHECKING) & (b.amount < 0)
    own = ("TRANSFER_OUT_SAVINGS", "TRANSFER_OUT_ACCOUNT_TRANSFER")
    out_chk &= ~np.isin(detailed, [*own, "TRANSFER_OUT_INVESTMENT_AND_RETIREMENT_FUNDS"])
    out_total = np.bincount(rows.cust[out_chk], weights=-b.amount[out_chk] / 100.0, minlength=n)
    daily_out = out_total.astype(np.float64) / w.n_days
    balance = np.median(ch.checking_eod, axis=1)
    med = np.median(income_m, axis=1)
    live = (ch.churn.intent_day == NEVER) & (daily_out > 0) & (income > 0) & (med > 0)
    safe_out = np.where(daily_out > 0, daily_out, 1.0)
    prev, nxt = spend_m[:, :-1], spend_m[:, 1:]
    rel = np.abs(nxt - prev) / np.maximum(prev, 1.0)

    card = ok & np.isin(rows.channel, [CH_CARD, CH_ONLINE]) & (b.amount < 0)
    europe = pop.region[rows.cust] != REGIONS.index("US")
    fee = (rows.desc == D_FEE_OD) & ok & (b.amount < 0)
    stay = ch.churn.intent_day == NEVER
    return _Part(
        us=pop.region == REGIONS.index("US"),
        live=live,
        buffers=np.maximum(balance, 0) / safe_out,
        p2p=(need_total > 0.95 * income).astype(np.float64),
        volatile=(np.abs(income_m - med[:, None]) > 0.25 * med[:, None]).sum(axis=1) * 1.0,
        change=np.median(rel, axis=1) if w.months > 1 else np.zeros(n),
        od=np.where(stay, np.bincount(rows.cust[fee], minlength=n), 0) * 1.0,
        tickets=-b.amount[card] / 100.0,
        tickets_europe=-b.amount[card & europe] / 100.0,
    )
