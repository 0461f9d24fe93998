"""Same seed, same bytes -- whatever the chunk size; another seed, another bank."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from tactful.simulate import SimulationConfig, simulate
from tactful.simulate.generate import generate_chunk


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _config(seed: int = 7, chunk: int = 60) -> SimulationConfig:
    return SimulationConfig(
        customers=60, months=2, seed=seed, start=date(2024, 2, 1), chunk_size=chunk
    )


@pytest.mark.parametrize("fmt", ["parquet", "csv", "camt053"])
def test_same_seed_same_bytes_any_chunk_size(tmp_path: Path, fmt: str) -> None:
    a = _digests(simulate(_config(), tmp_path / "a", fmt).out)
    b = _digests(simulate(_config(), tmp_path / "b", fmt).out)
    c = _digests(simulate(_config(chunk=17), tmp_path / "c", fmt).out)
    assert a == b
    assert a == c


def test_other_seed_other_bank(tmp_path: Path) -> None:
    a = _digests(simulate(_config(seed=1), tmp_path / "a", "csv").out)
    b = _digests(simulate(_config(seed=2), tmp_path / "b", "csv").out)
    changed = [k for k in a if a[k] != b.get(k)]
    assert "transactions.csv" in changed and "customers.csv" in changed
    assert a["products.csv"] == b["products.csv"]


def test_customers_do_not_depend_on_their_chunk() -> None:
    config = _config()
    whole = generate_chunk(config, 0, 60)
    part = generate_chunk(config, 40, 60)
    rows_whole = whole.booked.rows
    keep = rows_whole.cust >= 40
    assert np.array_equal(whole.booked.amount[keep], part.booked.amount)
    assert np.array_equal(whole.booked.balance[keep], part.booked.balance)
    assert np.array_equal(rows_whole.day[keep], part.booked.rows.day)
