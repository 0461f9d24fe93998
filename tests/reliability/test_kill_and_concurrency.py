"""The reliability suite, on SQLite and PostgreSQL: ``tactful ingest`` and ``tactful enrich``
killed with SIGKILL at random (seeded) points, then run to completion, leave exactly the rows of
a clean run, and every run killed mid-way is marked ``crashed``; two of each batch command at
once (two files ingested, enrich, insight run) end with no error and the rows of the same
commands run one after the other.

``SOAK_KILLS`` (default 20) is the number of kills per store, half of ingest, half of enrich;
``make soak`` runs the suite with 200. ``SOAK_SEED`` changes the kill points.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tactful.simulate import SimulationConfig, simulate
from tactful.store import schema
from tactful.store.store import Store

pytestmark = pytest.mark.reliability

KILLS = int(os.environ.get("SOAK_KILLS", "20"))
SEED = int(os.environ.get("SOAK_SEED", "14"))
CONFIG = SimulationConfig(customers=16, months=3, seed=14, start=date(2025, 1, 1))
ZYGOTE = Path(__file__).with_name("zygote.py")
SETTLED = ("done", "crashed")

# Columns that say when or by which run a row was written, not what it holds.
BOOKKEEPING = {"import_id", "updated_at", "run_id", "produced_at", "state_changed_at"}
DIGESTED = (
    "customers", "customer_protected", "products", "accounts", "transactions", "events",
    "consents", "recurring_series", "series_changes", "income_streams", "income_changes",
    "insights",
)


def digest(store: Store) -> dict[str, tuple[int, str]]:
    """Per table: the row count and a SHA-256 over its rows sorted by primary key."""
    out = {}
    for name in DIGESTED:
        table = schema.metadata.tables[name]
        columns = [c for c in table.columns if c.name not in BOOKKEEPING]
        rows = store.rows(select(*columns).order_by(*table.primary_key.columns))
        h = hashlib.sha256()
        for row in rows:
            h.update(repr(tuple(v.isoformat() if isinstance(v, datetime) else v
                                for v in row)).encode())
        out[name] = (len(rows), h.hexdigest()[:16])
    return out


class Zygote:
    """Forks ``tactful`` commands from one interpreter that imported Tactful (see zygote.py)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.log = workdir / "commands.log"
        self.proc = subprocess.Popen(
            [sys.executable, str(ZYGOTE)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert "ready" in self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the zygote died; see {self.log}")
        return dict(json.loads(line))

    def _ask(self, **request: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def spawn(self, *argv: str) -> int:
        return int(self._ask(op="spawn", argv=list(argv), cwd=str(self.workdir),
                             log=str(self.log))["pid"])

    def wait(self, pid: int) -> int:
        return int(self._ask(op="wait", pid=pid)["status"])

    def run(self, *argv: str) -> tuple[int, float]:
        started = time.monotonic()
        status = self.wait(self.spawn(*argv))
        return status, time.monotonic() - started

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self.proc.stdout.close()


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reliability-bank")
    simulate(CONFIG, out, "csv")
    return out


@pytest.fixture
def zygote(tmp_path: Path) -> Iterator[Zygote]:
    z = Zygote(tmp_path)
    try:
        yield z
    finally:
        z.close()


@dataclass
class Databases:
    """Fresh databases of one backend, dropped afterwards."""

    backend: str
    tmp: Path
    admin: str | None
    made: list[str]

    def new(self) -> str:
        name = f"tactful_rel_{uuid.uuid4().hex[:10]}"
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp / name}.db"
        import psycopg

        assert self.admin is not None
        with psycopg.connect(self._dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        return f"{self.admin.rsplit('/', 1)[0]}/{name}"

    def _dsn(self) -> str:
        assert self.admin is not None
        return self.admin.replace("postgresql+psycopg://", "postgresql://")

    def drop(self) -> None:
        if not self.made:
            return
        import psycopg

        with psycopg.connect(self._dsn(), autocommit=True) as conn:
            for name in self.made:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    admin = request.getfixturevalue("pg_server") if request.param == "postgresql" else None
    dbs = Databases(request.param, tmp_path, admin, [])
    try:
        yield dbs
    finally:
        dbs.drop()


def _rows(url: str, table: str, *columns: str) -> list[tuple[Any, ...]]:
    store = Store.open(url)
    try:
        t = schema.metadata.tables[table]
        return [tuple(r) for r in store.rows(select(*(t.c[c] for c in columns)).order_by(t.c.id))]
    finally:
        store.close()


def _digest(url: str) -> dict[str, tuple[int, str]]:
    store = Store.open(url)
    try:
        return digest(store)
    finally:
        store.close()


def _exited(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def _until_running(url: str, table: str, pid: int, timeout: float = 120.0) -> None:
    t = schema.metadata.tables[table]
    store = Store.open(url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if store.rows(select(t.c.id).where(t.c.pid == pid, t.c.status == "running")):
                return
            if _exited(pid):
                return
            time.sleep(0.02)
        raise AssertionError(f"no running row of pid {pid} in {table} after {timeout} s")
    finally:
        store.close()


def test_kill_9_of_ingest_and_enrich_then_a_rerun_leaves_the_rows_of_a_clean_run(
    databases: Databases, zygote: Zygote, bank: Path, tmp_path: Path
) -> None:
    reports = str(tmp_path / "reports")
    clean, chaos = databases.new(), databases.new()

    def ingest(db: str) -> list[str]:
        return ["ingest", str(bank), "--db", db, "--batch-size", "250", "--report-dir", reports]

    def enrich(db: str, *more: str) -> list[str]:
        return ["enrich", "--db", db, "--shard-size", "2", *more]

    ingested, ingest_s = zygote.run(*ingest(clean))
    assert ingested in (0, 3), zygote.log.read_text()[-3000:]
    enriched, enrich_s = zygote.run(*enrich(clean))
    assert enriched == 0, zygote.log.read_text()[-3000:]
    expected = _digest(clean)
    assert expected["transactions"][0] > 0 and expected["recurring_series"][0] > 0

    Store.open(chaos).close()  # migrated before the trials, so polling it races nothing
    rng = random.Random(f"{SEED}-{databases.backend}")
    killed: list[int] = []
    # A full enrich can be killed again and again (an incremental one after a finished run
    # has nothing left to do); each resumes the one killed before it.
    for argv, seconds, wanted, final in (
        (ingest(chaos), ingest_s, KILLS // 2, ingest(chaos)),
        (enrich(chaos, "--full"), enrich_s, KILLS - KILLS // 2, enrich(chaos)),
    ):
        kills = attempts = 0
        while kills < wanted:
            attempts += 1
            assert attempts <= 3 * wanted + 10, f"only {kills} of {attempts} kills landed"
            pid = zygote.spawn(*argv)
            if attempts == 1:  # once per command, mid-run for sure: after its run row is there
                _until_running(chaos, "imports" if argv[0] == "ingest" else "enrich_runs", pid)
                time.sleep(rng.uniform(0.0, seconds / 4))
            else:
                time.sleep(rng.uniform(0.0, seconds))
            os.kill(pid, signal.SIGKILL)
            status = zygote.wait(pid)
            if status == -signal.SIGKILL:
                kills += 1
                killed.append(pid)
            else:
                assert status in (0, 3), zygote.log.read_text()[-3000:]
        status, _ = zygote.run(*final)
        assert status in (0, 3), zygote.log.read_text()[-3000:]

    assert _digest(chaos) == expected

    imports = _rows(chaos, "imports", "id", "status", "pid")
    runs = _rows(chaos, "enrich_runs", "id", "status", "pid", "resume_after", "resumed_from",
                 "mode")
    assert {r[1] for r in imports} <= set(SETTLED) and {r[1] for r in runs} <= set(SETTLED)
    assert all(r[1] == "done" for r in imports + runs if r[2] not in killed)
    crashed_imports = [r for r in imports if r[1] == "crashed"]
    crashed_runs = [r for r in runs if r[1] == "crashed"]
    assert crashed_imports and crashed_runs
    assert all(r[2] in killed for r in crashed_imports + crashed_runs)
    # Each killed full run that had committed a shard was resumed by the full run after it
    # (an incremental one has only new data to do: the rules and model did not change).
    # (the run after it by id, not id + 1: a run killed between taking its id and committing
    # its row leaves a gap in PostgreSQL's sequence)
    resumable = [r[0] for r in crashed_runs if r[3] is not None and r[5] == "full"]
    assert resumable
    for run_id in resumable:
        after = min((r for r in runs if r[0] > run_id), key=lambda r: r[0])
        assert after[4] == (run_id if after[5] == "full" else None)


def test_two_of_each_command_at_once_end_like_one_after_the_other(
    databases: Databases, zygote: Zygote, bank: Path, tmp_path: Path
) -> None:
    reports = str(tmp_path / "reports")
    files = {p.name: str(p) for p in bank.iterdir() if p.is_file()}
    setup = [files[n] for n in ("customers.csv", "accounts.csv", "products.csv", "consents.csv")]

    def commands(db: str) -> list[list[list[str]]]:
        ingest = ["--db", db, "--report-dir", reports, "--batch-size", "500"]
        return [
            [["ingest", files["transactions.csv"], *ingest],
             ["ingest", files["events.jsonl"], *ingest]],
            [["enrich", "--db", db, "--shard-size", "4"]] * 2,
            [["insight", "run", "--db", db]] * 2,
        ]

    one_by_one, at_once = databases.new(), databases.new()
    for db in (one_by_one, at_once):
        status, _ = zygote.run("ingest", *setup, "--db", db, "--report-dir", reports)
        assert status in (0, 3), zygote.log.read_text()[-3000:]
    sequential = [zygote.run(*argv)[0] for pair in commands(one_by_one) for argv in pair]
    concurrent = []
    for pair in commands(at_once):
        pids = [zygote.spawn(*argv) for argv in pair]
        concurrent += [zygote.wait(pid) for pid in pids]
    assert concurrent == sequential, zygote.log.read_text()[-3000:]
    assert set(sequential) <= {0, 3}

    assert _digest(at_once) == _digest(one_by_one)
    for table in ("imports", "enrich_runs", "insight_runs"):
        assert {r[0] for r in _rows(at_once, table, "status")} == {"done"}
    assert len(_rows(at_once, "insight_runs", "id")) == 2
