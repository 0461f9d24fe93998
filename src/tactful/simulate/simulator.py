"""The public face of the simulator: generate, write, and answer the engine's messages.

``simulate(config, out, fmt)`` is what ``tactful simulate`` calls: it generates customers in
chunks of ``config.chunk_size`` and streams each chunk into the output files, so memory stays
bounded whatever the number of customers. ``Simulator`` adds the closed loop: after ``write`` (or
on first use) it keeps a compact copy of each customer's truth and answers ``respond(decisions)``.

>>> from datetime import date
>>> cfg = SimulationConfig(customers=20, months=1, seed=3, start=date(2024, 1, 1))
>>> sim = Simulator(cfg)
>>> chunk = next(sim.chunks())
>>> len(chunk.pop)
20
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
from numpy.typing import NDArray

from tactful.domain.actions import Decision, Outcome
from tactful.errors import ValidationError
from tactful.ingest.loader import IGNORE_FILE
from tactful.simulate.bank.accounts import account_ids
from tactful.simulate.base.rng import Keyed
from tactful.simulate.config import SimulationConfig
from tactful.simulate.counterparties import merchants as mc
from tactful.simulate.exports import frames as F
from tactful.simulate.exports.events_io import event_lines
from tactful.simulate.exports.schemas import EXPORT_SCHEMAS, TRUTH_SCHEMAS
from tactful.simulate.exports.statements import write_statements
from tactful.simulate.exports.timezones import iso_strings, localize
from tactful.simulate.exports.writers import LinesSink, Sink, open_sink
from tactful.simulate.generate import Chunk, generate_chunk
from tactful.simulate.people.behaviour import behaviour_events
from tactful.simulate.people.regions import TIMEZONES
from tactful.simulate.truth import tables as T
from tactful.simulate.truth.readme import TRUTH_README
from tactful.simulate.truth.relevance import TruthState
from tactful.simulate.truth.response import (
    BASE_OPEN,
    CLICK,
    CONVERT,
    DISMISS_OPENED,
    DISMISS_UNOPENED,
    FATIGUE,
    HOUR_WIDTH,
    OPT_OUT_BASE,
    OPT_OUT_IRRELEVANT,
    OPT_OUT_NO_CONSENT,
    OPT_OUT_PER_EXTRA_MESSAGE,
    OPT_OUT_QUIET,
    Customers,
    Responder,
    ResponseParams,
    draw_params,
)

FORMATS: Final = ("parquet", "csv", "ofx", "camt053")
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class SimulationSummary:
    """What a run wrote (counts are exact; nothing here depends on the clock)."""

    out: Path
    format: str
    customers: int
    accounts: int
    transactions: int
    events: int
    statement_files: int
    files: tuple[str, ...]


class Simulator:
    """A simulated bank for one configuration.

    ``chunks()`` yields the generated data; ``write()`` streams it to files; ``respond()`` plays
    the customers' side of the closed loop.
    """

    def __init__(self, config: SimulationConfig) -> None:
        if not isinstance(config, SimulationConfig):
            raise ValidationError(f"config must be a SimulationConfig, got {type(config).__name__}")
        self.config = config
        self._responder: Responder | None = None

    def chunks(self) -> Iterator[Chunk]:
        c = self.config
        for lo in range(0, c.customers, c.chunk_size):
            yield generate_chunk(c, lo, min(lo + c.chunk_size, c.customers))

    def write(
        self,
        out: Path,
        fmt: str = "parquet",
        progress: Progress | None = None,
        keep_state: bool = True,
    ) -> SimulationSummary:
        """Write the bank's exports to ``out`` and the truth to ``out/truth``.

        ``keep_state`` keeps what ``respond`` needs (two float32 values per customer and day);
        leave it False for very large runs that will not be answered.
        """
        states: list[_State] = []
        with _world(self.config):
            summary = _write(self.config, out, fmt, progress, states if keep_state else None)
        if keep_state:
            self._responder = _responder(self.config, states)
        return summary

    def respond(self, decisions: Sequence[Decision]) -> list[Outcome]:
        """The outcomes the simulated customers produce for ``decisions`` (silence yields none).

        Deterministic given the seed, the decisions and the previous calls (fatigue and opt-outs
        carry over). Every decision's ``send_at`` must fall inside the simulated window.
        """
        if self._responder is None:
            states = [_state(self.config, ch) for ch in self.chunks()]
            self._responder = _responder(self.config, states)
        return self._responder.respond(list(decisions))


def simulate(
    config: SimulationConfig, out: Path, fmt: str = "parquet", progress: Progress | None = None
) -> SimulationSummary:
    """Generate ``config`` and write it to ``out`` in ``fmt`` (parquet, csv, ofx, camt053)."""
    with _world(config):
        return _write(config, out, fmt, progress, None)


def _world(config: SimulationConfig) -> AbstractContextManager[mc.MerchantTable]:
    """The run's merchant world, active while its chunks are written (descriptors, truth)."""
    return mc.using(mc.table_for(config.seed, config.unseen_merchants))


@dataclass(slots=True)
class _State:
    ids: list[str]
    timezone: list[str]
    truth: TruthState
    params: ResponseParams
    consent_denied: NDArray[np.bool_]
    consent_withdrawn: NDArray[np.int64]
    sessions: dict[int, NDArray[np.float64]]


def _state(
    config: SimulationConfig, ch: Chunk, sessions: dict[int, NDArray[np.float64]] | None = None
) -> _State:
    """The compact truth ``respond`` needs about a chunk's customers."""
    if sessions is None:
        _, s = behaviour_events(Keyed(config.seed), ch)
        sessions = _session_stamps(ch, s.cust, s.day, s.sec)
    return _State(
        ids=F.customer_ids(ch.pop.gidx).to_list(),
        timezone=[TIMEZONES[z] for z in F.zone_of(ch)],
        truth=TruthState.from_chunk(ch, config.seed),
        params=draw_params(Keyed(config.seed), ch.pop),
        consent_denied=ch.pop.consent_denied,
        consent_withdrawn=ch.consents.withdrawn_day,
        sessions=sessions,
    )


def _session_stamps(
    ch: Chunk, cust: NDArray[np.int64], day: NDArray[np.int64], sec: NDArray[np.int64]
) -> dict[int, NDArray[np.float64]]:
    """Per customer, sorted UTC epoch seconds of app sessions."""
    w = ch.window
    zone = F.zone_of(ch)[cust]
    sec2, off = localize(w, zone, TIMEZONES, day, sec)
    epoch = (np.datetime64(w.start, "s") - np.datetime64("1970-01-01T00:00:00", "s")).astype(
        np.int64
    )
    ts = (epoch + day * 86_400 + sec2 - off).astype(np.float64)
    out: dict[int, NDArray[np.float64]] = {}
    bounds = np.searchsorted(cust, np.arange(len(ch.pop) + 1))
    for i in range(len(ch.pop)):
        out[i] = ts[bounds[i] : bounds[i + 1]]
    return out


def _responder(config: SimulationConfig, states: list[_State]) -> Responder:
    ids: dict[str, int] = {}
    tz: list[str] = []
    sessions: dict[int, NDArray[np.float64]] = {}
    for st in states:
        base = len(ids)
        for k, cid in enumerate(st.ids):
            ids[cid] = base + k
        tz += st.timezone
        sessions.update({base + k: v for k, v in st.sessions.items()})
    truth = TruthState.concat([s.truth for s in states])
    params = ResponseParams(
        affinity=np.concatenate([s.params.affinity for s in states]),
        read_hour=np.concatenate([s.params.read_hour for s in states]),
        engagement=np.concatenate([s.params.engagement for s in states]),
        quiet=np.concatenate([s.params.quiet for s in states]),
    )
    start = datetime(
        config.start.year, config.start.month, config.start.day, tzinfo=ZoneInfo("UTC")
    )
    customers = Customers(
        ids=ids,
        timezone=tz,
        start=start,
        n_days=config.n_days,
        truth=truth,
        params=params,
        consent_denied=np.concatenate([s.consent_denied for s in states]),
        consent_withdrawn=np.concatenate([s.consent_withdrawn for s in states]),
        sessions=sessions,
    )
    return Responder(seed=config.seed, customers=customers)


def _write(
    config: SimulationConfig,
    out: Path,
    fmt: str,
    progress: Progress | None,
    states: list[_State] | None,
) -> SimulationSummary:
    if fmt not in FORMATS:
        raise ValidationError(f"format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValidationError(f"out {out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("truth", "statements"):
        if (out / sub).is_dir():
            shutil.rmtree(out / sub)
    (out / "truth").mkdir()
    ignore = out / IGNORE_FILE
    if not ignore.exists():  # so that `tactful ingest DIR` loads the exports and not the truth
        ignore.write_text("# the simulator's truth is for evaluation only: never ingested\n"
                          "truth/\n")
    table_fmt = fmt if fmt in ("parquet", "csv") else "csv"
    for stale in ("customers", "accounts", "transactions", "consents", "products"):
        for ext in (".csv", ".parquet"):
            (out / (stale + ext)).unlink(missing_ok=True)
    sinks: dict[str, Sink] = {}
    for name in ("customers", "accounts", "consents", "products"):
        sinks[name] = open_sink(out / name, table_fmt, EXPORT_SCHEMAS[name])
    if fmt in ("parquet", "csv"):
        sinks["transactions"] = open_sink(
            out / "transactions", table_fmt, EXPORT_SCHEMAS["transactions"]
        )
    truth_sinks = {
        name: open_sink(out / "truth" / name, "parquet", schema)
        for name, schema in TRUTH_SCHEMAS.items()
    }
    events = LinesSink(out / "events.jsonl")
    sinks["products"].write(F.products_frame())
    n_acc = n_tx = n_ev = n_files = done = 0
    try:
        for ch in Simulator(config).chunks():
            ids = account_ids(ch.pop, ch.accounts)
            accounts = F.accounts_frame(ch, ids)
            tx_ids = F.transaction_ids(ch)
            tx = F.transactions_frame(ch, ids, tx_ids)
            sinks["customers"].write(F.customers_frame(ch))
            sinks["accounts"].write(accounts)
            sinks["consents"].write(F.consents_frame(ch))
            if "transactions" in sinks:
                sinks["transactions"].write(tx)
            else:
                start_at = _start_stamps(ch).gather(pl.Series(np.nonzero(ch.accounts.exists)[0]))
                n_files += write_statements(
                    out / "statements", fmt, tx, accounts.with_columns(start_at=start_at)
                )
            ev, sessions = behaviour_events(Keyed(config.seed), ch)
            lines = event_lines(ch, ev)
            events.write_lines(lines)
            params = draw_params(Keyed(config.seed), ch.pop)
            _write_truth(ch, ids, params, truth_sinks, tx_ids)
            if states is not None:
                stamps = _session_stamps(ch, sessions.cust, sessions.day, sessions.sec)
                states.append(_state(config, ch, stamps))
            n_acc += accounts.height
            n_tx += tx.height
            n_ev += len(lines)
            done += len(ch.pop)
            if progress is not None:
                progress(done, config.customers)
    finally:
        for sink in [*sinks.values(), *truth_sinks.values()]:
            sink.close()
        events.close()
    _response_model().write_parquet(
        out / "truth" / "response_model.parquet",
        compression="zstd",
        compression_level=3,
        statistics=True,
    )
    (out / "truth" / "README.md").write_text(TRUTH_README, encoding="utf-8")
    files = sorted(
        str(p.relative_to(out))
        for p in out.rglob("*")
        if p.is_file() and p.parent.name != "statements"
    )
    return SimulationSummary(
        out=out,
        format=fmt,
        customers=config.customers,
        accounts=n_acc,
        transactions=n_tx,
        events=n_ev,
        statement_files=n_files,
        files=tuple(files),
    )


def _start_stamps(ch: Chunk) -> pl.Series:
    zone = F.zone_of(ch)
    day = np.zeros(len(zone), dtype=np.int64)
    sec, off = localize(ch.window, zone, TIMEZONES, day, day.copy())
    return iso_strings(ch.window, day, sec, off)


def _write_truth(
    ch: Chunk,
    ids: list[list[str]],
    params: ResponseParams,
    sinks: dict[str, Sink],
    tx_ids: pl.Series,
) -> None:
    series, changes = T.series_truth(ch, ids)
    streams, income_changes = T.income_truth(ch, series, changes)
    tx_truth, members, fraud = T.transaction_truth(ch, tx_ids)
    tables = {
        "customers": T.customers_truth(ch, params),
        "accounts": T.accounts_truth(ch, ids),
        "recurring_series": series.drop("income"),
        "price_changes": changes,
        "series_members": members,
        "income_streams": streams,
        "income_changes": income_changes,
        "life_events": T.life_truth(ch),
        "fraud": fraud,
        "churn": T.churn_truth(ch),
        "transaction_truth": tx_truth,
        "response_params": T.response_truth(ch, params),
        "behaviour_changes": T.behaviour_truth(ch),
        "customer_needs": T.needs_truth(ch),
    }
    for name, frame in tables.items():
        sinks[name].write(frame)


def _response_model() -> pl.DataFrame:
    rows: list[tuple[str, str, float]] = []
    for ch, v in BASE_OPEN.items():
        rows.append(("base_open", ch, v))
    for ch, v in DISMISS_UNOPENED.items():
        rows.append(("dismiss_unopened", ch, v))
    for kind, (rel, irr) in CLICK.items():
        rows += [("click_relevant", kind.value, rel), ("click_irrelevant", kind.value, irr)]
    for kind, (rel, irr) in CONVERT.items():
        rows += [("convert_relevant", kind.value, rel), ("convert_irrelevant", kind.value, irr)]
    rows += [
        ("dismiss_opened_relevant", "", DISMISS_OPENED[0]),
        ("dismiss_opened_irrelevant", "", DISMISS_OPENED[1]),
        ("fatigue_per_message_7d", "", FATIGUE),
        ("hour_width_h", "", HOUR_WIDTH),
        ("opt_out_base", "", OPT_OUT_BASE),
        ("opt_out_irrelevant", "", OPT_OUT_IRRELEVANT),
        ("opt_out_per_message_beyond_2_in_7d", "", OPT_OUT_PER_EXTRA_MESSAGE),
        ("opt_out_quiet_hours_push_sms", "", OPT_OUT_QUIET),
        ("opt_out_without_consent", "", OPT_OUT_NO_CONSENT),
    ]
    return pl.DataFrame(
        rows, schema={"parameter": pl.Utf8, "key": pl.Utf8, "value": pl.Float64}, orient="row"
    )
