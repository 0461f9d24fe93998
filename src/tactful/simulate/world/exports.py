"""A day's exports of the living world, in the batch simulator's files and columns.

Each simulated day is written to ``days/YYYY-MM-DD/``: the transactions booked that day, the
behavioural events, and the customers, accounts and consents that are new or changed that day
(new customers, accounts opened or closed, consent withdrawals). The columns are those of
``simulate/exports/schemas.py`` (the same as ``tactful simulate``'s), so ``tactful ingest`` loads
day N's folder after day N-1's and the store grows as the bank's would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from tactful.simulate.bank.accounts import account_id
from tactful.simulate.base.calendar import Window
from tactful.simulate.base.rows import SLOTS
from tactful.simulate.exports.frames import customer_id, products_frame
from tactful.simulate.exports.schemas import EXPORT_SCHEMAS
from tactful.simulate.exports.timezones import iso_strings, localize
from tactful.simulate.people.regions import TIMEZONES
from tactful.simulate.world.plan import Customers
from tactful.simulate.world.state import AccountChange, Insert, WorldState

_ACCOUNT_NAME = {1: "Easy Access Savings", 2: "Credit Card", 3: "Personal Loan", 5: "Investments"}


@dataclass(slots=True)
class DayRows:
    transactions: list[pl.DataFrame] = field(default_factory=list)
    events: list[pl.Series] = field(default_factory=list)
    customers: list[pl.DataFrame] = field(default_factory=list)
    accounts: list[pl.DataFrame] = field(default_factory=list)
    consents: list[pl.DataFrame] = field(default_factory=list)


def _stamps(w: Window, c: Customers, pos: np.ndarray, day: int, sec: int) -> pl.Series:
    days = np.full(len(pos), day, np.int64)
    secs = np.full(len(pos), sec, np.int64)
    s, off = localize(w, c.zone[pos], TIMEZONES, days, secs)
    return iso_strings(w, days, s, off)


def insert_rows(
    st: WorldState, w: Window, c: Customers, inserts: list[Insert], day: int
) -> pl.DataFrame:
    """The world's own transactions of a day (booked first thing, before the baseline's)."""
    pos = np.searchsorted(c.gidx, [x.g for x in inserts])
    ids, balances, accounts = [], [], []
    for x in inserts:
        k = x.g * 6 + x.slot
        st.seq[k] += 1
        ids.append(f"TW{x.g:08d}{x.slot}{int(st.seq[k]):06d}")
        st.offset[k] += x.amount
        balances.append(int(st.last_balance[k] + st.offset[k]))
        accounts.append(account_id(c.country[int(np.searchsorted(c.gidx, x.g))], x.g, x.slot))
    n = len(inserts)
    return pl.DataFrame(
        {
            "transaction_id": ids,
            "account_id": accounts,
            "booked_at": _stamps(w, c, pos, day, 60),
            "value_at": [w.to_date(day).isoformat()] * n,
            "amount_minor": [x.amount for x in inserts],
            "currency": [c.currency[int(p)] for p in pos],
            "description": [x.description for x in inserts],
            "counterparty": [x.counterparty or None for x in inserts],
            "mcc": [None] * n,
            "channel": [x.channel for x in inserts],
            "status": ["posted"] * n,
            "balance_after_minor": balances,
        },
        schema=EXPORT_SCHEMAS["transactions"],
    )


def account_rows(
    st: WorldState,
    w: Window,
    c: Customers,
    static: pl.DataFrame,
    changes: list[AccountChange],
    day: int,
) -> pl.DataFrame:
    """Accounts opened or closed today, as account export rows."""
    pos = np.searchsorted(c.gidx, [x.g for x in changes])
    stamp = _stamps(w, c, pos, day, 0)
    rows = []
    known = dict(zip(static["key"].to_list(), range(static.height), strict=True))
    iso = w.to_date(day).isoformat()
    for j, x in enumerate(changes):
        k = x.g * 6 + x.slot
        i = int(pos[j])
        base = known.get(k)
        product = x.product_id or (static["product_id"][base] if base is not None else "")
        rows.append(
            {
                "account_id": account_id(c.country[i], x.g, x.slot),
                "customer_id": customer_id(x.g),
                "account_type": SLOTS[x.slot],
                "currency": c.currency[i],
                "balance_minor": 0 if x.closed else st.balance(x.g, x.slot),
                "balance_as_of": stamp[j],
                "credit_limit_minor": x.credit_limit
                if x.credit_limit is not None
                else (static["credit_limit_minor"][base] if base is not None else None),
                "opened_on": static["opened_on"][base] if base is not None else iso,
                "closed_on": iso if x.closed else "",
                "product_id": product,
                "name": static["name"][base]
                if base is not None
                else _ACCOUNT_NAME.get(x.slot, SLOTS[x.slot]),
            }
        )
    return pl.DataFrame(rows, schema=EXPORT_SCHEMAS["accounts"])


def write_day(folder: Path, rows: DayRows, fmt: str, first: bool) -> None:
    """Write one day's folder (only the files that have rows)."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "customers": rows.customers,
        "accounts": rows.accounts,
        "consents": rows.consents,
        "transactions": rows.transactions,
    }
    if first:
        tables["products"] = [products_frame()]
    for name, parts in tables.items():
        if not parts:
            continue
        schema = EXPORT_SCHEMAS[name]
        frame = pl.concat([p.select([pl.col(c).cast(t) for c, t in schema.items()]) for p in parts])
        if frame.height == 0:
            continue
        if fmt == "parquet":
            frame.write_parquet(folder / f"{name}.parquet")
        else:
            frame.write_csv(folder / f"{name}.csv")
    if rows.events:
        lines = pl.concat(rows.events)
        if len(lines):
            with open(folder / "events.jsonl", "w", encoding="utf-8") as fh:
                fh.write("\n".join(lines.to_list()))
                fh.write("\n")
