"""Where customers live: currencies, places, time zones, locales and each region's bank rules.

One simulated bank operates in three regulatory zones. Figures are approximate public ones (see
docs/simulator.md, "Regions"): pay-frequency shares from the US BLS (2023 Current Employment
Statistics pay-frequency table) and the monthly norm in the UK and the euro area; overdraft pricing
from the CFPB's 2021-2023 overdraft reports (US), the FCA's 2020 overdraft reform (UK, a single
interest rate, no fixed fees) and German/French published "Dispo"/"agios" rates (EU).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from tactful.domain.enums import Region


@dataclass(frozen=True, slots=True)
class Place:
    """A city as a card descriptor spells it, with its zone and the locale of its customers."""

    city: str
    state: str
    country: str
    timezone: str
    locale: str
    weight: float


@dataclass(frozen=True, slots=True)
class RegionProfile:
    region: Region
    currency: str
    price_level: float
    """Typical shop prices in local currency per US dollar of the same basket (PPP-like)."""
    income_scale: float
    """Net incomes in local currency relative to US dollars for the same persona."""
    pay_cadence_weights: tuple[float, float, float, float]
    """Shares of wage earners paid weekly, biweekly, semi-monthly, monthly."""
    overdraft_item_fee_minor: int
    overdraft_max_items_per_day: int
    overdraft_de_minimis_minor: int
    overdraft_apr: float
    arranged_overdraft_share: float
    overdraft_limit_months: float
    """Arranged limit as a multiple of monthly net income (capped in personas)."""
    card_overdraft_opt_in_share: float
    """US Regulation E: debit card purchases may only overdraw if the customer opted in."""
    fx_fee_rate: float
    atm_fee_minor: int
    atm_fee_share: float
    savings_apy: float
    card_apr: float
    loan_apr: float
    mortgage_apr: float
    marketing_denied_share: float
    places: tuple[Place, ...]


def _us(city: str, state: str, tz: str, w: float, es_share: float = 0.1) -> tuple[Place, ...]:
    return (
        Place(city, state, "US", tz, "en_US", w * (1 - es_share)),
        Place(city, state, "US", tz, "es_US", w * es_share),
    )


_NY, _CHI, _DEN, _PHX, _LA = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
)

US_PLACES: Final = (
    *_us("NEW YORK", "NY", _NY, 8.3, 0.15),
    *_us("LOS ANGELES", "CA", _LA, 3.8, 0.3),
    *_us("CHICAGO", "IL", _CHI, 2.7, 0.12),
    *_us("HOUSTON", "TX", _CHI, 2.3, 0.25),
    *_us("PHOENIX", "AZ", _PHX, 1.6, 0.2),
    *_us("PHILADELPHIA", "PA", _NY, 1.6, 0.06),
    *_us("SAN ANTONIO", "TX", _CHI, 1.5, 0.3),
    *_us("SAN DIEGO", "CA", _LA, 1.4, 0.2),
    *_us("DALLAS", "TX", _CHI, 1.3, 0.2),
    *_us("SEATTLE", "WA", _LA, 0.75, 0.04),
    *_us("DENVER", "CO", _DEN, 0.7, 0.1),
    *_us("BOSTON", "MA", _NY, 0.65, 0.06),
    *_us("ATLANTA", "GA", _NY, 0.5, 0.05),
    *_us("MIAMI", "FL", _NY, 0.45, 0.45),
    *_us("SAN FRANCISCO", "CA", _LA, 0.8, 0.08),
    *_us("MINNEAPOLIS", "MN", _CHI, 0.43, 0.04),
)

_LON = "Europe/London"
UK_PLACES: Final = tuple(
    Place(c, "", "GB", _LON, "en_GB", w)
    for c, w in (
        ("LONDON", 8.9),
        ("BIRMINGHAM", 1.1),
        ("MANCHESTER", 0.55),
        ("LEEDS", 0.8),
        ("GLASGOW", 0.63),
        ("LIVERPOOL", 0.5),
        ("BRISTOL", 0.47),
        ("EDINBURGH", 0.52),
        ("CARDIFF", 0.36),
        ("NEWCASTLE", 0.3),
        ("SHEFFIELD", 0.55),
        ("NOTTINGHAM", 0.33),
    )
)

EU_PLACES: Final = (
    *(
        Place(c, "", "DE", "Europe/Berlin", "de_DE", w)
        for c, w in (
            ("BERLIN", 3.7),
            ("HAMBURG", 1.9),
            ("MUENCHEN", 1.5),
            ("KOELN", 1.1),
            ("FRANKFURT", 0.76),
            ("STUTTGART", 0.63),
            ("DUESSELDORF", 0.62),
            ("LEIPZIG", 0.6),
        )
    ),
    *(
        Place(c, "", "FR", "Europe/Paris", "fr_FR", w)
        for c, w in (
            ("PARIS", 4.2),
            ("MARSEILLE", 1.2),
            ("LYON", 1.1),
            ("TOULOUSE", 0.8),
            ("NICE", 0.5),
            ("NANTES", 0.5),
            ("BORDEAUX", 0.45),
            ("LILLE", 0.5),
        )
    ),
    *(
        Place(c, "", "ES", "Europe/Madrid", "es_ES", w)
        for c, w in (
            ("MADRID", 3.3),
            ("BARCELONA", 1.6),
            ("VALENCIA", 0.8),
            ("SEVILLA", 0.7),
            ("ZARAGOZA", 0.67),
            ("MALAGA", 0.58),
            ("BILBAO", 0.35),
        )
    ),
    *(
        Place(c, "", "NL", "Europe/Amsterdam", "nl_NL", w)
        for c, w in (
            ("AMSTERDAM", 0.92),
            ("ROTTERDAM", 0.66),
            ("DEN HAAG", 0.55),
            ("UTRECHT", 0.36),
            ("EINDHOVEN", 0.24),
        )
    ),
)

PROFILES: Final[dict[Region, RegionProfile]] = {
    Region.US: RegionProfile(
        region=Region.US,
        currency="USD",
        price_level=1.0,
        income_scale=1.0,
        pay_cadence_weights=(0.27, 0.43, 0.20, 0.10),
        overdraft_item_fee_minor=3500,
        overdraft_max_items_per_day=3,
        overdraft_de_minimis_minor=500,
        overdraft_apr=0.0,
        arranged_overdraft_share=1.0,
        overdraft_limit_months=0.12,
        card_overdraft_opt_in_share=0.2,
        fx_fee_rate=0.03,
        atm_fee_minor=300,
        atm_fee_share=0.3,
        savings_apy=0.043,
        card_apr=0.22,
        loan_apr=0.12,
        mortgage_apr=0.065,
        marketing_denied_share=0.2,
        places=US_PLACES,
    ),
    Region.UK: RegionProfile(
        region=Region.UK,
        currency="GBP",
        price_level=0.8,
        income_scale=0.62,
        pay_cadence_weights=(0.08, 0.04, 0.0, 0.88),
        overdraft_item_fee_minor=0,
        overdraft_max_items_per_day=0,
        overdraft_de_minimis_minor=0,
        overdraft_apr=0.35,
        arranged_overdraft_share=0.55,
        overdraft_limit_months=0.35,
        card_overdraft_opt_in_share=1.0,
        fx_fee_rate=0.0299,
        atm_fee_minor=0,
        atm_fee_share=0.0,
        savings_apy=0.035,
        card_apr=0.24,
        loan_apr=0.09,
        mortgage_apr=0.05,
        marketing_denied_share=0.4,
        places=UK_PLACES,
    ),
    Region.EU: RegionProfile(
        region=Region.EU,
        currency="EUR",
        price_level=0.88,
        income_scale=0.66,
        pay_cadence_weights=(0.0, 0.0, 0.0, 1.0),
        overdraft_item_fee_minor=0,
        overdraft_max_items_per_day=0,
        overdraft_de_minimis_minor=0,
        overdraft_apr=0.11,
        arranged_overdraft_share=0.6,
        overdraft_limit_months=0.8,
        card_overdraft_opt_in_share=1.0,
        fx_fee_rate=0.0175,
        atm_fee_minor=0,
        atm_fee_share=0.0,
        savings_apy=0.025,
        card_apr=0.15,
        loan_apr=0.07,
        mortgage_apr=0.04,
        marketing_denied_share=0.45,
        places=EU_PLACES,
    ),
}

REGIONS: Final[tuple[Region, ...]] = (Region.EU, Region.UK, Region.US)
"""Region codes used in the simulator's arrays: index into this tuple."""

ALL_PLACES: Final[tuple[Place, ...]] = tuple(p for r in REGIONS for p in PROFILES[r].places)
PLACE_REGION: Final[tuple[int, ...]] = tuple(
    i for i, r in enumerate(REGIONS) for _ in PROFILES[r].places
)
TIMEZONES: Final[tuple[str, ...]] = tuple(sorted({p.timezone for p in ALL_PLACES}))
LOCALES: Final[tuple[str, ...]] = tuple(sorted({p.locale for p in ALL_PLACES}))
COUNTRIES: Final[tuple[str, ...]] = ("DE", "FR", "ES", "NL", "GB", "US")
"""Home countries; the index is the descriptor style used by that country's bank branch."""


@dataclass(frozen=True, slots=True)
class Destination:
    """A travel destination abroad: card spending there is in a foreign currency or not."""

    city: str
    country: str
    currency: str


DESTINATIONS: Final[tuple[Destination, ...]] = (
    Destination("PARIS", "FR", "EUR"),
    Destination("BARCELONA", "ES", "EUR"),
    Destination("ROMA", "IT", "EUR"),
    Destination("LISBOA", "PT", "EUR"),
    Destination("AMSTERDAM", "NL", "EUR"),
    Destination("PALMA DE MALLORCA", "ES", "EUR"),
    Destination("DUBROVNIK", "HR", "EUR"),
    Destination("LONDON", "GB", "GBP"),
    Destination("EDINBURGH", "GB", "GBP"),
    Destination("NEW YORK", "US", "USD"),
    Destination("ORLANDO", "US", "USD"),
    Destination("CANCUN", "MX", "MXN"),
    Destination("TORONTO", "CA", "CAD"),
    Destination("ZURICH", "CH", "CHF"),
    Destination("PRAHA", "CZ", "CZK"),
    Destination("ISTANBUL", "TR", "TRY"),
    Destination("BANGKOK", "TH", "THB"),
    Destination("TOKYO", "JP", "JPY"),
)
