"""Hidden needs: what each customer feels and wants, which the engine never sees.

Every customer carries latent states -- financial stress, saving intent, price sensitivity and an
interest in each product -- that drive both what they do without any message (open a savings
account, stop spending) and how useful a message is to them. Whether a message *helps* is a
noisy function of these states and of timing: a shortfall warning helps a stressed customer
whose balance really goes below zero in the next two weeks; a savings offer helps someone with
idle cash and the intent to save, not someone who already has the product.

The states are drawn per customer from keyed streams (so forks and chunk sizes see the same
people) and moved by the customer's own baseline future (the plan's balances and life events),
never by an engine score or threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tactful.domain.actions import ActionFamily
from tactful.simulate.base.calendar import NEVER
from tactful.simulate.base.rng import Keyed
from tactful.simulate.world.plan import Customers

F64 = NDArray[np.float64]

PRODUCT_GROUPS: Final = ("savings", "credit_card", "loan", "mortgage", "investment", "insurance",
                         "service")
"""Products are grouped by the need they answer."""
PRODUCT_GROUP: Final = {
    "P-SAV-EASY": 0,
    "P-SAV-HY": 0,
    "P-CC-CLASSIC": 1,
    "P-CC-REWARDS": 1,
    "P-CC-TRAVEL": 1,
    "P-LOAN-PERSONAL": 2,
    "P-MORTGAGE-FIXED": 3,
    "P-INV-FUNDS": 4,
    "P-INS-HOME": 5,
    "P-INS-LIFE": 5,
    "P-SVC-OVERDRAFT": 6,
    "P-SVC-ALERTS": 6,
}
INTEREST_BETA: Final = (1.0, 8.0)
"""Interest in a product the customer lacks: Beta(1, 8), mean ~11%. Chosen so that, with the
conversion chain below, ~1-3% of offers sent at random convert (direct-marketing response rates
of a few percent: the UCI bank marketing campaign converted 11.7% of the people it *called*,
9.2% of those never contacted before)."""
LIFE_BOOST: Final = 0.5
"""Interest added for 90 days around a life event that creates the need (a birth for life
insurance and loans, a move for home insurance and mortgages). Chosen."""


@dataclass(slots=True)
class Latent:
    """The hidden states of a chunk's customers (all in [0, 1])."""

    stress: F64
    saving_intent: F64
    price_sensitivity: F64
    interest: F64
    """(n, len(PRODUCT_GROUPS))"""


def draw_latent(r: Keyed, c: Customers) -> Latent:
    g = c.gidx
    below = (c.eod < 0).mean(axis=1)
    low_income = (c.income_level == 0).astype(np.float64)
    stress = np.clip(0.15 + 0.25 * low_income + 0.8 * below + 0.15 * r.normal("w.stress", g), 0, 1)
    intent = _beta(r, "w.intent", g, 2.0 + c.income_level, 3.0)
    price = _beta(r, "w.price", g, 2.0 + 2.0 * low_income, 2.0)
    interest = np.stack(
        [_beta(r, f"w.interest.{k}", g, *INTEREST_BETA) for k in range(len(PRODUCT_GROUPS))],
        axis=1,
    )
    return Latent(stress=stress, saving_intent=intent, price_sensitivity=price, interest=interest)


def _beta(
    r: Keyed, stream: str, g: NDArray[np.int64], a: NDArray[np.floating] | float, b: float
) -> F64:
    """A Beta-like draw in [0, 1]: Kumaraswamy(a, b), whose inverse CDF is closed-form, so one
    keyed uniform gives it (a true Beta would need a gamma sampler outside the keyed streams).
    Its shape is close to Beta(a, b) for the small parameters used here."""
    u = r.uniform(stream, g)
    a_arr = np.broadcast_to(np.asarray(a, dtype=np.float64), u.shape)
    out: F64 = (1.0 - (1.0 - u) ** (1.0 / b)) ** (1.0 / a_arr)
    return out


def help_probability(
    lat: Latent,
    c: Customers,
    i: int,
    day: int,
    family: ActionFamily,
    product_group: int | None,
    holds: bool,
) -> float:
    """How likely this message is to help customer ``i`` (chunk position) on ``day``."""
    n_days = c.eod.shape[1]
    income = max(float(c.monthly_income[i]) / 100.0, 1.0)
    ahead = c.eod[i, day : min(day + 14, n_days)]
    before = c.eod[i, max(0, day - 30) : day + 1]
    dips = bool(len(ahead) and ahead.min() < 0 and c.eod[i, day] >= 0)
    stress = float(lat.stress[i])
    if family in (ActionFamily.SHORTFALL, ActionFamily.LOW_BALANCE):
        return 0.03 + (0.85 * (0.5 + 0.5 * stress) if dips else 0.1 * stress)
    if family in (ActionFamily.BUDGET, ActionFamily.SPENDING_SPIKE):
        recent = float(c.spend[i, max(0, day - 30) : day + 1].sum())
        heavy = min(recent / income, 1.5) / 1.5
        return 0.03 + 0.6 * float(lat.price_sensitivity[i]) * heavy + 0.2 * stress * heavy
    if family is ActionFamily.SAVINGS_OPPORTUNITY:
        idle = bool(len(before) and before.min() > income)
        return 0.03 + (0.8 * float(lat.saving_intent[i]) if idle else 0.05)
    if family is ActionFamily.PRODUCT_OFFER and product_group is not None:
        if holds:
            return 0.01
        p = float(lat.interest[i, product_group])
        job_loss, _new_job, baby, move, _raise = (int(x) for x in c.life_days[i])
        if product_group in (2, 5) and _near(baby, day):
            p += LIFE_BOOST
        if product_group in (3, 5) and _near(move, day):
            p += LIFE_BOOST
        if product_group in (0, 4):
            idle = bool(len(before) and before.min() > income)
            p *= (1.0 + 2.0 * float(lat.saving_intent[i])) if idle else 0.5
        if product_group in (1, 2) and _near(job_loss, day):
            p *= 0.3
        return min(p, 0.95)
    if family in (ActionFamily.UPCOMING_BILL, ActionFamily.PRICE_INCREASE, ActionFamily.FEES):
        return 0.05 + 0.35 * float(lat.price_sensitivity[i])
    if family is ActionFamily.INCOME_CHANGE:
        changed = any(_near(int(x), day, 45) and int(x) <= day for x in c.life_days[i])
        return 0.6 if changed else 0.03
    if family is ActionFamily.SERVICE_MESSAGE:
        return 0.5
    return 0.05 + 0.2 * float(c.engagement[i]) / (1.0 + float(c.engagement[i]))


def _near(event_day: int, day: int, width: int = 90) -> bool:
    return event_day < NEVER and abs(event_day - day) <= width
