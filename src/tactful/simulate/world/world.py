"""A simulated bank that can be stepped through time with the engine's decisions.

``World(config, out)`` draws every chunk's baseline future once (`plan.py`), then
``step(until, decisions)`` advances the clock day by day: the day's no-message events happen
(`spontaneous.py`), the day's messages are answered (`respond.py`) and their effects edit the
future (`effects.py`), and the day's exports are written to ``out/days/YYYY-MM-DD/`` in the
batch simulator's formats and columns, so ``tactful ingest`` can load day N after day N-1.

``fork(out)`` copies the mutable state (`state.py`) and shares the plan: the same customers, the
same seed and the same draws -- keyed by (customer, day, action) -- so two arms differ only by
what their policies did. The world's truth (what happened and why) is ``truth()``.

>>> from datetime import date
>>> import tempfile, pathlib
>>> cfg = SimulationConfig(customers=20, months=1, seed=3, start=date(2024, 1, 1))
>>> with tempfile.TemporaryDirectory() as tmp:
...     w = World(cfg, pathlib.Path(tmp) / "arm")
...     _ = w.step(until=date(2024, 1, 8))
...     w.today
datetime.date(2024, 1, 8)
"""

from __future__ import annotations

import copy
import shutil
import tempfile
import weakref
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from tactful.domain.actions import Decision, Outcome
from tactful.errors import ValidationError
from tactful.simulate.base.calendar import Window
from tactful.simulate.base.rng import Keyed
from tactful.simulate.config import SimulationConfig
from tactful.simulate.exports.frames import customer_id
from tactful.simulate.world.effects import BUDGET_CUT, apply_conversion
from tactful.simulate.world.exports import DayRows, account_rows, insert_rows, write_day
from tactful.simulate.world.latent import Latent, draw_latent
from tactful.simulate.world.plan import ChunkPlan, build_plan, read_day
from tactful.simulate.world.respond import answer
from tactful.simulate.world.spontaneous import joiners, spontaneous
from tactful.simulate.world.state import (
    AccountChange,
    Insert,
    MessageTruth,
    WorldEvent,
    WorldState,
)


class _Plans:
    """The shared, read-only part of a world: plan files and the customers' static facts."""

    def __init__(self, config: SimulationConfig, folder: Path) -> None:
        self.config = config
        self.folder = folder
        self.window = Window(config.start, config.months)
        r = Keyed(config.seed)
        self.n_join = joiners(config.customers, config.months)
        self.n = config.customers + self.n_join
        self.chunks: list[ChunkPlan] = []
        self.latent: list[Latent] = []
        bounds = [(lo, min(lo + config.chunk_size, config.customers), False)
                  for lo in range(0, config.customers, config.chunk_size)]
        end = self.n
        bounds += [(lo, min(lo + config.chunk_size, end), True)
                   for lo in range(config.customers, end, config.chunk_size)]
        n_days = self.window.n_days
        for lo, hi, joining in bounds:
            join = None
            if joining:
                g = np.arange(lo, hi, dtype=np.int64)
                join = 1 + r.integers("w.join.day", max(n_days - 1, 1), g)
            plan = build_plan(config, lo, hi, join, folder)
            self.chunks.append(plan)
            self.latent.append(draw_latent(r, plan.customers))
        self.chunk_of = np.zeros(self.n, np.int64)
        self.pos_of = np.zeros(self.n, np.int64)
        for k, plan in enumerate(self.chunks):
            self.chunk_of[plan.customers.gidx] = k
            self.pos_of[plan.customers.gidx] = np.arange(len(plan.customers.gidx))


class World:
    """A living simulated bank for one configuration, writing its daily exports to ``out``."""

    _parent: World | None = None

    def __init__(
        self,
        config: SimulationConfig,
        out: Path,
        workdir: Path | None = None,
        fmt: str = "csv",
    ) -> None:
        if not isinstance(config, SimulationConfig):
            raise ValidationError(f"config must be a SimulationConfig, got {type(config).__name__}")
        if fmt not in ("csv", "parquet"):
            raise ValidationError(f"format must be csv or parquet; got {fmt!r}")
        if workdir is None:
            workdir = Path(tempfile.mkdtemp(prefix="tactful-world-"))
            weakref.finalize(self, shutil.rmtree, workdir, True)
        self._plans = _Plans(config, Path(workdir))
        self.out = Path(out)
        self.fmt = fmt
        self.state = _initial_state(self._plans)
        self._prepare_out()

    # -- public ---------------------------------------------------------------------------

    @property
    def config(self) -> SimulationConfig:
        return self._plans.config

    @property
    def today(self) -> date:
        """The first day not yet simulated."""
        return self._plans.window.to_date(self.state.clock)

    def customer_ids(self) -> list[str]:
        """Customers with the bank today (joined and not gone)."""
        st, clock = self.state, self.state.clock
        out: list[str] = []
        for plan in self._plans.chunks:
            c = plan.customers
            alive = (c.join_day <= clock) & (st.cut_day[c.gidx] > clock) & (c.closure_day > clock)
            out += [customer_id(int(g)) for g in c.gidx[alive]]
        return out

    def step(self, until: date | int, decisions: Iterable[Decision] = ()) -> list[Outcome]:
        """Advance to ``until`` (exclusive: a date or a day index), answering ``decisions``.

        Each decision's ``send_at`` must fall on a day in [today, until) in the customer's time
        zone. Returns what the customers did about them (silence yields nothing).
        """
        w, st = self._plans.window, self.state
        end = (until - w.start).days if isinstance(until, date) else int(until)
        if not st.clock <= end <= w.n_days:
            raise ValidationError(
                f"until must be between {self.today} and {w.to_date(w.n_days - 1)} + 1 day, "
                f"got {until}"
            )
        by_day: dict[int, list[tuple[int, Decision]]] = {}
        for d in sorted(decisions, key=lambda x: (x.send_at, x.decision_id)):
            g = _gidx(d.customer_id, self._plans.n)
            day = self._local_day(g, d)
            if not st.clock <= day < end:
                raise ValidationError(
                    f"decision {d.decision_id}: send_at {d.send_at.isoformat()} is not between "
                    f"{self.today} and {w.to_date(end - 1) if end > 0 else w.start}"
                )
            by_day.setdefault(day, []).append((g, d))
        outcomes: list[Outcome] = []
        r = Keyed(self.config.seed)
        for day in range(st.clock, end):
            for k, plan in enumerate(self._plans.chunks):
                spontaneous(r, st, plan.customers, self._plans.latent[k], day)
            for g, d in by_day.get(day, []):
                outcomes += self._answer(r, g, day, d)
            self._emit(r, day)
            st.clock = day + 1
        return outcomes

    def snapshot(self) -> WorldState:
        """A copy of everything that changes (the plan is shared and never changes)."""
        return copy.deepcopy(self.state)

    def fork(self, out: Path, state: WorldState | None = None) -> World:
        """Another arm on the same customers from now (or from ``state``), writing to ``out``."""
        other = object.__new__(World)
        other._plans = self._plans
        other.out = Path(out)
        other.fmt = self.fmt
        other.state = copy.deepcopy(state if state is not None else self.state)
        other._parent = self  # the plan files live as long as any fork
        if Path(out).resolve() != self.out.resolve():
            other._copy_out_from(self.out)
        return other

    def truth(self) -> pl.DataFrame:
        """What happened in this arm and why (``cause`` is a decision id or empty)."""
        ev = self.state.events
        w = self._plans.window
        return pl.DataFrame(
            {
                "customer_id": [e.customer_id for e in ev],
                "date": [w.to_date(e.day).isoformat() for e in ev],
                "kind": [e.kind for e in ev],
                "detail": [e.detail for e in ev],
                "cause": [e.cause for e in ev],
            },
            schema={c: pl.Utf8 for c in ("customer_id", "date", "kind", "detail", "cause")},
        )

    def messages(self) -> pl.DataFrame:
        """Every delivered message, whether it helped (drawn from the hidden needs) and whether
        it converted: the truth a relevance or uplift score is judged against."""
        m = self.state.delivered
        return pl.DataFrame(
            {
                "decision_id": [x.decision_id for x in m],
                "customer_id": [x.customer_id for x in m],
                "date": [self._plans.window.to_date(x.day).isoformat() for x in m],
                "helps": [x.helps for x in m],
                "converted": [x.converted for x in m],
            },
            schema={
                "decision_id": pl.Utf8,
                "customer_id": pl.Utf8,
                "date": pl.Utf8,
                "helps": pl.Boolean,
                "converted": pl.Boolean,
            },
        )

    def write_truth(self) -> Path:
        """Write ``truth/world_events.parquet`` and ``truth/world_messages.parquet``."""
        path = self.out / "truth" / "world_events.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.truth().write_parquet(path)
        self.messages().write_parquet(path.parent / "world_messages.parquet")
        return path

    # -- internals ------------------------------------------------------------------------

    def _prepare_out(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        if (self.out / "days").is_dir():
            shutil.rmtree(self.out / "days")
        (self.out / ".tactfulignore").write_text(
            "# the world's truth is for evaluation only: never ingested\ntruth/\n"
        )

    def _copy_out_from(self, src: Path) -> None:
        self._prepare_out()
        if (src / "days").is_dir():
            shutil.copytree(src / "days", self.out / "days")

    def _where(self, g: int) -> tuple[ChunkPlan, int, int]:
        k = int(self._plans.chunk_of[g])
        return self._plans.chunks[k], k, int(self._plans.pos_of[g])

    def _local_day(self, g: int, d: Decision) -> int:
        plan, _, i = self._where(g)
        local = d.send_at.astimezone(ZoneInfo(plan.customers.timezone[i])).date()
        return (local - self._plans.window.start).days

    def _answer(self, r: Keyed, g: int, day: int, d: Decision) -> list[Outcome]:
        if d.action is None:
            return []
        plan, k, i = self._where(g)
        c, st = plan.customers, self.state
        if c.join_day[i] > day or st.cut_day[g] <= day or c.closure_day[i] <= day:
            return []
        ans = answer(r, st, c, self._plans.latent[k], i, day, d)
        if ans.delivered:
            st.delivered.append(
                MessageTruth(d.decision_id, d.customer_id, day, ans.helps, ans.converted)
            )
        if ans.converted:
            apply_conversion(r, st, c, i, day, d, d.customer_id)
        return ans.outcomes

    def _emit(self, r: Keyed, day: int) -> None:
        st, w = self.state, self._plans.window
        self._closures(day)
        day_rows = DayRows()
        inserts = st.inserts.pop(day, [])
        changes = st.accounts.pop(day, [])
        chunk_of = self._plans.chunk_of
        for k, plan in enumerate(self._plans.chunks):
            c = plan.customers
            mine = [x for x in inserts if chunk_of[x.g] == k]
            if mine:
                day_rows.transactions.append(insert_rows(st, w, c, mine, day))
            tx = read_day(plan.tx_path, plan.tx_bounds, day)
            if tx.height:
                day_rows.transactions.append(_edit(r, st, tx, day))
            ev = read_day(plan.ev_path, plan.ev_bounds, day)
            if ev.height:
                alive = st.cut_day[ev["g"].to_numpy()] > day
                day_rows.events.append(ev.filter(pl.Series(alive))["line"])
            for name in ("customers", "consents", "accounts"):
                s = plan.static[name].filter(pl.col("emit_day") == day)
                if s.height:
                    s = s.filter(pl.Series(st.cut_day[s["g"].to_numpy()] > day))
                    getattr(day_rows, name).append(s)
            mine_changes = [x for x in changes if chunk_of[x.g] == k]
            if mine_changes:
                day_rows.accounts.append(
                    account_rows(st, w, c, plan.static["accounts"], mine_changes, day)
                )
        write_day(self.out / "days" / w.to_date(day).isoformat(), day_rows, self.fmt, day == 0)

    def _closures(self, day: int) -> None:
        """Customers leaving today: the world's leavers are swept and closed; the baseline's
        leavers (whose sweep is in the plan) have the world's edits undone first."""
        st = self.state
        for plan in self._plans.chunks:
            c = plan.customers
            world_leave = st.cut_day[c.gidx] == day
            base_leave = (c.closure_day == day) & (st.cut_day[c.gidx] > day)
            for i in np.flatnonzero(world_leave | base_leave):
                g = int(c.gidx[i])
                for slot in range(6):
                    k = g * 6 + slot
                    if not st.holds[k]:
                        continue
                    world_only = not c.exists[i, slot]
                    amount = -st.balance(g, slot) if (world_leave[i] or world_only) else -int(
                        st.offset[k])
                    if amount:
                        st.inserts[day].append(
                            Insert(g, slot, amount, "ACCOUNT CLOSURE TRANSFER")
                        )
                    st.accounts[day].append(AccountChange(g, slot, "", closed=True))
                    st.holds[k] = False
                why = "fatigue" if world_leave[i] else "switched bank"
                st.events.append(WorldEvent(customer_id(g), day, "left", why))


def _edit(r: Keyed, st: WorldState, tx: pl.DataFrame, day: int) -> pl.DataFrame:
    """Apply the world's edits to a day's baseline rows: drop, then shift balances."""
    g = tx["g"].to_numpy()
    key = tx["key"].to_numpy()
    amount = tx["amount_minor"].to_numpy()
    bal_s = tx["balance_after_minor"]
    posted = bal_s.is_not_null().to_numpy()
    bal = bal_s.fill_null(0).to_numpy()
    drop = st.cut_day[g] <= day
    drop |= tx["fee"].to_numpy() & (st.fee_free_until[g] > day)
    budget = st.budget_primary[g]
    active = (budget >= 0) & (st.budget_until[g] > day)
    if active.any():
        hit = active & tx["card"].to_numpy() & (tx["primary"].to_numpy() == budget)
        if hit.any():
            u = r.uniform("w.budget.skip", key, day, np.arange(len(key)))
            drop |= hit & (u < BUDGET_CUT)
    delta = np.where(drop & posted, -amount, 0).astype(np.int64)
    order = np.argsort(key, kind="stable")
    ks, ds = key[order], delta[order]
    cs = np.cumsum(ds)
    first = np.r_[True, ks[1:] != ks[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(ks)), 0))
    within = np.empty_like(cs)
    within[order] = cs - (cs[start] - ds[start])
    new_bal = bal + st.offset[key] + within
    np.add.at(st.offset, key, delta)
    # The last posted row of each account (rows of an account keep booking order).
    pk, pb = key[posted], bal[posted]
    if len(pk):
        o = np.argsort(pk, kind="stable")
        tail = np.r_[pk[o][1:] != pk[o][:-1], True]
        st.last_balance[pk[o][tail]] = pb[o][tail]
    out = tx.with_columns(
        pl.when(pl.Series(posted)).then(pl.Series(new_bal)).otherwise(None).alias(
            "balance_after_minor"
        )
    )
    return out.filter(~pl.Series(drop))


def _gidx(cid: str, n: int) -> int:
    try:
        g = int(cid.removeprefix("CUS-"))
    except ValueError:
        g = -1
    if not cid.startswith("CUS-") or not 0 <= g < n:
        raise ValidationError(f"customer_id {cid!r} is not a customer of this world")
    return g


def _initial_state(plans: _Plans) -> WorldState:
    st = WorldState.empty(plans.n)
    for plan in plans.chunks:
        c = plan.customers
        keys = (c.gidx[:, None] * 6 + np.arange(6)[None, :]).ravel()
        st.holds[keys] = c.exists.ravel()
        st.last_balance[keys] = c.opening.ravel()
        doomed = (c.join_day > 0) & (c.closure_day <= c.join_day)
        st.cut_day[c.gidx[doomed]] = -1
        for i in np.flatnonzero((c.join_day > 0) & ~doomed):
            st.events.append(
                WorldEvent(customer_id(int(c.gidx[i])), int(c.join_day[i]), "joined", "")
            )
    return st


def run(config: SimulationConfig, out: Path, fmt: str = "csv") -> World:
    """Step a world day by day through its whole window with no messages (``--world``)."""
    w = World(config, out, fmt=fmt)
    for day in range(w.state.clock, w._plans.window.n_days):
        w.step(until=day + 1)
    w.write_truth()
    return w
