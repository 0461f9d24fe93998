"""Shared simulated banks for the simulator tests (generated once per session, kept small)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from tactful.simulate import SimulationConfig, SimulationSummary, simulate
from tactful.simulate.generate import Chunk, generate_chunk

SMALL = SimulationConfig(customers=200, months=3, seed=11, start=date(2024, 1, 1), chunk_size=80)


@pytest.fixture(scope="session")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SimulationSummary]:
    out = tmp_path_factory.mktemp("bank") / "parquet"
    return out, simulate(SMALL, out, "parquet")


@pytest.fixture(scope="session")
def tables(written: tuple[Path, SimulationSummary]) -> dict[str, pl.DataFrame]:
    out, _ = written
    frames = {p.stem: pl.read_parquet(p) for p in out.glob("*.parquet")}
    frames |= {"truth_" + p.stem: pl.read_parquet(p) for p in (out / "truth").glob("*.parquet")}
    return frames


@pytest.fixture(scope="session")
def population() -> Chunk:
    """A larger single chunk for distribution checks (800 customers, 6 months)."""
    config = SimulationConfig(customers=800, months=6, seed=5, start=date(2024, 1, 1))
    return generate_chunk(config, 0, config.customers)
