"""Everything the store holds about one customer, as one JSON document (the right of access).

Which tables hold a customer's data is read from the database itself, not from a list kept here:
a table with a ``customer_id`` column holds the customer's rows, a table with an ``account_id``
column (and no ``customer_id``) holds their accounts' rows, and ``customers`` and ``accounts``
are the customer and their accounts. A table a later version adds is therefore exported (and
erased, ``erasure.py`` uses the same map) without anyone remembering to list it. Protected
attributes go through their one logged door (``Store.protected_attributes``) like every read.

The products the customer's accounts refer to are added for context: they are the bank's
catalog, not personal data, and make ``product_id`` readable.

>>> # export_customer(store, "C-1001", requested_by="dpo@bank").to_json()  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Column, MetaData, Table, select

from tactful.errors import NotFoundError
from tactful.store import schema
from tactful.store.store import Store
from tactful.trust.privacy import mask

PROTECTED = "customer_protected"
BY_CUSTOMER = "customer_id"
BY_ACCOUNT = "account_id"


class Key(Enum):
    """How a table's rows belong to a customer."""

    CUSTOMER = "customer"  # the customers table: its id is the customer's id
    ACCOUNT_OWNER = "account_owner"  # the accounts table: its customer_id names the owner
    CUSTOMER_ID = "customer_id"  # a customer_id column
    ACCOUNT_ID = "account_id"  # an account_id column and no customer_id: through the accounts


@dataclass(frozen=True, slots=True)
class HeldTable:
    """A table of the live store that holds customers' rows, and how they are found."""

    table: Table
    key: Key

    @property
    def name(self) -> str:
        return self.table.name

    def column(self) -> Column[Any]:
        if self.key is Key.CUSTOMER:
            return self.table.c.id
        if self.key is Key.ACCOUNT_ID:
            return self.table.c[BY_ACCOUNT]
        return self.table.c[BY_CUSTOMER]


def live_tables(store: Store) -> list[Table]:
    """Every table of the live database (reflected), typed as ``store/schema.py`` declares it
    where it declares it, so timestamps come back aware on every backend."""
    reflected = MetaData()
    reflected.reflect(bind=store.engine)
    out = []
    for name in sorted(reflected.tables):
        if name == "alembic_version":
            continue
        out.append(schema.metadata.tables.get(name, reflected.tables[name]))
    return out


def held_tables(store: Store) -> tuple[list[HeldTable], list[Table]]:
    """The tables that hold customers' rows, and the others (catalogs, rules, models, runs)."""
    held, other = [], []
    for table in live_tables(store):
        columns = set(table.columns.keys())
        if table.name == "customers":
            held.append(HeldTable(table, Key.CUSTOMER))
        elif table.name == "accounts":
            held.append(HeldTable(table, Key.ACCOUNT_OWNER))
        elif BY_CUSTOMER in columns:
            held.append(HeldTable(table, Key.CUSTOMER_ID))
        elif BY_ACCOUNT in columns:
            held.append(HeldTable(table, Key.ACCOUNT_ID))
        else:
            other.append(table)
    return held, other


def account_ids(store: Store, customer_id: str) -> list[str]:
    """The ids of the customer's accounts, sorted."""
    a = schema.accounts
    return sorted(
        str(r[0]) for r in store.rows(select(a.c.id).where(a.c.customer_id == customer_id))
    )


@dataclass(frozen=True, slots=True)
class CustomerExport:
    """Everything held about one customer: each table's rows, as the store keeps them (money in
    minor units beside its currency, timestamps in UTC)."""

    customer_id: str
    exported_at: datetime
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    products: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(len(rows) for rows in self.tables.values())

    def to_json(self) -> str:
        document = {
            "customer_id": self.customer_id,
            "exported_at": self.exported_at,
            "tables": self.tables,
            "products": self.products,
        }
        return json.dumps(document, default=_json_value, indent=2, ensure_ascii=False) + "\n"


def _json_value(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"cannot export a {type(value).__name__}")


def _rows(
    store: Store, table: Table, column: Column[Any], values: Sequence[str]
) -> list[dict[str, Any]]:
    if not values:
        return []
    found: list[dict[str, Any]] = []
    keys = [c.name for c in table.primary_key.columns] or [c.name for c in table.columns]
    for start in range(0, len(values), 5_000):
        query = (
            select(table)
            .where(column.in_(list(values[start : start + 5_000])))
            .order_by(*[table.c[k] for k in keys])
        )
        found += [dict(r._mapping) for r in store.rows(query)]
    return found


def export_customer(
    store: Store,
    customer_id: str,
    *,
    requested_by: str,
    now: datetime | None = None,
) -> CustomerExport:
    """Every row the store holds about ``customer_id`` (see the module doc for how tables are
    found). ``requested_by`` is logged with the read of protected attributes.

    ``NotFoundError`` if the store has nothing keyed by that id.
    """
    held, _ = held_tables(store)
    accounts = account_ids(store, customer_id)
    tables: dict[str, list[dict[str, Any]]] = {}
    for h in held:
        if h.name == PROTECTED:
            frame = store.protected_attributes(
                [customer_id], requested_by=requested_by, purpose="export: the right of access"
            )
            tables[h.name] = frame.to_dicts()
            continue
        values = accounts if h.key is Key.ACCOUNT_ID else [customer_id]
        tables[h.name] = _rows(store, h.table, h.column(), values)
    if not any(tables.values()):
        raise NotFoundError(f"customer {mask(customer_id)} is not in the store ({store.url})")
    product_ids = sorted({str(a["product_id"]) for a in tables["accounts"] if a["product_id"]})
    products = _rows(store, schema.products, schema.products.c.id, product_ids)
    return CustomerExport(
        customer_id=customer_id,
        exported_at=now or datetime.now(UTC),
        tables=tables,
        products=products,
    )
