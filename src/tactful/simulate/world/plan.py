"""The baseline future of one chunk of customers, drawn once and spilled to disk by day.

Why a plan: the batch generators (`generate.py`) draw a whole window at once and are the
calibrated source of every money flow. The living world reuses them unchanged: each chunk's
window is generated once, its rows are cut into one Arrow record batch per day and written to
a memory-mapped IPC file, and the world edits that future as the clock passes (drops rows,
inserts rows, shifts balances). Only the day being emitted is read back, so memory is bounded by
one chunk's generation, not by the run; forks share the plan files (they are never written
after the build).

Joiners (customers who join the bank during the window) are generated like everyone else, with
global indices after the configured customers; their rows before the join day are what they did
at their previous bank, so they are dropped and the balances on the join day become the
opening balances.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.ipc as ipc  # type: ignore[import-untyped]
from numpy.typing import NDArray

from tactful.simulate.bank.accounts import account_ids
from tactful.simulate.base.calendar import NEVER
from tactful.simulate.base.rng import Keyed
from tactful.simulate.base.rows import CH_ATM, CH_CARD, CH_ONLINE, OD_FEE
from tactful.simulate.base.taxonomy import PRIMARY_OF_DETAILED
from tactful.simulate.config import SimulationConfig
from tactful.simulate.counterparties import merchants as mc
from tactful.simulate.exports import frames as F
from tactful.simulate.exports.events_io import event_lines
from tactful.simulate.exports.timezones import iso_strings, localize
from tactful.simulate.generate import Chunk, generate_chunk
from tactful.simulate.people.behaviour import behaviour_events
from tactful.simulate.people.regions import COUNTRIES, PROFILES, REGIONS, TIMEZONES
from tactful.simulate.truth.response import draw_params

I64 = NDArray[np.int64]
F32 = NDArray[np.float32]

DISCRETIONARY: tuple[str, ...] = (
    "FOOD_AND_DRINK",
    "ENTERTAINMENT",
    "GENERAL_MERCHANDISE",
    "PERSONAL_CARE",
    "TRAVEL",
)
"""Primary categories a budget can target (the ones households cut first when money is short;
JPMorgan Chase Institute, spending responses to income drops)."""
_PRIMARIES = tuple(dict.fromkeys(PRIMARY_OF_DETAILED))
_DISC_CODES = np.array([_PRIMARIES.index(p) for p in DISCRETIONARY])
_PRIMARY_CODE = np.array([_PRIMARIES.index(p) for p in PRIMARY_OF_DETAILED] + [-1], np.int16)


@dataclass(slots=True)
class Customers:
    """What the world keeps in memory about a chunk's customers (small: a few arrays)."""

    gidx: I64
    join_day: I64
    """0 for customers at the start; the join day for joiners."""
    country: list[str]
    zone: I64
    timezone: list[str]
    currency: list[str]
    monthly_income: I64
    """Net monthly income in minor units."""
    exists: NDArray[np.bool_]
    """(n, 6) accounts held at the start (or at the join)."""
    opening: I64
    """(n, 6) balances at the start (or on the join day)."""
    closure_day: I64
    """The baseline churn closure day (NEVER if none in the window)."""
    eod: F32
    """(n, n_days) baseline end-of-day checking balance (major units)."""
    spend: F32
    """(n, n_days) baseline card spending per day (major units)."""
    top_disc: I64
    """Each customer's largest discretionary primary category (index into _PRIMARIES)."""
    affinity: NDArray[np.float64]
    read_hour: NDArray[np.float64]
    engagement: NDArray[np.float64]
    quiet: I64
    consent_denied: NDArray[np.bool_]
    income_level: I64
    life_days: I64
    """(n, 5): job loss, new job, baby, move, raise day (NEVER when none)."""
    has_mortgage: NDArray[np.bool_]
    renter: NDArray[np.bool_]


@dataclass(slots=True)
class ChunkPlan:
    """Where a chunk's daily rows live on disk, plus its in-memory tables."""

    tx_path: Path
    tx_bounds: I64
    ev_path: Path
    ev_bounds: I64
    customers: Customers
    static: dict[str, pl.DataFrame]
    """customers, accounts, consents rows with an ``emit_day`` column."""


def primary_name(code: int) -> str:
    return _PRIMARIES[code]


def build_plan(
    config: SimulationConfig, lo: int, hi: int, join_day: I64 | None, folder: Path
) -> ChunkPlan:
    """Generate customers [lo, hi) and spill their daily rows to ``folder``."""
    with mc.using(mc.table_for(config.seed, config.unseen_merchants)):
        return _build_plan(config, lo, hi, join_day, folder)


def _build_plan(
    config: SimulationConfig, lo: int, hi: int, join_day: I64 | None, folder: Path
) -> ChunkPlan:
    ch = generate_chunk(config, lo, hi)
    n, n_days = len(ch.pop), ch.window.n_days
    joins = np.zeros(n, np.int64) if join_day is None else join_day.astype(np.int64)
    ids = account_ids(ch.pop, ch.accounts)
    tx = F.transactions_frame(ch, ids)
    rows, b = ch.booked.rows, ch.booked
    cust = rows.cust.astype(np.int64)
    day = rows.day.astype(np.int64)
    g = ch.pop.gidx[cust]
    primary = _PRIMARY_CODE[np.where(rows.category >= 0, rows.category, -1)]
    card = np.isin(rows.channel, [CH_CARD, CH_ONLINE]) & (b.status != 2) & (b.amount < 0)
    tx = tx.with_columns(
        pl.Series("day", day.astype(np.int32)),
        pl.Series("g", g),
        pl.Series("key", g * 6 + rows.slot.astype(np.int64)),
        pl.Series("fee", rows.lkind == OD_FEE),
        pl.Series("primary", primary),
        pl.Series("card", card),
        pl.Series("atm", rows.channel == CH_ATM),
    )
    # Joiners: what happened before the join day was at another bank.
    opening = ch.accounts.opening.copy()
    if join_day is not None:
        keep = day >= joins[cust]
        before = tx.filter(~pl.Series(keep) & pl.col("balance_after_minor").is_not_null())
        last = before.group_by("key").agg(pl.col("balance_after_minor").last())
        keys = last["key"].to_numpy()
        opening[keys // 6 - lo, keys % 6] = last["balance_after_minor"].to_numpy()
        tx = tx.filter(pl.Series(keep))
    folder.mkdir(parents=True, exist_ok=True)
    tx_path = folder / f"tx-{lo}.arrow"
    tx_bounds = _spill(tx.sort("day", maintain_order=True), n_days, tx_path)
    ev, _ = behaviour_events(Keyed(config.seed), ch)
    lines = event_lines(ch, ev)
    evf = pl.DataFrame({"day": ev.day.astype(np.int32), "g": ch.pop.gidx[ev.cust], "line": lines})
    if join_day is not None:
        evf = evf.filter(pl.col("day") >= pl.Series(joins[ev.cust]))
    ev_path = folder / f"ev-{lo}.arrow"
    ev_bounds = _spill(evf.sort("day", maintain_order=True), n_days, ev_path)
    return ChunkPlan(
        tx_path=tx_path,
        tx_bounds=tx_bounds,
        ev_path=ev_path,
        ev_bounds=ev_bounds,
        customers=_customers(config, ch, joins, opening),
        static=_static(ch, ids, joins, opening),
    )


def _spill(frame: pl.DataFrame, n_days: int, path: Path) -> NDArray[np.int64]:
    """Write day-sorted rows once; return where each day starts (day d is rows [b[d], b[d+1]))."""
    frame.write_ipc(path, compression="uncompressed")
    bounds: NDArray[np.int64] = np.searchsorted(
        frame["day"].to_numpy(), np.arange(n_days + 1)
    ).astype(np.int64)
    return bounds


def read_day(path: Path, bounds: NDArray[np.int64], d: int) -> pl.DataFrame:
    """Day ``d``'s rows of a spilled plan, sliced from the memory map without a copy."""
    lo, hi = int(bounds[d]), int(bounds[d + 1])
    with pa.memory_map(str(path), "r") as source:
        table = ipc.open_file(source).read_all().slice(lo, hi - lo)
        out = pl.from_arrow(table)
    if not isinstance(out, pl.DataFrame):  # pragma: no cover -- a table always converts
        raise TypeError(f"{path}: not a table")
    return out


def _customers(config: SimulationConfig, ch: Chunk, joins: I64, opening: I64) -> Customers:
    pop, life = ch.pop, ch.life
    params = draw_params(Keyed(config.seed), pop)
    zone = F.zone_of(ch)
    n = len(pop)
    rows, b = ch.booked.rows, ch.booked
    card = np.isin(rows.channel, [CH_CARD, CH_ONLINE]) & (b.status != 2) & (b.amount < 0)
    prim = _PRIMARY_CODE[np.where(rows.category >= 0, rows.category, -1)]
    ok = card & (prim >= 0)
    flat = rows.cust[ok].astype(np.int64) * len(_PRIMARIES) + prim[ok]
    spend_primary = np.bincount(
        flat, weights=-b.amount[ok].astype(np.float64), minlength=n * len(_PRIMARIES)
    ).reshape(n, len(_PRIMARIES))
    top = _DISC_CODES[np.argmax(spend_primary[:, _DISC_CODES], axis=1)]
    life_days = np.stack(
        [
            life.job_loss_day,
            life.new_job_day,
            life.baby_day,
            life.move_day,
            life.raise_day.min(axis=1),
        ],
        axis=1,
    ).astype(np.int64)
    return Customers(
        gidx=pop.gidx.copy(),
        join_day=joins,
        country=[COUNTRIES[int(c)] for c in pop.country],
        zone=zone,
        timezone=[TIMEZONES[z] for z in zone],
        currency=[PROFILES[REGIONS[r]].currency for r in pop.region],
        monthly_income=np.rint(pop.monthly_income * 100).astype(np.int64),
        exists=ch.accounts.exists.copy(),
        opening=opening,
        closure_day=np.where(ch.churn.closure_day < ch.window.n_days, ch.churn.closure_day, NEVER),
        eod=ch.checking_eod.astype(np.float32),
        spend=ch.spend_day.astype(np.float32),
        top_disc=top.astype(np.int64),
        affinity=params.affinity,
        read_hour=params.read_hour,
        engagement=params.engagement,
        quiet=params.quiet,
        consent_denied=pop.consent_denied.copy(),
        income_level=pop.income_level.copy(),
        life_days=life_days,
        has_mortgage=pop.mortgage_here.copy(),
        renter=pop.housing == 0,
    )


def _static(ch: Chunk, ids: list[list[str]], joins: I64, opening: I64) -> dict[str, pl.DataFrame]:
    """Customer, account and consent rows, each with the day it is exported on."""
    w, pop = ch.window, ch.pop
    n = len(pop)
    zone = F.zone_of(ch)
    stamp0 = iso_strings(w, joins, *localize(w, zone, TIMEZONES, joins, np.zeros(n, np.int64)))
    joiner = joins > 0
    customers = F.customers_frame(ch).with_columns(
        pl.when(pl.Series(joiner)).then(stamp0).otherwise(pl.col("created_at")).alias("created_at"),
        pl.Series("emit_day", joins.astype(np.int32)),
        pl.Series("g", pop.gidx),
    )
    accounts = F.accounts_frame(ch, ids)
    ci, si = np.nonzero(ch.accounts.exists)
    opened = pl.Series([w.to_date(int(d)).isoformat() for d in joins[ci]])
    accounts = accounts.with_columns(
        pl.Series("balance_minor", opening[ci, si]),
        stamp0.gather(pl.Series(ci)).alias("balance_as_of"),
        pl.when(pl.Series(joiner[ci])).then(opened).otherwise(pl.col("opened_on")).alias(
            "opened_on"
        ),
        pl.lit("").alias("closed_on"),
        pl.Series("emit_day", joins[ci].astype(np.int32)),
        pl.Series("g", pop.gidx[ci]),
        pl.Series("key", pop.gidx[ci] * 6 + si),
    )
    consents = F.consents_frame(ch)
    pos = dict(zip(F.customer_ids(pop.gidx).to_list(), range(n), strict=True))
    li = consents["customer_id"].replace_strict(pos, return_dtype=pl.Int64).to_numpy()
    at_day = (
        consents["at"].str.slice(0, 10).str.to_date().cast(pl.Int64).to_numpy()
        - (w.start - date(1970, 1, 1)).days
    )
    onboarding = consents["status"].to_numpy() != "withdrawn"
    consents = consents.with_columns(
        pl.Series("emit_day", np.maximum(np.maximum(at_day, 0), joins[li]).astype(np.int32)),
        pl.when(pl.Series(onboarding & joiner[li]))
        .then(stamp0.gather(pl.Series(li)))
        .otherwise(pl.col("at"))
        .alias("at"),
        pl.Series("g", pop.gidx[li]),
    )
    return {"customers": customers, "accounts": accounts, "consents": consents}
