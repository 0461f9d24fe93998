"""What happens with no message at all: product openings, joins and tired customers leaving.

The baseline plan already carries the life of every customer without the bank's messages: job
losses and new jobs, moves, births, and switching banks (churn, `simulate/people/churn.py`). The
world adds what the batch simulator could not, because it needs the clock:

- **product openings** on the customer's own initiative: a savings account 3% a year for those
  without one (x (0.5 + saving intent)), a credit card 3% a year, investments 1% a year. Chosen
  to match the slow drift of ownership rates between waves of the Fed's Survey of Consumer
  Finances (a few points over three years) -- they are the no-message arm's conversions, the
  reason uplift differs from response;
- **joins**: 10% of the starting base a year joins during the window (gross acquisition about
  equal to attrition, so the base stays roughly stable, as retail banks' 5-15% yearly attrition
  implies for a bank that is not shrinking); see ``joiners``;
- **tired customers leave**: each message the customer dismissed or received as the third within
  a week in the last 30 days raises the yearly hazard of switching banks by 8 points (on top of
  the baseline churn in the plan); the switch completes 30 days later. Chosen; Gartner (2019)
  reported that customers drop brands whose marketing feels irrelevant, which is the direction,
  not the size.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from tactful.simulate.base.calendar import NEVER
from tactful.simulate.base.rng import Keyed
from tactful.simulate.base.rows import CREDIT_CARD, INVESTMENT, SAVINGS
from tactful.simulate.exports.frames import customer_id
from tactful.simulate.world.effects import fund, open_account
from tactful.simulate.world.latent import Latent
from tactful.simulate.world.plan import Customers
from tactful.simulate.world.state import WorldEvent, WorldState

OPEN_RATES: Final = ((SAVINGS, 0.03, "P-SAV-EASY"), (CREDIT_CARD, 0.03, "P-CC-CLASSIC"),
                     (INVESTMENT, 0.01, "P-INV-FUNDS"))
JOIN_RATE: Final = 0.10
FATIGUE_CHURN: Final = 0.08
LEAVE_AFTER: Final = 30


def joiners(customers: int, months: int) -> int:
    """How many customers join during the window."""
    return round(customers * JOIN_RATE * months / 12)


def spontaneous(r: Keyed, state: WorldState, c: Customers, lat: Latent, day: int) -> None:
    """Draw the day's no-message events for a chunk's customers."""
    g = c.gidx
    alive = (state.cut_day[g] > day) & (c.closure_day > day) & (c.join_day <= day)
    for slot, rate, product in OPEN_RATES:
        lacks = alive & ~state.holds[g * 6 + slot]
        scale = (0.5 + lat.saving_intent) if slot == SAVINGS else 1.0
        hit = lacks & (r.uniform(f"w.spont.open.{slot}", g, day) < rate / 365 * scale)
        for i in np.flatnonzero(hit):
            if open_account(state, c, int(i), day, slot, product):
                fund(state, c, int(i), day, slot)
                cid = customer_id(int(g[i]))
                state.events.append(WorldEvent(cid, day, "account_opened", product))
    if state.tiring:
        for gi, days in list(state.tiring.items()):
            pos = int(np.searchsorted(g, gi))
            if pos >= len(g) or g[pos] != gi or not alive[pos]:
                continue
            n = sum(1 for d in days if day - 30 < d <= day)
            if n and float(r.uniform("w.spont.leave", gi, day)) < FATIGUE_CHURN * n / 365:
                leave = day + LEAVE_AFTER
                if leave < c.eod.shape[1] and state.cut_day[gi] == NEVER:
                    state.cut_day[gi] = leave
                    cid = customer_id(gi)
                    state.events.append(WorldEvent(cid, day, "decided_to_leave", "fatigue"))
