"""Household bills: utilities, telecoms, insurance, taxes, car finance and childcare.

Amounts are typical household figures from public statistics (US EIA average residential
electricity bill ~$137/month in 2023; Ofgem's price cap ~GBP 1,700-1,900 a year for dual fuel;
UK Band D council tax ~GBP 2,065 a year in 10 instalments; German Rundfunkbeitrag EUR 18.36 a
month paid quarterly; Dutch basic health insurance ~EUR 140 a month). How a bill is paid follows
the country: direct debit in the UK and the euro area, card or ACH in the US. The billers
themselves are data (``data/billers.csv``); the taxes of the self-employed carry 0 there because
their amount is a share of income, set where the bills are drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Final

from tactful.simulate.base import data


@dataclass(frozen=True, slots=True)
class Biller:
    """A household bill: utility, telecom, insurance or tax.

    ``median_minor`` is the monthly-equivalent amount for a one-person household;
    ``variable`` bills change every period (metered US utilities), fixed ones only at reviews.
    """

    name: str
    family: str
    country: str
    token: str
    median_minor: int
    category: str
    cadence: str = "monthly"
    channel: str = "dd"
    variable: float = 0.0
    seasonal: float = 0.0
    weight: float = 1.0

    @property
    def mcc(self) -> str:
        """The merchant category code a card payment of this bill carries."""
        return FAMILY_MCC[self.family]


FAMILY_MCC: Final = {
    "energy": "4900",
    "water": "4900",
    "internet": "4899",
    "mobile": "4814",
    "insurance": "6300",
    "council_tax": "9311",
    "tv_licence": "9399",
    "transit_pass": "4111",
    "health_insurance": "6300",
    "car_loan": "6012",
    "childcare": "8351",
    "tax": "9311",
}
"""ISO 18245 codes: utilities 4900, cable/pay TV 4899, telecom 4814, insurance 6300, tax 9311,
government services 9399, commuter transport 4111, financial institutions 6012, child care 8351."""


def _load() -> tuple[Biller, ...]:
    rows = []
    for line, rec in enumerate(data.csv_rows(_FILE), start=2):
        try:
            rows.append(
                Biller(
                    name=rec["name"],
                    family=rec["family"],
                    country=rec["country"],
                    token=rec["token"],
                    median_minor=int(rec["median_minor"]),
                    category=rec["category"],
                    cadence=rec["cadence"],
                    channel=rec["channel"],
                    variable=data.number(rec["variable"]),
                    seasonal=data.number(rec["seasonal"]),
                    weight=data.number(rec["weight"]),
                )
            )
        except (KeyError, ValueError) as exc:
            raise data.bad_row(_FILE, line, exc) from exc
    return tuple(rows)


_FILE: Final = "billers.csv"
BILLERS: Final[tuple[Biller, ...]] = _load()
"""Every biller of ``data/billers.csv``, in file order (indices are stable for a seed)."""

BILL_FAMILIES: Final = (
    "energy",
    "water",
    "internet",
    "mobile",
    "insurance",
    "council_tax",
    "tv_licence",
    "transit_pass",
    "health_insurance",
    "car_loan",
    "childcare",
    "tax",
)


@cache
def billers_for(country: str, family: str) -> tuple[int, ...]:
    """Indices of BILLERS serving ``family`` in ``country`` (may be empty)."""
    return tuple(i for i, b in enumerate(BILLERS) if b.country == country and b.family == family)
