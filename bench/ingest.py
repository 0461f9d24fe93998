"""Ingest throughput: 1,000,000 transactions from Parquet and CSV into SQLite and PostgreSQL.

Beside each, the naive way -- one ORM object per row, inserted through a SQLAlchemy session --
is measured in the same process on a slice of the same rows, so the ratio is like for like.
Target: >= 100,000 rows/s into each store on the project's 2-core machine.

    python bench/ingest.py [--rows 1000000] [--naive-rows 20000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table
from sqlalchemy.orm import Session, registry

sys.path.insert(0, str(Path(__file__).parent))
from common import load, save, timed

from tactful.ingest.loader import Loader
from tactful.store.store import Store

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DESCRIPTORS = [
    "SQ *BLUE BOTTLE COFFEE SAN FRANCISCO CA",
    "TESCO STORES 2231 LONDON GB",
    "AMZN Mktp US*2K4RT5 Amzn.com/bill WA",
    "SEPA-LASTSCHRIFT VODAFONE GMBH",
    "UBER   *TRIP HELP.UBER.COM CA",
    "SHELL OIL 57442195 AUSTIN TX",
    "PAYPAL *NETFLIX 4029357733",
    "REWE SAGT DANKE 4711 BERLIN",
]


def make_rows(n: int, seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    seconds = np.sort(rng.integers(0, 365 * 86400, n))
    return pl.DataFrame(
        {
            "transaction_id": [f"T{i:09d}" for i in range(n)],
            "account_id": [f"ACC-{a:06d}" for a in rng.integers(0, 20_000, n)],
            "booked_at": [start + timedelta(seconds=int(s)) for s in seconds],
            "amount_minor": -rng.integers(100, 50_000, n),
            "currency": "EUR",
            "description": np.array(DESCRIPTORS)[rng.integers(0, len(DESCRIPTORS), n)],
            "mcc": np.array(["5814", "5411", "5942", "4899", "4121", "5541", "4899", "5411"])[
                rng.integers(0, 8, n)
            ],
            "channel": "card",
            "status": "posted",
        }
    )


def naive_insert(url: str, frame: pl.DataFrame) -> float:
    """Rows/s of one ORM object per row, flushed one by one (the way a quick script does it)."""
    md = MetaData()
    table = Table(
        "naive_txn",
        md,
        Column("id", String(200), primary_key=True),
        Column("account_id", String(128)),
        Column("booked_at", DateTime(timezone=True)),
        Column("amount_minor", Integer),
        Column("currency", String(3)),
        Column("description", String(200)),
    )

    class Row:
        pass

    reg = registry()
    reg.map_imperatively(Row, table)
    store = Store.open(url)
    md.create_all(store.engine)
    with timed() as elapsed, Session(store.engine) as session:
        for rec in frame.iter_rows(named=True):
            row = Row()
            row.id = rec["account_id"] + ":" + rec["transaction_id"]  # type: ignore[attr-defined]
            row.account_id = rec["account_id"]  # type: ignore[attr-defined]
            row.booked_at = rec["booked_at"]  # type: ignore[attr-defined]
            row.amount_minor = rec["amount_minor"]  # type: ignore[attr-defined]
            row.currency = rec["currency"]  # type: ignore[attr-defined]
            row.description = rec["description"]  # type: ignore[attr-defined]
            session.add(row)
            session.flush()
        session.commit()
    store.close()
    return frame.height / elapsed()


def tactful_ingest(url: str, path: Path, report_dir: Path) -> tuple[float, int, float]:
    """(rows/s, rows inserted, CPU seconds of this process per million rows).

    CPU time (both of the loader's threads; not the PostgreSQL server's) says what a run costs
    whatever else the machine is doing, where rows/s on a shared machine depends on the load.
    """
    store = Store.open(url)
    cpu = time.process_time()
    with timed() as elapsed:
        report = Loader(store, report_dir=report_dir, batch_size=100_000).ingest([path])
    seconds = elapsed()
    cpu = time.process_time() - cpu
    store.close()
    assert report.rejected == 0, report.files[0].rejects_path  # noqa: S101 -- a bench sanity check
    return report.inserted / seconds, report.inserted, cpu / report.inserted * 1e6


def pg_database() -> tuple[str, str]:
    import psycopg

    name = f"tactful_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", name


def drop_pg(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--naive-rows", type=int, default=20_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    results = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        frame = make_rows(args.rows)
        parquet = tmp / "transactions.parquet"
        csv_path = tmp / "transactions.csv"
        frame.write_parquet(parquet)
        frame.with_columns(pl.col("booked_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ")).write_csv(
            csv_path
        )
        naive_frame = frame.head(args.naive_rows)
        backends = ["sqlite"] + ([] if args.no_postgres else ["postgresql"])
        for backend in backends:
            for fmt, path in (("parquet", parquet), ("csv", csv_path)):
                pg_name = None
                if backend == "sqlite":
                    url = f"sqlite:///{tmp / f'{fmt}.db'}"
                else:
                    url, pg_name = pg_database()
                try:
                    rate, n, cpu = tactful_ingest(url, path, tmp / "reports")
                finally:
                    if pg_name:
                        drop_pg(pg_name)
                results.append(
                    {
                        "store": backend,
                        "source": fmt,
                        "rows": n,
                        "rows_per_s": round(rate),
                        "cpu_s_per_million": round(cpu, 2),
                        "load_1min": load(),
                    }
                )
                print(
                    f"{backend:<10} {fmt:<8} {n:>9,} rows  {rate:>10,.0f} rows/s  "
                    f"{cpu:5.2f} CPU s per million rows (load {load()})",
                    flush=True,
                )
            pg_name = None
            if backend == "sqlite":
                url = f"sqlite:///{tmp / 'naive.db'}"
            else:
                url, pg_name = pg_database()
            try:
                naive = naive_insert(url, naive_frame)
            finally:
                if pg_name:
                    drop_pg(pg_name)
            ours = [r for r in results if r["store"] == backend]
            for r in ours:
                r["vs_naive"] = f"{r['rows_per_s'] / naive:,.0f}x"
            results.append(
                {
                    "store": backend,
                    "source": "naive ORM row-by-row",
                    "rows": naive_frame.height,
                    "rows_per_s": round(naive),
                    "cpu_s_per_million": "",
                    "load_1min": load(),
                    "vs_naive": "1x",
                }
            )
            ratios = ", ".join(f"{r['source']} {r['vs_naive']}" for r in ours)
            print(
                f"{backend:<10} naive    {naive_frame.height:>9,} rows  {naive:>10,.0f} rows/s"
                f"   (tactful: {ratios})",
                flush=True,
            )
    print(f"written {save('ingest', results)}")


if __name__ == "__main__":
    main()
