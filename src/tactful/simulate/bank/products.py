"""The simulated bank's product catalog (written as ``products.<ext>``).

Product offers in the closed loop name these ids; whether an offer is relevant to a customer is
decided from the customer's truth (see ``response.py``), not from the catalog. The catalog itself
is data (``data/products.csv``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from tactful.simulate.base import data


@dataclass(frozen=True, slots=True)
class ProductSpec:
    product_id: str
    name: str
    kind: str
    account_type: str
    description: str


def _load() -> tuple[ProductSpec, ...]:
    rows = []
    for line, rec in enumerate(data.csv_rows(_FILE), start=2):
        try:
            rows.append(ProductSpec(**{f: rec[f] for f in _FIELDS}))
        except KeyError as exc:
            raise data.bad_row(_FILE, line, exc) from exc
    return tuple(rows)


_FILE: Final = "products.csv"
_FIELDS: Final = ("product_id", "name", "kind", "account_type", "description")
PRODUCTS: Final[tuple[ProductSpec, ...]] = _load()
"""The products of ``data/products.csv``, in file order (a product's index is its code)."""
PRODUCT_INDEX: Final = {p.product_id: i for i, p in enumerate(PRODUCTS)}
