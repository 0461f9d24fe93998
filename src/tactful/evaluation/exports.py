"""Read a simulated bank's Parquet exports straight into the enrichment layer's frame.

The store path (ingest, then load a shard) is what production runs and what the evaluation
scores; this shortcut gives unit tests and the benchmark the same frame in a second.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tactful.enrich.frames import TRANSACTIONS, conform, with_local_dates


def transactions_frame(bank: Path) -> pl.DataFrame:
    """The ``TRANSACTIONS`` frame of the simulated bank written to ``bank`` (Parquet format)."""
    tx = pl.read_parquet(bank / "transactions.parquet")
    accounts = pl.read_parquet(bank / "accounts.parquet").select(
        "account_id", "customer_id", "account_type"
    )
    customers = pl.read_parquet(bank / "customers.parquet").select("customer_id", "timezone")
    frame = (
        tx.join(accounts, on="account_id", how="left")
        .join(customers, on="customer_id", how="left")
        .with_columns(
            pl.col("booked_at").str.to_datetime("%Y-%m-%dT%H:%M:%S%:z").dt.convert_time_zone("UTC")
        )
        .rename({"transaction_id": "id"})
    )
    out = with_local_dates(frame).sort("id")
    return conform(out, TRANSACTIONS, what="transactions").select(list(TRANSACTIONS))
