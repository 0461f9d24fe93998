"""The evaluation's simulated bank, run through the product exactly as a bank would run it:
exports -> ``tactful ingest`` -> ``tactful enrich`` -> the store. Scores are read back from the
store, so what is measured is what ships, not a shortcut around it.

The seed is not the demo's: nothing was tuned on this bank.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tactful.batch.enrich import EnrichReport, run_enrich
from tactful.ingest.loader import Loader
from tactful.simulate import SimulationConfig, simulate
from tactful.store.store import Store

EVAL_SEED = 101
EXPORTS = (
    "customers.parquet",
    "accounts.parquet",
    "products.parquet",
    "transactions.parquet",
    "consents.parquet",
    "events.jsonl",
)
"""Consents decide who the models may score, and logins are churn features; the events add
about 7 s to the ingest of 1,500 customers x 12 months."""


@dataclass(frozen=True)
class EvalBank:
    config: SimulationConfig
    exports: Path
    truth: Path
    store: Store
    enrich: EnrichReport


def build_bank(
    workdir: Path,
    *,
    customers: int,
    months: int,
    seed: int = EVAL_SEED,
    start: date = date(2025, 1, 1),
    say: Callable[[str], None] = lambda _m: None,
    unseen_merchants: bool = False,
) -> EvalBank:
    """Simulate, ingest and enrich a bank in ``workdir`` (emptied first).

    ``unseen_merchants`` draws the card merchants from a world whose names and descriptor
    printing the engine's directory and rules were never given (``tactful simulate
    --unseen-merchants``).
    """
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    config = SimulationConfig(
        customers=customers, months=months, seed=seed, start=start,
        unseen_merchants=unseen_merchants,
    )
    exports = workdir / "bank"
    world = ", unseen merchants" if unseen_merchants else ""
    say(f"simulating {customers:,} customers x {months} months (seed {seed}{world})")
    simulate(config, exports, "parquet")
    store = Store.open(f"sqlite:///{workdir / 'tactful.db'}")
    say("ingesting the exports")
    Loader(store, report_dir=workdir / "ingest-reports").ingest([exports / f for f in EXPORTS])
    say("enriching")
    report = run_enrich(store)
    return EvalBank(config, exports, exports / "truth", store, report)
