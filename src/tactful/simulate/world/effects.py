"""What a customer's answer does to their future: accounts opened, money moved, spending cut.

Each effect is an edit of the baseline future, applied from the next day (the customer acts on
the day they read the message; the bank books it overnight):

- a converted **savings or investment offer** (or a heeded savings opportunity) opens the account
  if the customer has none and moves a quarter of the checking balance into it -- people who open
  a savings account fund it from their current account (about a quarter of the liquid balance is
  chosen; JPMorgan Chase Institute finds households keep most liquid assets in checking);
- a converted **credit card** offer opens a card with a limit of one month's income (UK Finance
  and Fed G.19 put typical new limits at roughly that order); a **personal loan** opens the loan
  and pays two months' income into the checking account;
- a heeded **shortfall or low-balance warning** moves enough money before the dip to stay above
  zero (from savings if they hold enough, else from an account elsewhere) and the overdraft fees
  of the next 14 days are not charged -- the behaviour the CFPB documents for consumers who get
  low-balance alerts (CFPB 2017 "Consumer voices on overdraft programs": alert users incur fewer
  overdraft fees);
- a converted **budget or spending-spike** insight sets a budget on the customer's largest
  discretionary category; for 60 days each card payment there is skipped with probability 16%
  (Levi & Benartzi 2020, "Mind the App": discretionary spending fell ~15.7% after customers
  started seeing their finances in an app), but only half of budgeters stick to one (chosen);
- other insights (bills, prices, income) are recorded as acted on without a money effect.

Mortgages, insurance and service products are recorded but open no account (a mortgage needs a
house purchase the simulator does not model).
"""

from __future__ import annotations

from typing import Final

import numpy as np

from tactful.domain.actions import ActionFamily, Decision
from tactful.simulate.base.rng import Keyed
from tactful.simulate.base.rows import CHECKING, CREDIT_CARD, INVESTMENT, LOAN, SAVINGS
from tactful.simulate.world.latent import PRODUCT_GROUP
from tactful.simulate.world.plan import Customers, primary_name
from tactful.simulate.world.state import AccountChange, Insert, WorldEvent, WorldState

SWEEP_SHARE: Final = 0.25
"""Share of the checking balance moved into a new savings or investment account."""
BUDGET_CUT: Final = 0.16
"""Probability each card payment in the budgeted category is skipped (Levi & Benartzi ~15.7%)."""
BUDGET_DAYS: Final = 60
BUDGET_STICK: Final = 0.5
SHORTFALL_DAYS: Final = 14
_SLOT_OF_GROUP: Final = {0: SAVINGS, 1: CREDIT_CARD, 2: LOAN, 4: INVESTMENT}
_PRODUCT_OF_SLOT: Final = {
    SAVINGS: "P-SAV-EASY",
    CREDIT_CARD: "P-CC-CLASSIC",
    LOAN: "P-LOAN-PERSONAL",
    INVESTMENT: "P-INV-FUNDS",
}


def apply_conversion(
    r: Keyed, state: WorldState, c: Customers, i: int, day: int, d: Decision, cid: str
) -> None:
    """Edit the future of customer ``i`` (chunk position) after converting on ``day``."""
    a = d.action
    if a is None:
        return
    g, nxt = int(c.gidx[i]), day + 1
    n_days = c.eod.shape[1]
    if nxt >= n_days or state.cut_day[g] <= nxt:
        return
    fam = a.family

    def event(kind: str, detail: str) -> None:
        state.events.append(WorldEvent(cid, nxt, kind, detail, d.decision_id))

    if fam is ActionFamily.PRODUCT_OFFER:
        group = PRODUCT_GROUP.get(a.product_id or "")
        slot = _SLOT_OF_GROUP.get(group) if group is not None else None
        if slot is None:
            event("product_taken", a.product_id or "")
            return
        if open_account(state, c, i, nxt, slot, a.product_id or _PRODUCT_OF_SLOT[slot]):
            event("account_opened", a.product_id or "")
        moved = fund(state, c, i, nxt, slot)
        if moved:
            event("money_moved", f"{a.product_id}:{moved}")
        return
    if fam is ActionFamily.SAVINGS_OPPORTUNITY:
        if not state.holds[g * 6 + SAVINGS]:
            open_account(state, c, i, nxt, SAVINGS, _PRODUCT_OF_SLOT[SAVINGS])
            event("account_opened", _PRODUCT_OF_SLOT[SAVINGS])
        moved = fund(state, c, i, nxt, SAVINGS)
        event("money_saved", str(moved))
        return
    if fam in (ActionFamily.SHORTFALL, ActionFamily.LOW_BALANCE):
        ahead = c.eod[i, nxt : min(nxt + SHORTFALL_DAYS, n_days)]
        low = float(ahead.min()) if len(ahead) else 0.0
        if low >= 0:
            event("warning_heeded", "no dip ahead")
            return
        need = int(np.ceil((-low + 0.05 * c.monthly_income[i] / 100) / 10)) * 1000
        if state.holds[g * 6 + SAVINGS] and state.balance(g, SAVINGS) >= need:
            transfer(state, nxt, g, SAVINGS, CHECKING, need)
        else:
            state.inserts[nxt].append(
                Insert(g, CHECKING, need, "TRANSFER FROM OWN ACCOUNT ELSEWHERE", counterparty="")
            )
        state.fee_free_until[g] = nxt + SHORTFALL_DAYS
        event("shortfall_avoided", str(need))
        return
    if fam in (ActionFamily.BUDGET, ActionFamily.SPENDING_SPIKE):
        if r.uniform("w.budget.stick", g, day) < BUDGET_STICK:
            state.budget_primary[g] = int(c.top_disc[i])
            state.budget_until[g] = nxt + BUDGET_DAYS
            event("budget_set", primary_name(int(c.top_disc[i])))
        else:
            event("budget_abandoned", primary_name(int(c.top_disc[i])))
        return
    event("acted", fam.value)


def open_account(
    state: WorldState, c: Customers, i: int, day: int, slot: int, product_id: str
) -> bool:
    g = int(c.gidx[i])
    if state.holds[g * 6 + slot]:
        return False
    state.holds[g * 6 + slot] = True
    limit = None
    if slot == CREDIT_CARD:
        limit = max(50_000, round(c.monthly_income[i] / 10_000) * 10_000)
    state.accounts[day].append(AccountChange(g, slot, product_id, credit_limit=limit))
    if slot == LOAN:
        amount = max(100_000, round(2 * c.monthly_income[i] / 10_000) * 10_000)
        state.inserts[day].append(Insert(g, LOAN, -amount, "LOAN DISBURSEMENT", "other"))
        state.inserts[day].append(Insert(g, CHECKING, amount, "LOAN DISBURSEMENT", "other"))
    return True


def fund(state: WorldState, c: Customers, i: int, day: int, slot: int) -> int:
    """Move a share of the checking balance into ``slot`` (savings or investments)."""
    if slot not in (SAVINGS, INVESTMENT):
        return 0
    g = int(c.gidx[i])
    amount = int(SWEEP_SHARE * state.balance(g, CHECKING) / 1000) * 1000
    if amount > 0:
        transfer(state, day, g, CHECKING, slot, amount)
    return max(amount, 0)


def transfer(state: WorldState, day: int, g: int, src: int, dst: int, amount: int) -> None:
    names = {CHECKING: "CURRENT ACCOUNT", SAVINGS: "SAVINGS", INVESTMENT: "INVESTMENTS"}
    state.inserts[day].append(Insert(g, src, -amount, f"TRANSFER TO {names[dst]}"))
    state.inserts[day].append(Insert(g, dst, amount, f"TRANSFER FROM {names[src]}"))
