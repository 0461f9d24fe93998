"""The truth behind the exports, as frames (written to ``DIR/truth/``; the engine never reads it).

Every table is derived from the same arrays the exports were made from, so truth and exports
agree by construction (and the tests check it). Days are ISO dates in the customer's local
calendar; amounts are signed minor units of the account currency, like the transactions.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import polars as pl
from numpy.typing import NDArray

from tactful.simulate.bank.booking import DECLINED
from tactful.simulate.base.calendar import CADENCES, NEVER
from tactful.simulate.base.rows import FRAUD_PATTERNS, SLOTS
from tactful.simulate.base.taxonomy import DETAILED, PRIMARY_OF_DETAILED
from tactful.simulate.counterparties import merchants as mc
from tactful.simulate.counterparties.names import canonical_names
from tactful.simulate.counterparties.services import SERVICES
from tactful.simulate.exports.frames import account_id_lookup, customer_ids, lut, transaction_ids
from tactful.simulate.generate import Chunk
from tactful.simulate.money.series import (
    CHANGE_REASONS,
    INCOME_KINDS,
    K_CARD_PAYMENT,
    SERIES_KINDS,
)
from tactful.simulate.money.spend_kinds import KINDS
from tactful.simulate.people.behaviour import notify_channel
from tactful.simulate.people.habits import SHIFT_CAUSES, kind_category
from tactful.simulate.people.life_events import EVENT_KINDS
from tactful.simulate.people.needs import needs_of
from tactful.simulate.people.personas import (
    AGE_BANDS,
    CHANNELS,
    EMPLOYMENT,
    HABITS,
    HOUSING,
    INCOME_LEVELS,
    PERSONAS,
)
from tactful.simulate.people.regions import ALL_PLACES, PROFILES, REGIONS
from tactful.simulate.truth.response import BASE_OPEN, ResponseParams

I64 = NDArray[np.int64]
_NOTIFY: Final = ("push", "email", "sms")


def _date(chunk: Chunk, day: I64) -> pl.Series:
    """ISO dates of window days; null for NEVER or beyond the window's neighbourhood."""
    w = chunk.window
    ok = (day > -100_000) & (day < NEVER)
    # Format each distinct day once and gather: members have a date per transaction.
    uniq, inv = np.unique(np.where(ok, day, 0), return_inverse=True)
    table = (np.datetime64(w.start, "D") + uniq).astype(str).tolist()
    s = pl.Series(table, dtype=pl.Utf8).gather(pl.Series(inv.astype(np.int64).ravel()))
    return pl.select(pl.when(pl.Series(ok)).then(s).otherwise(None)).to_series()


def series_ids(chunk: Chunk, idx: I64) -> pl.Series:
    s = chunk.series
    g = chunk.pop.gidx[s.cust[idx]]
    return pl.select(
        pl.concat_str(
            [
                pl.lit("SER-"),
                pl.Series(g).cast(pl.Utf8).str.zfill(8),
                pl.lit("-"),
                pl.Series(s.slot[idx].astype(np.int64)).cast(pl.Utf8).str.zfill(2),
            ]
        )
    ).to_series()


def customers_truth(chunk: Chunk, params: ResponseParams) -> pl.DataFrame:
    pop, ch, fr = chunk.pop, chunk.churn, chunk.fraud
    n = len(pop)
    best = np.argmax(params.affinity, axis=1)
    return pl.DataFrame(
        {
            "customer_id": customer_ids(pop.gidx),
            "persona": [PERSONAS[i].name for i in pop.persona],
            "region": [REGIONS[i].value for i in pop.region],
            "city": [ALL_PLACES[i].city for i in pop.place],
            "age_band": np.array(AGE_BANDS)[pop.age_band].tolist(),
            "income_net_annual_minor": np.rint(pop.income * 100).astype(np.int64),
            "income_level": np.array(INCOME_LEVELS)[pop.income_level].tolist(),
            "employment": np.array(EMPLOYMENT)[pop.employment].tolist(),
            "housing": np.array(HOUSING)[pop.housing].tolist(),
            "children": pop.children,
            "login_habit": np.array(HABITS)[pop.habit].tolist(),
            "read_hour": np.round(pop.read_hour, 2),
            "preferred_channel": np.array(CHANNELS)[best].tolist(),
            "alert_channel": np.array(_NOTIFY)[notify_channel(chunk, np.arange(n))].tolist(),
            "push_enabled": pop.push_enabled,
            "engagement": np.round(pop.engagement, 4),
            "spending_level": np.round(pop.spend, 4),
            "churner": ch.intent_day < NEVER,
            "churn_intent_date": _date(chunk, ch.intent_day),
            "churn_closure_date": _date(
                chunk, np.where(ch.closure_day < chunk.window.n_days, ch.closure_day, NEVER)
            ),
            "fraud_victim": fr.day < NEVER,
            "fraud_pattern": [FRAUD_PATTERNS[i] or None for i in fr.pattern],
            "fraud_date": _date(chunk, fr.day),
        }
    )


def series_truth(chunk: Chunk, ids: list[list[str]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(recurring_series, price_changes)."""
    s, w = chunk.series, chunk.window
    idx = np.arange(len(s))
    names = np.array(canonical_names(), dtype=object)
    merchant = np.where(
        s.service >= 0,
        np.array([x.name for x in SERVICES], dtype=object)[np.maximum(s.service, 0)],
        names[np.maximum(s.cparty, 0)],
    )
    currency = np.array([PROFILES[r].currency for r in REGIONS])[chunk.pop.region[s.cust]]
    start = np.maximum(s.start, -400)
    end_in = s.end < w.n_days
    varies = (s.sigma > 0) | (s.kind == K_CARD_PAYMENT) | (s.cadence == CADENCES.index("irregular"))
    series = pl.DataFrame(
        {
            "series_id": series_ids(chunk, idx),
            "customer_id": customer_ids(chunk.pop.gidx[s.cust]),
            "account_id": account_id_lookup(ids, s.cust.astype(np.int64), s.acct.astype(np.int64)),
            "kind": np.array(SERIES_KINDS)[s.kind].tolist(),
            "income": np.isin(s.kind, list(INCOME_KINDS)),
            "cadence": np.array(CADENCES)[s.cadence].tolist(),
            "counterparty": merchant.tolist(),
            "category_detailed": np.array(DETAILED)[s.category].tolist(),
            "amount_minor": s.amount,
            "amount_varies": varies,
            "currency": currency.tolist(),
            "anchor_day": s.anchor_day,
            "anchor_month": s.anchor_month + 1,
            "start_date": _date(chunk, start),
            "end_date": _date(chunk, np.where(end_in, s.end, NEVER)),
            "cancelled": end_in & (s.end > 0),
        }
    )
    c = chunk.changes
    order = np.lexsort((c.day, c.series))
    cs, cd, ca, cr = (
        c.series[order].astype(np.int64),
        c.day[order],
        c.amount[order],
        c.reason[order],
    )
    prev = np.where(np.r_[False, cs[1:] == cs[:-1]], np.r_[0, ca[:-1]], s.amount[cs])
    changes = pl.DataFrame(
        {
            "series_id": series_ids(chunk, cs),
            "effective_date": _date(chunk, cd),
            "old_amount_minor": prev.astype(np.int64),
            "new_amount_minor": ca,
            "reason": np.array(CHANGE_REASONS)[cr].tolist(),
        }
    )
    return series, changes


def transaction_truth(
    chunk: Chunk, tx: pl.Series | None = None
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(transaction_truth, series_members, fraud)."""
    b = chunk.booked
    rows = b.rows
    tx = transaction_ids(chunk) if tx is None else tx
    t = mc.merchant_table()
    # One lookup table: merchants, then services, then counterparties (canonical names).
    table = [*t.name, *(x.name for x in SERVICES), *canonical_names()]
    n_m, n_s = len(t), len(SERVICES)
    which = np.where(
        rows.merchant >= 0,
        rows.merchant,
        np.where(rows.service >= 0, n_m + rows.service, n_m + n_s + np.maximum(rows.cparty, 0)),
    )
    merchant = lut(table, which)
    merchant = pl.select(pl.when(merchant == "").then(None).otherwise(merchant)).to_series()
    has_series = rows.series >= 0
    sid = series_ids(chunk, np.maximum(rows.series, 0).astype(np.int64))
    sid = pl.select(pl.when(pl.Series(has_series)).then(sid).otherwise(None)).to_series()
    truth = pl.DataFrame(
        {
            "transaction_id": tx,
            "category_primary": lut(PRIMARY_OF_DETAILED, rows.category),
            "category_detailed": lut(DETAILED, rows.category),
            "merchant": merchant,
            "series_id": sid,
            "fraud": rows.fraud > 0,
        }
    )
    own = has_series & (rows.slot == chunk.series.acct[np.maximum(rows.series, 0)])
    members = pl.DataFrame(
        {
            "transaction_id": tx.filter(pl.Series(own)),
            "series_id": sid.filter(pl.Series(own)),
            "date": _date(chunk, rows.day[own].astype(np.int64)),
            "amount_minor": b.amount[own],
        }
    )
    f = rows.fraud > 0
    fraud = pl.DataFrame(
        {
            "transaction_id": tx.filter(pl.Series(f)),
            "customer_id": customer_ids(chunk.pop.gidx[rows.cust[f]]),
            "pattern": lut(FRAUD_PATTERNS, rows.fraud[f]),
            "declined": b.status[f] == DECLINED,
            "amount_minor": b.amount[f],
        }
    )
    return truth, members, fraud


def income_truth(
    chunk: Chunk, series: pl.DataFrame, changes: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(income_streams, income_changes): the income subset of the series tables."""
    streams = series.filter(pl.col("income")).drop("income")
    inc_ids = streams["series_id"]
    return streams, changes.filter(pl.col("series_id").is_in(inc_ids.implode()))


def life_truth(chunk: Chunk) -> pl.DataFrame:
    c, k, d, v = chunk.life.table(chunk.pop.gidx)
    return pl.DataFrame(
        {
            "customer_id": customer_ids(c),
            "kind": np.array(EVENT_KINDS)[k].tolist(),
            "date": _date(chunk, d),
            "value": np.round(v, 4),
        }
    )


def churn_truth(chunk: Chunk) -> pl.DataFrame:
    ch, w = chunk.churn, chunk.window
    m = np.flatnonzero(ch.intent_day < NEVER)
    return pl.DataFrame(
        {
            "customer_id": customer_ids(chunk.pop.gidx[m]),
            "intent_date": _date(chunk, ch.intent_day[m]),
            "salary_move_date": _date(
                chunk, np.where(ch.salary_move_day[m] < w.n_days, ch.salary_move_day[m], NEVER)
            ),
            "closure_date": _date(
                chunk, np.where(ch.closure_day[m] < w.n_days, ch.closure_day[m], NEVER)
            ),
        }
    )


def response_truth(chunk: Chunk, params: ResponseParams) -> pl.DataFrame:
    pop = chunk.pop
    n = len(pop)
    ci = np.repeat(np.arange(n), len(CHANNELS))
    k = np.tile(np.arange(len(CHANNELS)), n)
    quiet = params.quiet[ci]
    return pl.DataFrame(
        {
            "customer_id": customer_ids(pop.gidx[ci]),
            "channel": np.array(CHANNELS)[k].tolist(),
            "reachable": params.affinity[ci, k] > 0,
            "affinity": np.round(params.affinity[ci, k], 4),
            "base_open": np.array([BASE_OPEN[c] for c in CHANNELS])[k],
            "engagement": np.round(params.engagement[ci], 4),
            "read_hour": np.round(params.read_hour[ci], 2),
            "quiet_start_minute": quiet[:, 0],
            "quiet_end_minute": quiet[:, 1],
        }
    )


def accounts_truth(chunk: Chunk, ids: list[list[str]]) -> pl.DataFrame:
    a = chunk.accounts
    ci, si = np.nonzero(a.exists)
    return pl.DataFrame(
        {
            "account_id": account_id_lookup(ids, ci.astype(np.int64), si.astype(np.int64)),
            "customer_id": customer_ids(chunk.pop.gidx[ci]),
            "account_type": [SLOTS[s] for s in si],
            "opening_balance_minor": a.opening[ci, si],
            "limit_minor": a.limit[ci, si],
            "interest_rate_credit": a.rate_pos[ci, si],
            "interest_rate_debit": a.rate_neg[ci, si],
            "card_revolver": a.revolver[ci] & (si == 2),
        }
    )


def behaviour_truth(chunk: Chunk) -> pl.DataFrame:
    """Why a customer's spending in one category changed, and when (``habits.py``): a new habit
    or a cutback, a move's furnishing spree, a baby's shopping. ``end_date`` is exclusive and
    null when the change outlasts the window; ``factor`` is null for spending that is new."""
    sh = chunk.shifts
    cats = np.array([kind_category(k) for k in range(len(KINDS))])[sh.kind]
    w = chunk.window
    return pl.DataFrame(
        {
            "customer_id": customer_ids(chunk.pop.gidx[sh.cust]),
            "cause": np.array(SHIFT_CAUSES)[sh.cause].tolist(),
            "spend_kind": [KINDS[k].name for k in sh.kind],
            "category_primary": lut(PRIMARY_OF_DETAILED, cats),
            "category_detailed": lut(DETAILED, cats),
            "start_date": _date(chunk, np.maximum(sh.start, -400)),
            "end_date": _date(chunk, np.where(sh.end < w.n_days, sh.end, NEVER)),
            "factor": pl.Series(np.round(sh.factor, 4), dtype=pl.Float64).fill_nan(None),
        }
    )


def needs_truth(chunk: Chunk) -> pl.DataFrame:
    """The customer's hidden money needs (``needs.py``), one row per customer and local day on
    which at least one holds: stressed (low balance), idle cash, a shortfall ahead."""
    nd = needs_of(chunk)
    c, d = np.nonzero(nd.stressed | nd.idle | (nd.shortfall_day >= 0))
    return pl.DataFrame(
        {
            "customer_id": customer_ids(chunk.pop.gidx[c]),
            "date": _date(chunk, d.astype(np.int64)),
            "stressed": nd.stressed[c, d],
            "idle_cash": nd.idle[c, d],
            "shortfall_date": _date(
                chunk, np.where(nd.shortfall_day[c, d] >= 0, nd.shortfall_day[c, d], NEVER)
            ),
        }
    )
