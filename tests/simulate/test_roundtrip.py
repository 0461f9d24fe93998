"""Every output format re-imports into the store with zero rejects (the ingest contract)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tactful.ingest.loader import Loader
from tactful.simulate import SimulationConfig, simulate
from tactful.store.store import Store


@pytest.mark.parametrize(
    ("fmt", "customers"), [("parquet", 40), ("csv", 40), ("ofx", 12), ("camt053", 12)]
)
def test_exports_reimport_without_rejects(tmp_path: Path, fmt: str, customers: int) -> None:
    config = SimulationConfig(customers=customers, months=2, seed=3, start=date(2024, 3, 1))
    summary = simulate(config, tmp_path / "bank", fmt)
    store = Store.open(f"sqlite:///{tmp_path / 'tactful.db'}")
    try:
        # the whole folder, as `tactful ingest bank/` would: its .tactfulignore keeps truth/ out
        report = Loader(store, report_dir=tmp_path / "reports").ingest([tmp_path / "bank"])
        counts = store.counts()
    finally:
        store.close()
    assert report.rejected == 0, [(f.path, f.rejected, f.rejects_path) for f in report.files]
    assert counts["customers"] == customers
    assert counts["accounts"] == summary.accounts
    assert counts["events"] == summary.events
    if fmt in ("parquet", "csv"):
        assert counts["transactions"] == summary.transactions
    else:
        assert 0 < counts["transactions"] < summary.transactions  # no declined (nor OFX pending)
