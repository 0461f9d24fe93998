"""Subscription services: who they are, what they cost in each country.

Subscription prices are the services' own published 2024 list prices per country (approximate;
plans differ), kept as data in ``data/services.toml``. See docs/simulator.md, "Bills and
subscriptions"; household bills are in ``billers.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Final

from tactful.simulate.base import data

EU4: Final = ("DE", "FR", "ES", "NL")


@dataclass(frozen=True, slots=True)
class Service:
    """A subscription; ``prices`` are monthly (or yearly if ``cadence == 'yearly'``) in minor units
    of the country's currency."""

    name: str
    family: str
    prices: tuple[tuple[str, int], ...]
    token: str
    online: str
    mcc: str
    category: str
    cadence: str = "monthly"
    channel: str = "card"
    weight: float = 1.0

    def price(self, country: str) -> int | None:
        return dict(self.prices).get(country)


def _load() -> tuple[Service, ...]:
    out = []
    for n, rec in enumerate(data.toml(_FILE)["service"]):
        try:
            prices = tuple(sorted((str(c), int(p)) for c, p in rec["prices"].items()))
            out.append(Service(prices=prices, **{k: v for k, v in rec.items() if k != "prices"}))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"simulate/data/{_FILE}: service {n}: {exc!r}") from exc
    return tuple(out)


_FILE: Final = "services.toml"
SERVICES: Final[tuple[Service, ...]] = _load()
"""Every service of ``data/services.toml``, in file order (indices are stable for a seed)."""
SUBSCRIPTION_FAMILIES: Final = ("streaming", "music", "gym", "software", "news")


@cache
def services_for(country: str, family: str) -> tuple[int, ...]:
    return tuple(i for i, s in enumerate(SERVICES) if s.family == family and s.price(country))
