"""Consent changes during the window: a few customers withdraw a purpose in the app.

At onboarding each purpose is granted or denied (personas.py); afterwards some customers
withdraw marketing (~3% a year), personalization (~1.5%), analytics or profiling (~1%), the
order of magnitude banks report for preference-centre opt-outs. A withdrawal is dated; the
response model stops delivering what the customer no longer consents to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.base.calendar import NEVER, Window
from tactful.simulate.base.rng import Keyed
from tactful.simulate.people.personas import PURPOSES, Population

I64 = NDArray[np.int64]
_WITHDRAW_RATE = np.array([0.015, 0.03, 0.01, 0.005, 0.01])


@dataclass(slots=True)
class ConsentChanges:
    withdrawn_day: I64
    """(n, len(PURPOSES)): day a granted purpose is withdrawn, NEVER if not."""
    withdrawn_sec: I64

    def granted(self, pop: Population, purpose: int, day: I64, cust: I64) -> NDArray[np.bool_]:
        """Whether ``purpose`` is granted for customers ``cust`` on ``day``."""
        out: NDArray[np.bool_] = ~pop.consent_denied[cust, purpose] & (
            day < self.withdrawn_day[cust, purpose]
        )
        return out


def draw_consent_changes(r: Keyed, w: Window, pop: Population) -> ConsentChanges:
    g = pop.gidx
    n = len(g)
    k = np.arange(len(PURPOSES))[None, :]
    p = 1.0 - (1.0 - _WITHDRAW_RATE[None, :]) ** (w.months / 12.0)
    happens = (r.uniform("consent.withdraw", g[:, None], k) < p) & ~pop.consent_denied
    day = (r.uniform("consent.day", g[:, None], k) * w.n_days).astype(np.int64)
    sec = 8 * 3600 + r.integers("consent.sec", 14 * 3600, g[:, None], k)
    return ConsentChanges(
        withdrawn_day=np.where(happens, day, NEVER).reshape(n, len(PURPOSES)),
        withdrawn_sec=np.broadcast_to(sec, (n, len(PURPOSES))).astype(np.int64),
    )
