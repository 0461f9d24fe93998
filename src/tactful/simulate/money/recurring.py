"""Housing, bills, loans and transfers between own accounts, as recurring series.

Rent is a share of income (US renters pay about 30% of income on median, ONS/Eurostat put
housing cost overburden rates in the same range); it is reviewed yearly on the lease
anniversary. Bills come from ``services.BILLERS`` with household-size scaling; UK energy bills
follow the quarterly price cap and UK telecoms raise prices every April (CPI + x% clauses).
A move ends the rent and the address-bound bills and starts new ones. Churners move bills away
one by one between the salary move and the closure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.bank.accounts import Accounts
from tactful.simulate.base import calendar as cal
from tactful.simulate.base.calendar import NEVER, Window
from tactful.simulate.base.columns import Builder
from tactful.simulate.base.rng import Keyed
from tactful.simulate.base.rows import (
    CARD,
    CARD_PAY,
    CH_CARD,
    CH_DD,
    CH_SO,
    CH_TRANSFER,
    CHECKING,
    CREDIT_CARD,
    D_ACH,
    D_CARD_PAY_IN,
    D_CARD_PAY_OUT,
    D_DD,
    D_LOAN_IN,
    D_LOAN_OUT,
    D_OWN_IN,
    D_OWN_OUT,
    D_RENT_US,
    D_SO,
    D_SUB_CARD,
    FIXED,
    INVESTMENT,
    LOAN,
    MORTGAGE,
    SAVINGS,
)
from tactful.simulate.base.taxonomy import code
from tactful.simulate.counterparties import payers
from tactful.simulate.counterparties.billers import BILL_FAMILIES, BILLERS, billers_for
from tactful.simulate.counterparties.names import biller_city_name, name_id
from tactful.simulate.money.series import (
    K_BILL,
    K_CARD_PAYMENT,
    K_CHILDCARE,
    K_LOAN,
    K_MORTGAGE,
    K_RENT,
    K_TAX,
    K_TRANSFER,
    R_PRICE_RISE,
    R_REVIEW,
    PriceChanges,
    Series,
)
from tactful.simulate.people.churn import Churn
from tactful.simulate.people.life_events import LifeEvents
from tactful.simulate.people.personas import HOUSING, PERSONA_INDEX, Population
from tactful.simulate.people.regions import ALL_PLACES, COUNTRIES, PROFILES, REGIONS

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]

_HOUSEHOLD = np.array([0.7, 0.9, 1.5, 1.0, 0.9, 1.2, 1.8])
"""Bill size by persona (student ... affluent), relative to a one-person household."""
SLOT_RENT, SLOT_RENT_NEW, SLOT_LOAN, SLOT_MORTGAGE, SLOT_CARD = 10, 11, 12, 13, 14
SLOT_BILLS, SLOT_BILLS_NEW, SLOT_SAVINGS, SLOT_INVEST, SLOT_SECOND_HALF = 20, 32, 80, 81, 90
USAGE_SIGMA: Final = {"mobile": 0.1, "water": 0.1}
"""Bills that follow use even where the tariff is fixed: mobile extras (roaming, data add-ons,
in-app purchases billed by the carrier) and metered water; chosen, as no public per-bill spread
was found (energy already varies by metered biller, ``billers.py``)."""
RENT_SIGMA, RENT_INCOME_ELASTICITY = 0.45, 0.35
"""Spread of the rent burden and how much faster it falls as income rises (rent grows with
income less than proportionally)."""
"""Bills use SLOT_BILLS + family index (before a move) and SLOT_BILLS_NEW + index (after);
a twice-yearly bill's second payment is a yearly series at SLOT_SECOND_HALF + index."""
ChurnEnd = Callable[[I64, "int | I64"], I64]
_CADENCE = {"monthly": cal.MONTHLY, "quarterly": cal.QUARTERLY, "yearly": cal.YEARLY}


def _countries(pop: Population, idx: I64) -> NDArray[np.str_]:
    return np.array(COUNTRIES)[pop.country[idx]]


def _round_to(x: F64, unit: F64 | float) -> I64:
    return (np.rint(x / unit) * unit * 100).astype(np.int64)


def recurring_series(
    r: Keyed,
    w: Window,
    pop: Population,
    accts: Accounts,
    life: LifeEvents,
    churn: Churn,
    series: Builder[Series],
    changes: Builder[PriceChanges],
) -> None:
    g = pop.gidx
    n = len(g)
    allc = np.arange(n)
    monthly = pop.monthly_income
    closure = churn.closure_day

    def churn_end(idx: I64, slot: int | I64) -> I64:
        return churn.series_end(r, g, idx, np.broadcast_to(np.asarray(slot), idx.shape))

    # --- Rent (before and after a move) and the move of students out of their parents' home.
    renter = pop.housing == HOUSING.index("rent")
    moves_out = (pop.housing == HOUSING.index("parents")) & (life.move_day < NEVER)
    # Rent burden: median ~30% of income, heavier for lower incomes, with a long tail -- half
    # of US renter households pay more than 30% and a quarter more than 50% (Harvard JCHS,
    # State of the Nation's Housing 2024; Eurostat's housing cost overburden is lower but
    # concentrated on the same low-income renters).
    region_median = 47_000 * np.array([PROFILES[x].income_scale for x in REGIONS])[pop.region]
    relative = np.minimum((pop.income / region_median) ** -RENT_INCOME_ELASTICITY, 1.4)
    ratio = np.clip(
        0.3 * relative * np.exp(RENT_SIGMA * r.normal("rent.ratio", g)), 0.12, 0.85
    )
    rent = monthly * ratio
    for slot, who, start, end, mult in (
        (SLOT_RENT, np.flatnonzero(renter), np.full(n, -400), life.move_day, 1.0),
        (
            SLOT_RENT_NEW,
            np.flatnonzero((renter | moves_out) & (life.move_day < NEVER)),
            life.move_day,
            np.full(n, NEVER),
            1.05,
        ),
    ):
        c = _countries(pop, who)
        amount = -_round_to(
            rent[who] * mult * r.lognormal(f"rent.new.{slot}", 1.0, 0.1, g[who]),
            np.where(c == "US", 25.0, 10.0),
        )
        lords = np.array(
            [
                name_id(payers.landlords(x)[int(k)])
                for x, k in zip(c, r.integers(f"landlord.{slot}", 44, g[who]), strict=True)
            ],
            dtype=np.int32,
        )
        manager = r.integers(f"landlord.{slot}", 44, g[who]) >= 40
        us = c == "US"
        desc = np.where(us, np.where(manager, D_ACH, D_RENT_US), D_SO)
        channel = np.where(us, np.where(manager, CH_DD, CH_TRANSFER), CH_SO)
        dom = np.array([1, 28, 3, 15])[
            r.categorical(f"rent.dom.{slot}", np.array([0.6, 0.2, 0.1, 0.1]), g[who])
        ]
        s_end = np.minimum.reduce([end[who], churn_end(who, slot)])
        series.add(
            cust=who,
            slot=slot,
            kind=K_RENT,
            cadence=cal.MONTHLY,
            anchor_day=dom,
            start=start[who] + (slot == SLOT_RENT_NEW) * 5,
            end=s_end,
            roll=cal.ROLL_FOLLOWING,
            amount=amount,
            channel=channel,
            category=code("RENT_AND_UTILITIES_RENT"),
            cparty=lords,
            desc=desc,
            ref=r.integers(f"rent.ref.{slot}", 10**6, g[who]),
            sec=6 * 3600,
            jitter=1800,
        )
        # Yearly review on the lease anniversary.
        month = r.integers(f"rent.review.{slot}", 12, g[who])
        first = w.month_start(month)
        rises = (
            r.bernoulli(f"rent.rise.{slot}", 0.6, g[who])
            & (first > start[who] + 30)
            & (first < s_end)
        )
        pct = r.lognormal(f"rent.pct.{slot}", 0.04, 0.4, g[who])
        changes.add(
            cust=who[rises],
            slot=slot,
            day=first[rises],
            amount=(np.rint(amount[rises] * (1 + pct[rises]) / 100) * 100).astype(np.int64),
            reason=R_REVIEW,
        )

    # --- Mortgage: at this bank (transfer to the mortgage account) or at another lender.
    here = np.flatnonzero(pop.mortgage_here)
    series.add(
        cust=here,
        slot=SLOT_MORTGAGE,
        kind=K_MORTGAGE,
        cadence=cal.MONTHLY,
        anchor_day=1 + r.integers("mort.dom", 28, g[here]),
        start=-400,
        end=closure[here],
        roll=cal.ROLL_FOLLOWING,
        amount=-accts.payment[here, MORTGAGE],
        acct=CHECKING,
        pair_acct=MORTGAGE,
        channel=CH_TRANSFER,
        category=code("LOAN_PAYMENTS_MORTGAGE_PAYMENT"),
        desc=D_LOAN_OUT,
        pair_desc=D_LOAN_IN,
        sec=5 * 3600,
        jitter=600,
    )
    ext = np.flatnonzero((pop.housing == HOUSING.index("mortgage")) & ~pop.mortgage_here)
    lenders = [payers.MORTGAGE_LENDERS[c] for c in _countries(pop, ext)]
    pick = r.integers("lender", 3, g[ext])
    series.add(
        cust=ext,
        slot=SLOT_MORTGAGE,
        kind=K_MORTGAGE,
        cadence=cal.MONTHLY,
        anchor_day=1 + r.integers("mort.dom", 28, g[ext]),
        start=-400,
        end=churn_end(ext, SLOT_MORTGAGE),
        roll=cal.ROLL_FOLLOWING,
        amount=-_round_to(
            monthly[ext] * np.clip(0.22 + 0.05 * r.normal("mort.ratio", g[ext]), 0.1, 0.45), 0.01
        ),
        channel=CH_DD,
        category=code("LOAN_PAYMENTS_MORTGAGE_PAYMENT"),
        desc=D_DD,
        cparty=np.array(
            [name_id(ls[int(k)]) for ls, k in zip(lenders, pick, strict=True)], dtype=np.int32
        ),
        ref=r.integers("mort.ref", 10**8, g[ext]),
        sec=5 * 3600,
        jitter=3600,
    )

    # --- Personal loan at this bank, until repaid.
    ln = np.flatnonzero(accts.exists[:, LOAN])
    months_left = np.ceil(-accts.opening[ln, LOAN] / np.maximum(accts.payment[ln, LOAN], 1) * 1.05)
    series.add(
        cust=ln,
        slot=SLOT_LOAN,
        kind=K_LOAN,
        cadence=cal.MONTHLY,
        anchor_day=1 + r.integers("loan.dom", 28, g[ln]),
        start=-400,
        end=np.minimum(closure[ln], (months_left * 30.44).astype(np.int64)),
        roll=cal.ROLL_FOLLOWING,
        amount=-accts.payment[ln, LOAN],
        pair_acct=LOAN,
        channel=CH_TRANSFER,
        category=code("LOAN_PAYMENTS_PERSONAL_LOAN_PAYMENT"),
        desc=D_LOAN_OUT,
        pair_desc=D_LOAN_IN,
        sec=5 * 3600,
        jitter=600,
    )

    # --- Credit card: monthly payment by direct debit of (part of) the statement balance.
    cc = np.flatnonzero(accts.exists[:, CREDIT_CARD])
    series.add(
        cust=cc,
        slot=SLOT_CARD,
        kind=K_CARD_PAYMENT,
        cadence=cal.MONTHLY,
        anchor_day=1 + r.integers("cc.dom", 28, g[cc]),
        start=-400,
        end=closure[cc],
        roll=cal.ROLL_FOLLOWING,
        amount=0,
        acct=CREDIT_CARD,
        pair_acct=CHECKING,
        lkind=CARD_PAY,
        channel=CH_DD,
        category=code("LOAN_PAYMENTS_CREDIT_CARD_PAYMENT"),
        desc=D_CARD_PAY_IN,
        pair_desc=D_CARD_PAY_OUT,
        sigma=0.0,
        sec=5 * 3600,
        jitter=600,
    )

    # --- Standing orders to savings and investments.
    for slot, acct, p, lo, hi, cat in (
        (SLOT_SAVINGS, SAVINGS, 0.6, 0.04, 0.15, "TRANSFER_OUT_SAVINGS"),
        (SLOT_INVEST, INVESTMENT, 0.7, 0.03, 0.12, "TRANSFER_OUT_INVESTMENT_AND_RETIREMENT_FUNDS"),
    ):
        who = np.flatnonzero(accts.exists[:, acct] & r.bernoulli(f"so.{slot}", p, g))
        share = lo + (hi - lo) * r.uniform(f"so.share.{slot}", g[who])
        series.add(
            cust=who,
            slot=slot,
            kind=K_TRANSFER,
            cadence=cal.MONTHLY,
            anchor_day=np.array([1, 2, 3, 27, 28])[r.integers(f"so.dom.{slot}", 5, g[who])],
            # An account opened inside the window (adoption.py) gets its order after opening.
            start=np.maximum(-400, accts.opened_day[who, acct] + 1),
            end=closure[who],
            roll=cal.ROLL_FOLLOWING,
            amount=-_round_to(monthly[who] * share, 25.0),
            pair_acct=acct,
            channel=CH_SO,
            category=code(cat),
            desc=D_OWN_OUT,
            pair_desc=D_OWN_IN,
            sec=6 * 3600,
            jitter=600,
        )

    _bills(r, w, pop, life, churn, series, changes, allc, churn_end)


def _bills(
    r: Keyed,
    w: Window,
    pop: Population,
    life: LifeEvents,
    churn: Churn,
    series: Builder[Series],
    changes: Builder[PriceChanges],
    allc: I64,
    churn_end: ChurnEnd,
) -> None:
    g = pop.gidx
    country = _countries(pop, allc)
    home = pop.housing != HOUSING.index("parents")
    has = {
        "energy": home,
        "water": home & np.isin(country, ["US", "GB", "ES", "NL"]),
        "internet": home & r.bernoulli("has.internet", 0.92, g),
        "mobile": r.bernoulli("has.mobile", 0.97, g),
        "insurance": pop.car | r.bernoulli("has.ins", 0.3, g),
        "council_tax": home & (country == "GB"),
        "tv_licence": home
        & (((country == "GB") & r.bernoulli("has.tv", 0.85, g)) | (country == "DE")),
        "transit_pass": (country == "FR") & ~pop.car & r.bernoulli("has.navigo", 0.6, g),
        "health_insurance": country == "NL",
        "car_loan": pop.car & r.bernoulli("has.carloan", 0.3, g),
        "childcare": (
            (pop.children > 0) & (pop.age_band <= 2) & r.bernoulli("has.childcare", 0.35, g)
        ),
        "tax": pop.employment == 4,
    }
    address_bound = {"energy", "water", "internet", "council_tax"}
    household = _HOUSEHOLD[pop.persona]
    city = np.array([p.city for p in ALL_PLACES])
    for fi, fam in enumerate(BILL_FAMILIES):
        for phase, slot in ((0, SLOT_BILLS + fi), (1, SLOT_BILLS_NEW + fi)):
            if phase == 1 and fam not in address_bound:
                continue
            m = has[fam] & ((life.move_day < NEVER) if phase else True)
            if fam == "childcare" and phase == 0:
                m = m | (life.baby_day + 200 < w.n_days)
            who = np.flatnonzero(m)
            if len(who) == 0:
                continue
            biller = np.full(len(who), -1)
            for c in np.unique(country[who]):
                sel = country[who] == c
                cands = billers_for(str(c), fam)
                if not cands:
                    continue
                wts = np.array([BILLERS[i].weight for i in cands])
                biller[sel] = np.array(cands)[
                    r.categorical(f"bill.{fam}.{phase}", wts, g[who][sel])
                ]
            who, biller = who[biller >= 0], biller[biller >= 0]
            if len(who) == 0:
                continue
            b = [BILLERS[i] for i in biller]
            place = np.where(phase == 1, life.new_place[who], pop.place[who])
            cparty = np.array(
                [
                    biller_city_name(int(i), str(city[p]))
                    for i, p in zip(biller, place, strict=True)
                ],
                dtype=np.int32,
            )
            median = np.array([x.median_minor for x in b], dtype=np.float64)
            lines = np.where(
                (fam == "mobile") & (pop.persona[who] == PERSONA_INDEX["family"]), 1.8, 1.0
            )
            size = (
                household[who]
                if fam in ("energy", "water", "internet", "health_insurance")
                else 1.0
            )
            amount = (
                median * size * lines * r.lognormal(f"bill.amt.{fam}.{phase}", 1.0, 0.2, g[who])
            )
            cad_names = [x.cadence for x in b]
            if fam == "tax":
                per = np.array([{"quarterly": 4, "semi_annual": 2}.get(cn, 12) for cn in cad_names])
                amount = pop.income[who] * 0.15 / per * 100
            if fam == "childcare":
                amount = median * np.maximum(pop.children[who], 1)
            cadence = np.array([_CADENCE.get(cn, cal.YEARLY) for cn in cad_names])
            card = np.array([x.channel == "card" for x in b])
            us = country[who] == "US"
            start = np.full(len(who), -400)
            if phase == 1:
                start = life.move_day[who] + 10
            if fam == "childcare":
                new_kid = (pop.children[who] == 0) | (life.baby_day[who] < NEVER)
                start = np.where(
                    new_kid, life.baby_day[who] + 180 + r.integers("cc.start", 180, g[who]), start
                )
            end = np.minimum(
                np.where(phase == 0 and fam in address_bound, life.move_day[who], NEVER),
                churn_end(who, slot),
            )
            anchor = 1 + r.integers(f"bill.dom.{fam}", 28, g[who])
            anchor_month = r.integers(f"bill.month.{fam}", 12, g[who])
            skip = 0
            if fam == "council_tax":
                skip = (1 << 1) | (1 << 2)
            if fam == "tax":
                anchor = np.where(us, 15, np.where(country[who] == "GB", 31, 10))
                anchor_month = np.where(country[who] == "GB", 0, anchor_month % 3)
            semi = np.array([cn == "semi_annual" for cn in cad_names])
            for part in (0, 1):
                sel = np.flatnonzero(semi) if part else np.arange(len(who))
                if part == 1 and len(sel) == 0:
                    continue
                series.add(
                    cust=who[sel],
                    slot=SLOT_SECOND_HALF + fi if part else slot,
                    kind=np.select(
                        [fam == "childcare", fam == "tax", fam == "car_loan"],
                        [K_CHILDCARE, K_TAX, K_LOAN],
                        K_BILL,
                    ),
                    cadence=cadence[sel],
                    anchor_day=anchor[sel],
                    anchor_month=(anchor_month[sel] + part * 6) % 12,
                    start=start[sel],
                    end=end[sel],
                    roll=np.where(card[sel], cal.ROLL_NONE, cal.ROLL_FOLLOWING),
                    amount=-np.rint(amount[sel]).astype(np.int64),
                    sigma=np.maximum(
                        np.array([x.variable for x in b])[sel], USAGE_SIGMA.get(fam, 0.0)
                    ),
                    seasonal=np.array([x.seasonal for x in b])[sel],
                    skip_months=skip,
                    lkind=np.where(card[sel], CARD, FIXED),
                    channel=np.where(card[sel], CH_CARD, CH_DD),
                    category=np.array([code(x.category) for x in b])[sel],
                    cparty=cparty[sel],
                    desc=np.where(card[sel], D_SUB_CARD, np.where(us[sel], D_ACH, D_DD)),
                    ref=r.integers(f"bill.ref.{fam}", 10**9, g[who][sel]),
                    sec=np.where(card[sel], 8 * 3600, 4 * 3600),
                    jitter=3 * 3600,
                )
            _bill_changes(r, w, who, slot, country[who], fam, amount, start, end, g[who], changes)


def _bill_changes(
    r: Keyed,
    w: Window,
    who: I64,
    slot: int,
    country: NDArray[np.str_],
    fam: str,
    amount: F64,
    start: I64,
    end: I64,
    g: I64,
    changes: Builder[PriceChanges],
) -> None:
    """Price-cap reviews (UK energy), April telecom rises (UK), otherwise a yearly review."""
    firsts = w.month_start(np.arange(w.months))
    months = w.calendar_month(firsts)
    current = amount.copy()
    for k, day in enumerate(firsts):
        mo = int(months[k])
        if fam == "energy":
            hit = (country == "GB") & (mo % 3 == 0)
            factor = 0.92 + 0.18 * r.uniform("cap", np.full(len(who), day))
        elif fam in ("internet", "mobile"):
            hit = (country == "GB") & (mo == 3)
            factor = np.full(len(who), 1.079)
        else:
            hit = np.zeros(len(who), dtype=bool)
            factor = np.ones(len(who))
        review = (country != "GB") | ~np.isin(fam, ["energy", "internet", "mobile"])
        yearly = (
            review
            & (r.integers(f"review.{fam}", 12, g) == mo)
            & r.bernoulli(f"review.p.{fam}", 0.3, g, k // 12)
        )
        factor = np.where(yearly, 1.0 + 0.08 * r.uniform(f"review.f.{fam}", g, k // 12), factor)
        hit = (hit | yearly) & (day > start) & (day < end) & (k > 0)
        current = np.where(hit, current * factor, current)
        if np.any(hit):
            changes.add(
                cust=who[hit],
                slot=slot,
                day=np.full(hit.sum(), day),
                amount=-np.rint(current[hit]).astype(np.int64),
                reason=np.where(factor[hit] > 1, R_PRICE_RISE, R_REVIEW),
            )
