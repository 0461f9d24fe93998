"""The balance the detectors read: the bank's figure at its moment, brought forward by what was
booked since.

Specification: a bank that sends account balances less often than transactions (an accounts
file with the balance at the start of the month, then a transactions file every day) is read
at the balance each day really had -- later bookings added, declined ones never -- on SQLite and
PostgreSQL; a balance without its moment is taken as it is.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tactful.ingest.loader import Loader
from tactful.insights.repository import load_inputs
from tactful.store.store import Store

CUSTOMERS = """customer_id,region,locale,timezone
C-1,US,en_US,America/Chicago
"""
ACCOUNTS = """account_id,customer_id,account_type,currency,balance,balance_as_of
CHK-1,C-1,checking,USD,1000.00,2024-03-10T23:59:59-05:00
CHK-2,C-1,checking,USD,300.00,
"""
TRANSACTIONS = """transaction_id,account_id,booked_at,amount,currency,description,status
T1,CHK-1,2024-03-05T10:00:00-06:00,-100.00,USD,GROCER,posted
T2,CHK-1,2024-03-12T10:00:00-05:00,-200.00,USD,RENT,posted
T3,CHK-1,2024-03-15T10:00:00-05:00,50.00,USD,REFUND,pending
T4,CHK-1,2024-03-16T10:00:00-05:00,-999.00,USD,DECLINED CARD,declined
T5,CHK-2,2024-03-12T10:00:00-05:00,-40.00,USD,CAFE,posted
"""


@pytest.fixture
def bank(store: Store, tmp_path: Path) -> Store:
    files = []
    for name, text in (("customers.csv", CUSTOMERS), ("accounts.csv", ACCOUNTS),
                       ("transactions.csv", TRANSACTIONS)):
        path = tmp_path / name
        path.write_text(text, "utf-8")
        files.append(path)
    report = Loader(store, report_dir=tmp_path / "reports").ingest(files)
    assert [f.rejected for f in report.files] == [0, 0, 0]
    return store


@pytest.mark.parametrize(("day", "expected"), [
    (date(2024, 3, 4), 110_000),   # before T1: the bank's figure less nothing, plus T1 undone
    (date(2024, 3, 8), 100_000),   # between T1 and the balance's moment
    (date(2024, 3, 10), 100_000),  # the balance's own day
    (date(2024, 3, 12), 80_000),   # the rent booked after it is counted
    (date(2024, 3, 20), 85_000),   # the pending refund too; the declined card never
])
def test_a_dated_balance_is_read_forward_and_back_from_its_moment(
    bank: Store, day: date, expected: int
) -> None:
    accounts = load_inputs(bank, ["C-1"], as_of=day).accounts
    balance = dict(zip(accounts["account_id"], accounts["balance_minor"], strict=True))
    assert balance["CHK-1"] == expected


def test_a_balance_without_its_moment_is_taken_as_it_is(bank: Store) -> None:
    accounts = load_inputs(bank, ["C-1"], as_of=date(2024, 3, 20)).accounts
    balance = dict(zip(accounts["account_id"], accounts["balance_minor"], strict=True))
    assert balance["CHK-2"] == 30_000
