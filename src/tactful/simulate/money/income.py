"""Income streams: payroll on real schedules, pensions, gig payouts, invoices, benefits.

Pay frequency follows the region (US: BLS shares weekly 27%, biweekly 43%, semi-monthly 20%,
monthly 10%; UK mostly monthly with some weekly and four-weekly; euro area monthly) and the
country's usual pay day (last working day in the UK and Germany, the 25th in the Netherlands,
Fridays for weekly pay). Weekend pay days move to the Friday before. Life events act here: a
raise is a price change of the payroll series, a job loss ends it and starts unemployment
benefit, a new job starts a new payroll, retirement swaps pay for pensions, a birth starts child
benefit where the country pays one, and a churner's salary moves to the new bank.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.base import calendar as cal
from tactful.simulate.base.calendar import NEVER, Window
from tactful.simulate.base.columns import Builder
from tactful.simulate.base.rng import Keyed
from tactful.simulate.base.rows import (
    CH_TRANSFER,
    D_BENEFIT,
    D_GIG,
    D_SALARY,
    D_SUPPORT,
    D_TAX_REFUND,
    Rows,
)
from tactful.simulate.base.taxonomy import code
from tactful.simulate.counterparties import payers
from tactful.simulate.counterparties.names import name_id
from tactful.simulate.money.pay import (
    BENEFIT_REPLACEMENT,
    SLOT_BENEFIT,
    SLOT_BONUS,
    SLOT_CHILD,
    SLOT_MAIN,
    SLOT_NEWJOB,
    SLOT_SECOND,
    SLOT_TAX,
    PayWriter,
    country_codes,
    employer,
    payer,
    schedule,
)
from tactful.simulate.money.pensions import invoice_rows, pension_series
from tactful.simulate.money.series import (
    K_ALLOWANCE,
    K_BENEFIT,
    K_BONUS,
    K_CHILD_BENEFIT,
    K_GIG,
    K_PAYROLL,
    K_TAX_REFUND,
    R_CUT,
    R_RAISE,
    PriceChanges,
    Series,
)
from tactful.simulate.people.churn import Churn
from tactful.simulate.people.life_events import LifeEvents
from tactful.simulate.people.personas import EMPLOYMENT, PERSONA_INDEX, Population
from tactful.simulate.people.regions import COUNTRIES

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
SLOT_SIDE = 15
SIDE_GIG_SHARE = 0.15
HOURLY_SIGMA = 0.2
"""Per-payment spread of hourly (weekly, biweekly and four-weekly) pay: hours change from week
to week (Lambert, Fugiel & Henly 2014, NLSY97: early-career hourly workers' weekly hours swing by a
large fraction of their usual hours; Fed SHED: ~30% of adults' income varies month to month)."""
HOURLY_CADENCES = (cal.WEEKLY, cal.BIWEEKLY, cal.FOUR_WEEKLY)
"""Pay counted in days is hourly pay. In the UK, four-weekly payrolls are common for hourly
staff in retail and hospitality (``pay.schedule`` turns the fortnightly rhythm into a
four-weekly one there), so its amounts vary with the hours too."""


def _another_employer(r: Keyed, pop: Population, idx: I64) -> NDArray[np.int32]:
    """A new employer for ``idx``, never the one they leave."""
    old = employer(r, pop, idx, "employer.main")
    new = employer(r, pop, idx, "employer.switch")
    for k in range(1, 20):
        same = np.flatnonzero(new == old)
        if len(same) == 0:
            break
        new[same] = employer(r, pop, idx[same], f"employer.switch.{k}")
    return new


def income_series(
    r: Keyed,
    w: Window,
    pop: Population,
    life: LifeEvents,
    churn: Churn,
    series: Builder[Series],
    changes: Builder[PriceChanges],
    rows: Builder[Rows],
) -> None:
    """Append every income stream of the chunk (and the business invoices as rows)."""
    g = pop.gidx
    n = len(g)
    emp = pop.employment
    stop = np.minimum(churn.salary_move_day, NEVER)
    annual = pop.income
    is_student = emp == EMPLOYMENT.index("student")
    is_wage = emp == EMPLOYMENT.index("wage")
    is_pension = emp == EMPLOYMENT.index("pension")
    is_gig = emp == EMPLOYMENT.index("gig")
    is_business = emp == EMPLOYMENT.index("business")
    affluent = pop.persona == PERSONA_INDEX["affluent"]
    bonus_share = np.where(affluent & r.bernoulli("bonus", 0.6, g), 0.12, 0.0)
    dual = (pop.persona == PERSONA_INDEX["family"]) & r.bernoulli("dual", 0.6, g)
    student_job = is_student & r.bernoulli("student.job", 0.6, g)
    student_support = is_student & (~student_job | r.bernoulli("student.support", 0.6, g))
    main_share = np.select([dual, is_student & student_support & student_job], [0.6, 0.5], 1.0) * (
        1 - bonus_share
    )
    sec = np.int32(2 * 3600)
    add_pay = PayWriter(r, pop, series).add

    # Main payroll (wage earners and working students), with raises and its end.
    idx = np.flatnonzero(is_wage | student_job)
    cad, anc = schedule(r, w, pop, idx, "pay.main")
    end = np.minimum.reduce(
        [life.job_loss_day[idx], life.retire_day[idx], life.switch_day[idx] + 1, stop[idx]]
    )
    hourly = np.where(np.isin(cad, HOURLY_CADENCES), HOURLY_SIGMA, 0.0)
    base = add_pay(
        idx,
        SLOT_MAIN,
        K_PAYROLL,
        main_share[idx],
        np.full(len(idx), -400),
        end,
        employer(r, pop, idx, "employer.main"),
        D_SALARY,
        cad,
        anc,
        "INCOME_WAGES",
        hourly,
    )
    mult = np.ones(len(idx))
    for y in range(life.raise_day.shape[1]):
        mult = mult * (1 + life.raise_pct[idx, y])
        m = life.raise_day[idx, y] < NEVER
        changes.add(
            cust=idx[m],
            slot=SLOT_MAIN,
            day=life.raise_day[idx, y][m],
            amount=np.rint(base[m] * mult[m]).astype(np.int64),
            reason=R_RAISE,
        )
    # Parental leave: a quarter of the pay for three months for half of new parents.
    leave = (life.baby_day[idx] < end) & r.bernoulli("leave", 0.5, g[idx])
    changes.add(
        cust=idx[leave],
        slot=SLOT_MAIN,
        day=life.baby_day[idx][leave],
        amount=np.rint(base[leave] * mult[leave] * 0.75).astype(np.int64),
        reason=R_CUT,
    )
    changes.add(
        cust=idx[leave],
        slot=SLOT_MAIN,
        day=life.baby_day[idx][leave] + 90,
        amount=np.rint(base[leave] * mult[leave]).astype(np.int64),
        reason=R_RAISE,
    )

    # The partner's pay in dual-income families.
    idx2 = np.flatnonzero(dual)
    cad, anc = schedule(r, w, pop, idx2, "pay.second")
    add_pay(
        idx2,
        SLOT_SECOND,
        K_PAYROLL,
        np.full(len(idx2), 0.4) * (1 - bonus_share[idx2]),
        np.full(len(idx2), -400),
        stop[idx2],
        employer(r, pop, idx2, "employer.second"),
        D_SALARY,
        cad,
        anc,
        "INCOME_WAGES",
        np.where(np.isin(cad, HOURLY_CADENCES), HOURLY_SIGMA, 0.02),
    )

    # Bonus once a year (March or December).
    idxb = np.flatnonzero(bonus_share > 0)
    series.add(
        cust=idxb,
        slot=SLOT_BONUS,
        kind=K_BONUS,
        cadence=cal.YEARLY,
        anchor_day=np.full(len(idxb), 31),
        anchor_month=np.where(r.bernoulli("bonus.month", 0.5, g[idxb]), 2, 11),
        start=-400,
        end=np.minimum(life.job_loss_day[idxb], stop[idxb]),
        roll=cal.ROLL_PRECEDING,
        amount=np.rint(annual[idxb] * bonus_share[idxb] * 100),
        sigma=0.25,
        channel=CH_TRANSFER,
        category=code("INCOME_WAGES"),
        cparty=employer(r, pop, idxb, "employer.main"),
        desc=D_SALARY,
        sec=sec,
        jitter=3 * 3600,
    )

    # Unemployment benefit after a job loss, until the new job (at most six months).
    lost = np.flatnonzero(life.job_loss_day < NEVER)
    rep = np.array([BENEFIT_REPLACEMENT[c] for c in country_codes(pop, lost)])
    b_start = life.job_loss_day[lost] + 14 + r.integers("benefit.wait", 14, g[lost])
    b_end = np.minimum.reduce([life.new_job_day[lost], life.job_loss_day[lost] + 182, stop[lost]])
    us = country_codes(pop, lost) == "US"
    b_cad = np.where(us, cal.BIWEEKLY, cal.MONTHLY).astype(np.int64)
    b_anchor = np.where(us, b_start, 1 + r.integers("benefit.dom", 27, g[lost]))
    add_pay(
        lost,
        SLOT_BENEFIT,
        K_BENEFIT,
        rep,
        b_start,
        b_end,
        payer(pop, lost, payers.UNEMPLOYMENT_PAYERS),
        D_BENEFIT,
        b_cad,
        b_anchor,
        "INCOME_UNEMPLOYMENT",
    )
    # A new job.
    hired = np.flatnonzero(life.new_job_day < NEVER)
    cad, anc = schedule(r, w, pop, hired, "pay.newjob")
    share = main_share[hired] * r.lognormal("newjob.pay", 0.98, 0.12, g[hired])
    add_pay(
        hired,
        SLOT_NEWJOB,
        K_PAYROLL,
        share,
        life.new_job_day[hired] + 10,
        stop[hired],
        employer(r, pop, hired, "employer.new"),
        D_SALARY,
        cad,
        anc,
        "INCOME_WAGES",
        np.where(np.isin(cad, HOURLY_CADENCES), HOURLY_SIGMA, 0.0),
    )

    # A move straight to another employer: the old payroll stops after the switch day, the new
    # one starts with its own schedule about two weeks later, paying more (job switchers' pay
    # grows faster than stayers': Atlanta Fed Wage Growth Tracker, ~+2 points a year, so a
    # median step of ~+6% here, with a wide spread).
    moved = np.flatnonzero(life.switch_day < stop)
    prior = np.ones(len(moved))
    for y in range(life.raise_day.shape[1]):
        prior = prior * (1 + life.raise_pct[moved, y])
    cad, anc = schedule(r, w, pop, moved, "pay.switch")
    add_pay(
        moved,
        SLOT_NEWJOB,
        K_PAYROLL,
        main_share[moved] * prior * r.lognormal("switch.pay", 1.06, 0.08, g[moved]),
        life.switch_day[moved] + 10 + r.integers("switch.gap", 10, g[moved]),
        stop[moved],
        _another_employer(r, pop, moved),
        D_SALARY,
        cad,
        anc,
        "INCOME_WAGES",
        np.where(np.isin(cad, HOURLY_CADENCES), HOURLY_SIGMA, 0.0),
    )

    # Pensions: retirees, and wage earners who retire in the window.
    pension_series(r, w, pop, life, stop, changes, PayWriter(r, pop, series))

    # Gig platforms: weekly payouts, very uneven, some weeks nothing.
    gig = np.flatnonzero(is_gig)
    two = r.bernoulli("gig.two", 0.5, g[gig])
    for k, (who, share) in enumerate(
        ((gig, np.where(two, 0.65, 1.0)), (gig[two], np.full(two.sum(), 0.35)))
    ):
        platforms = [payers.GIG_PLATFORMS[c] for c in country_codes(pop, who)]
        # one draw for both platforms, the second the next in the list: two draws could name
        # the same platform twice, two "streams" no bank (nor the truth) could tell apart
        pick = r.integers("gig.platform.0", 5, g[who])
        cparty = np.array(
            [name_id(p[(int(i) + k) % len(p)]) for p, i in zip(platforms, pick, strict=True)],
            dtype=np.int32,
        )
        anchor = int((0 - w.weekday(np.array([0]))[0]) % 7) + r.integers(f"gig.wd.{k}", 3, g[who])
        end = np.minimum(life.job_loss_day[who], stop[who])
        add_pay(
            who,
            SLOT_MAIN + k,
            K_GIG,
            share / 0.88,
            np.full(len(who), -400),
            end,
            cparty,
            D_GIG,
            np.full(len(who), cal.WEEKLY),
            anchor,
            "INCOME_WAGES",
            0.45,
            0.12,
        )

    # Side gigs of wage earners: a delivery or ride-hailing platform some weeks, not others
    # (Fed SHED 2022: ~10% of adults did gig work in the month before the survey; Pew 2021: 16%
    # have ever earned money on an online gig platform). Most of the month-to-month income
    # swings the JPMorgan Chase Institute measures come from such irregular pay.
    side = np.flatnonzero(is_wage & r.bernoulli("side.gig", SIDE_GIG_SHARE, g))
    platforms = [payers.GIG_PLATFORMS[c] for c in country_codes(pop, side)]
    pick = r.integers("side.platform", 5, g[side])
    add_pay(
        side,
        SLOT_SIDE,
        K_GIG,
        np.full(len(side), 0.1 / (1 - 0.55)),
        np.full(len(side), -400),
        np.minimum.reduce([life.job_loss_day[side], life.retire_day[side], stop[side]]),
        np.array([name_id(p[int(i) % len(p)]) for p, i in zip(platforms, pick, strict=True)],
                 dtype=np.int32),
        D_GIG,
        np.full(len(side), cal.WEEKLY),
        int((0 - w.weekday(np.array([0]))[0]) % 7) + r.integers("side.wd", 3, g[side]),
        "INCOME_WAGES",
        0.6,
        0.55,
    )

    # Parents' support for students.
    sup = np.flatnonzero(student_support)
    share = np.where(student_job[sup], 0.5, 1.0)
    parent = np.empty(len(sup), dtype=np.int32)
    for ci, c in enumerate(COUNTRIES):
        m = pop.country[sup] == ci
        if np.any(m):
            names = payers.landlords(c)[:40]
            parent[m] = np.array([name_id(x) for x in names])[r.integers("parent", 40, g[sup][m])]
    add_pay(
        sup,
        SLOT_SECOND,
        K_ALLOWANCE,
        share,
        np.full(len(sup), -400),
        stop[sup],
        parent,
        D_SUPPORT,
        np.full(len(sup), cal.MONTHLY),
        1 + r.integers("support.dom", 5, g[sup]),
        "TRANSFER_IN_OTHER_TRANSFER_IN",
    )

    # Child benefit where the country pays one (existing children and new babies).
    kids = pop.children + (life.baby_day < NEVER)
    cb = np.flatnonzero(
        (kids > 0) & np.isin(country_codes(pop, np.arange(n)), list(payers.CHILD_BENEFIT_PAYERS))
    )
    cbc = country_codes(pop, cb)
    per_child = np.array([payers.CHILD_BENEFIT_PAYERS[c][1] for c in cbc])
    existing = pop.children[cb]
    cb_start = np.where(
        existing > 0, -400, life.baby_day[cb] + 30 + r.integers("cb.wait", 30, g[cb])
    )
    cb_cad = np.where(cbc == "GB", cal.FOUR_WEEKLY, cal.MONTHLY).astype(np.int64)
    first_monday = int((0 - w.weekday(np.array([0]))[0]) % 7)
    cb_anchor = np.where(
        cbc == "GB",
        first_monday + 7 * r.integers("cb.phase", 4, g[cb]),
        np.where(cbc == "FR", 5, 20),
    )
    series.add(
        cust=cb,
        slot=SLOT_CHILD,
        kind=K_CHILD_BENEFIT,
        cadence=cb_cad,
        anchor_day=cb_anchor,
        start=cb_start,
        end=stop[cb],
        roll=cal.ROLL_PRECEDING,
        amount=per_child * np.maximum(existing, 1),
        channel=CH_TRANSFER,
        category=code("INCOME_OTHER_INCOME"),
        desc=D_BENEFIT,
        cparty=np.array([name_id(payers.CHILD_BENEFIT_PAYERS[c][0]) for c in cbc], dtype=np.int32),
        sec=sec,
        jitter=3 * 3600,
    )
    new_baby_extra = (existing > 0) & (life.baby_day[cb] < NEVER)
    changes.add(
        cust=cb[new_baby_extra],
        slot=SLOT_CHILD,
        day=life.baby_day[cb][new_baby_extra] + 45,
        amount=per_child[new_baby_extra] * (existing[new_baby_extra] + 1),
        reason=R_RAISE,
    )

    # Tax refunds: most US filers in spring, half of German employees in summer.
    earners = is_wage | is_pension
    for c, p, months, share in (("US", 0.7, (1, 2, 3), 0.05), ("DE", 0.5, (4, 5, 6, 7, 8), 0.025)):
        t = np.flatnonzero(
            earners & (country_codes(pop, np.arange(n)) == c) & r.bernoulli(f"refund.{c}", p, g)
        )
        series.add(
            cust=t,
            slot=SLOT_TAX,
            kind=K_TAX_REFUND,
            cadence=cal.YEARLY,
            anchor_day=1 + r.integers("refund.dom", 28, g[t]),
            anchor_month=np.array(months)[r.integers("refund.month", len(months), g[t])],
            start=-400,
            end=stop[t],
            amount=np.rint(annual[t] * share * 100),
            sigma=0.5,
            channel=CH_TRANSFER,
            category=code("INCOME_TAX_REFUND"),
            desc=D_TAX_REFUND,
            cparty=payer(pop, t, payers.TAX_REFUND_PAYERS),
            sec=sec,
            jitter=3 * 3600,
        )

    invoice_rows(r, w, pop, np.flatnonzero(is_business), stop, series, rows)
