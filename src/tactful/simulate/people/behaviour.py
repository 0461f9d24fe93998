"""App behaviour: login habits, sessions, feature use, and reading the bank's own alerts.

Five habits (the 7 a.m. daily checker, the evening checker, the weekly user, the payday checker,
the dormant). Mobile banking surveys (ABA/Morning Consult 2022; Fed SHED) report most adults use
a banking app at least monthly and a large minority daily; sessions are short (a minute or two,
mostly a balance check). Sessions become more frequent when the balance is low or after a job
loss and fade for churners. The bank's own service alerts (pay received, large payment, low
balance, declined card) are delivered on the customer's channel and opened
according to the customer's reading rhythm: the evidence of when and where a customer reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tactful.simulate.bank.booking import DECLINED
from tactful.simulate.base.calendar import NEVER
from tactful.simulate.base.order import lexsort
from tactful.simulate.base.rng import Keyed
from tactful.simulate.base.rows import CH_TRANSFER, CHECKING
from tactful.simulate.generate import Chunk
from tactful.simulate.people.personas import HABITS, QUIET

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
EVENT_KINDS: Final = (
    "login",
    "feature_used",
    "session_end",
    "notification_delivered",
    "notification_opened",
    "consent_change",
)
E_LOGIN, E_FEATURE, E_END, E_DELIVERED, E_OPENED, E_CONSENT = range(6)
FEATURES: Final = (
    "transactions",
    "transfer",
    "bill_pay",
    "card_controls",
    "insights",
    "budget",
    "savings_goals",
    "statements",
    "support_chat",
    "offers",
    "settings",
)
_FEATURE_W: Final = np.array([0.35, 0.15, 0.08, 0.05, 0.08, 0.05, 0.05, 0.05, 0.04, 0.03, 0.07])
ALERTS: Final = ("income_received", "large_payment", "low_balance", "card_declined")
NOTIFY_CHANNELS: Final = ("push", "email", "sms")
DEVICES: Final = ("ios", "android", "web")
_MAIN_P: Final = np.array([0.78, 0.72, 0.0, 0.0, 0.0])
_OTHER_P: Final = np.array([0.12, 0.12, 0.05, 0.04, 0.018])


@dataclass(slots=True)
class Events:
    cust: I64
    kind: I64
    day: I64
    sec: I64
    session: I64
    """Ordinal of the session within the customer (-1 for non-session events)."""
    duration: F64
    feature: I64
    channel: I64
    attr: I64
    """Alert index for notifications, purpose for consent changes, device for logins."""


@dataclass(slots=True)
class Sessions:
    cust: I64
    day: I64
    sec: I64


def _sessions(r: Keyed, chunk: Chunk) -> Sessions:
    pop, w, churn, life = chunk.pop, chunk.window, chunk.churn, chunk.life
    g = pop.gidx
    n, n_days = len(g), w.n_days
    days = np.arange(n_days)
    habit = pop.habit
    wd = w.weekday(days)
    fav_day = r.integers("fav_weekday", 7, g)
    p_main = np.broadcast_to(_MAIN_P[habit][:, None], (n, n_days)).copy()
    weekly = habit == HABITS.index("weekly")
    p_main = np.where(weekly[:, None] & (wd[None, :] == fav_day[:, None]), 0.7, p_main)
    payday = habit == HABITS.index("payday")
    paid = np.zeros((n, n_days), dtype=bool)
    b = chunk.booked
    inc = (b.rows.slot == CHECKING) & (b.amount > 0) & (b.rows.channel == CH_TRANSFER)
    paid[b.rows.cust[inc], b.rows.day[inc]] = True
    after = np.concatenate([np.zeros((n, 1), bool), paid[:, :-1]], axis=1)
    p_main = np.where(payday[:, None] & paid, 0.75, np.where(payday[:, None] & after, 0.35, p_main))
    p_other = np.broadcast_to(_OTHER_P[habit][:, None], (n, n_days)).copy()
    low = chunk.checking_eod < 0.1 * pop.monthly_income[:, None]
    jobless = (days[None, :] >= life.job_loss_day[:, None]) & (
        days[None, :] < life.new_job_day[:, None]
    )
    boost = np.where(low, 1.6, 1.0) * np.where(jobless, 1.3, 1.0)
    act = churn.activity(np.arange(n)[:, None], days[None, :]) ** 1.5
    p_main = np.clip(p_main * boost * act, 0, 0.97)
    p_other = p_other * boost * act
    gi = g[:, None]
    main = r.uniform("sess.main", gi, days[None, :]) < p_main
    extra = r.poisson("sess.extra", p_other, gi, days[None, :])
    mc, md = np.nonzero(main)
    main_sec = np.rint((pop.read_hour[mc] + 0.35 * r.normal("sess.t", g[mc], md)) * 3600)
    count = extra.ravel()
    ec = np.repeat(np.repeat(np.arange(n), n_days), count)
    ed = np.repeat(np.tile(days, n), count)
    k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    extra_sec = 7 * 3600 + r.integers("sess.extra.t", 16 * 3600, g[ec], ed, k)
    cust = np.concatenate([mc, ec])
    day = np.concatenate([md, ed])
    sec = np.clip(np.concatenate([main_sec, extra_sec]), 0, 86_000).astype(np.int64)
    keep = day < churn.closure_day[cust]
    cust, day, sec = cust[keep], day[keep], sec[keep]
    order = lexsort((sec, day, cust))
    return Sessions(cust[order], day[order], sec[order])


def behaviour_events(r: Keyed, chunk: Chunk) -> tuple[Events, Sessions]:
    pop = chunk.pop
    g = pop.gidx
    s = _sessions(r, chunk)
    n_s = len(s.cust)
    ordinal = np.arange(n_s) - np.searchsorted(s.cust, s.cust)
    gs = g[s.cust]
    dur = np.clip(
        r.lognormal("sess.dur", np.where(pop.habit[s.cust] >= 2, 150.0, 70.0), 0.8, gs, ordinal),
        8,
        3600,
    )
    nf = r.poisson("sess.nf", 0.6 + (dur > 120) * 0.8, gs, ordinal)
    rep = np.repeat(np.arange(n_s), nf)
    j = np.arange(nf.sum()) - np.repeat(np.cumsum(nf) - nf, nf)
    feat = r.categorical("sess.feature", _FEATURE_W, gs[rep], ordinal[rep], j)
    f_off = (r.uniform("sess.f.t", gs[rep], ordinal[rep], j) * dur[rep]).astype(np.int64)
    device = np.where(r.uniform("device", gs, ordinal) < 0.12, 2, np.where(pop.ios[s.cust], 0, 1))
    parts: list[tuple[object, ...]] = [
        (
            s.cust,
            np.full(n_s, E_LOGIN),
            s.day,
            s.sec,
            ordinal,
            np.full(n_s, np.nan),
            -1,
            -1,
            device,
        ),
        (
            s.cust[rep],
            np.full(len(rep), E_FEATURE),
            s.day[rep],
            s.sec[rep] + 1 + f_off,
            ordinal[rep],
            np.full(len(rep), np.nan),
            feat,
            -1,
            -1,
        ),
        (
            s.cust,
            np.full(n_s, E_END),
            s.day,
            s.sec + dur.astype(np.int64) + 2,
            ordinal,
            np.round(dur, 1),
            -1,
            -1,
            -1,
        ),
    ]
    parts += _alerts(r, chunk)
    parts += _consent_events(chunk)
    cols = [
        np.concatenate([np.broadcast_to(np.asarray(p[i]), np.asarray(p[0]).shape) for p in parts])
        for i in range(9)
    ]
    cust, kind, day, sec = (c.astype(np.int64) for c in cols[:4])
    # A session that runs past midnight ends the next day.
    day = day + sec // 86_400
    sec = sec % 86_400
    keep = day < np.minimum(chunk.window.n_days, chunk.churn.closure_day[cust] + 1)
    order = lexsort((kind, sec, day, cust))
    order = order[keep[order]]
    ev = Events(
        cust=cust[order],
        kind=kind[order],
        day=day[order],
        sec=sec[order],
        session=cols[4].astype(np.int64)[order],
        duration=cols[5].astype(np.float64)[order],
        feature=cols[6].astype(np.int64)[order],
        channel=cols[7].astype(np.int64)[order],
        attr=cols[8].astype(np.int64)[order],
    )
    return ev, s


def notify_channel(chunk: Chunk, cust: I64) -> I64:
    """The channel the bank's alerts reach a customer on (push, else email, else SMS)."""
    pop = chunk.pop
    email = (pop.channels[cust] >> 1) & 1
    return np.where(pop.push_enabled[cust], 0, np.where(email == 1, 1, 2))


def _alerts(r: Keyed, chunk: Chunk) -> list[tuple[object, ...]]:
    pop, b, w = chunk.pop, chunk.booked, chunk.window
    rows = b.rows
    monthly = pop.monthly_income[rows.cust]
    posted = b.status != DECLINED
    kinds = np.select(
        [
            posted
            & (rows.slot == CHECKING)
            & (rows.channel == CH_TRANSFER)
            & (b.amount > 0.3 * monthly * 100),
            posted & (b.amount < -0.15 * monthly * 100) & (rows.slot == CHECKING),
            # Every decline is a "card declined" alert: the bank's alert cannot know which
            # attempts were fraud (that is the truth the engine is scored on).
            b.status == DECLINED,
        ],
        [0, 1, 3],
        -1,
    )
    m = np.flatnonzero(kinds >= 0)
    cust, day, sec, alert = (
        rows.cust[m].astype(np.int64),
        rows.day[m].astype(np.int64),
        rows.sec[m].astype(np.int64),
        kinds[m],
    )
    # Low-balance alerts: the first day of each week the balance is under 5% of monthly income.
    low = chunk.checking_eod < 0.05 * pop.monthly_income[:, None]
    lc, ld = np.nonzero(low)
    wk = ld // 7
    first = np.ones(len(lc), dtype=bool)
    first[1:] = (lc[1:] != lc[:-1]) | (wk[1:] != wk[:-1])
    lc, ld = lc[first], ld[first]
    cust = np.concatenate([cust, lc])
    day = np.concatenate([day, ld])
    sec = np.concatenate([sec, np.full(len(lc), 18 * 3600)])
    alert = np.concatenate([alert, np.full(len(lc), 2)])
    # One alert per customer, kind and day.
    key = (cust * 10 + alert) * 100_000 + day
    _, first_i = np.unique(key, return_index=True)
    cust, day, sec, alert = cust[first_i], day[first_i], sec[first_i] + 30, alert[first_i]
    ch = notify_channel(chunk, cust)
    gc = pop.gidx[cust]
    k = alert * 100_000 + day
    p_open = np.array([0.3, 0.45, 0.85])[ch] * np.array([0.8, 1.0, 1.2, 1.1])[alert]
    p_open = np.clip(p_open * np.sqrt(pop.engagement[cust]), 0, 0.97)
    opened = r.uniform("alert.open", gc, k) < p_open
    quiet = np.array(QUIET)[pop.quiet[cust]]
    minute = sec // 60
    in_quiet = np.where(
        quiet[:, 0] < 0,
        False,
        np.where(
            quiet[:, 0] > quiet[:, 1],
            (minute >= quiet[:, 0]) | (minute < quiet[:, 1]),
            (minute >= quiet[:, 0]) & (minute < quiet[:, 1]),
        ),
    )
    delay = np.where(
        ch == 1,
        r.exponential("alert.delay.e", 3 * 3600, gc, k),
        r.exponential("alert.delay", 900, gc, k),
    )
    read_at = pop.read_hour[cust] * 3600
    wait_to_read = np.where(sec < read_at, read_at - sec, read_at + 86_400 - sec)
    open_sec = sec + np.where(in_quiet | (sec < 6 * 3600), wait_to_read, delay).astype(np.int64)
    o = np.flatnonzero(opened)
    del w
    return [
        (cust, np.full(len(cust), E_DELIVERED), day, sec, -1, np.nan, -1, ch, alert),
        (cust[o], np.full(len(o), E_OPENED), day[o], open_sec[o], -1, np.nan, -1, ch[o], alert[o]),
    ]


def _consent_events(chunk: Chunk) -> list[tuple[object, ...]]:
    cc = chunk.consents
    c, p = np.nonzero(cc.withdrawn_day < NEVER)
    return [
        (
            c,
            np.full(len(c), E_CONSENT),
            cc.withdrawn_day[c, p],
            cc.withdrawn_sec[c, p],
            -1,
            np.nan,
            -1,
            -1,
            p,
        )
    ]
