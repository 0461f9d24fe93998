"""The demo shows different lives without the hidden persona the simulator no longer exports."""

from __future__ import annotations

from sqlalchemy import insert

from tactful.service.demo import pick_customers as _pick_customers
from tactful.store import schema
from tactful.store.store import Store


def test_profiles_are_picked_from_each_region_in_turn(sqlite_store: Store) -> None:
    rows = [
        {"id": f"C{i}", "region": region, "locale": "en_US", "timezone": "UTC"}
        for i, region in enumerate(["us", "us", "us", "uk", "eu", "eu"])
    ]
    with sqlite_store.transaction() as conn:
        conn.execute(insert(schema.customers), rows)
    assert _pick_customers(sqlite_store, 4) == ["C4", "C3", "C0", "C5"]
    assert _pick_customers(sqlite_store, 10) == ["C4", "C3", "C0", "C5", "C1", "C2"]
