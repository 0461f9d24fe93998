"""Subscription services: who they are, what they cost in each country.

Subscription prices are the services' own published 2024 list prices per country (approximate;
plans differ). See docs/simulator.md, "Bills and subscriptions"; household bills are in
``billers.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Final

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


def _p(
    us: int | None = None, gb: int | None = None, eu: int | None = None, **countries: int
) -> tuple[tuple[str, int], ...]:
    out: dict[str, int] = {}
    if us is not None:
        out["US"] = us
    if gb is not None:
        out["GB"] = gb
    if eu is not None:
        out.update(dict.fromkeys(EU4, eu))
    out.update(countries)
    return tuple(sorted(out.items()))


_TV, _MUSIC = "ENTERTAINMENT_TV_AND_MOVIES", "ENTERTAINMENT_MUSIC_AND_AUDIO"
_GYM, _SOFT = "PERSONAL_CARE_GYMS_AND_FITNESS_CENTERS", "GENERAL_SERVICES_OTHER_GENERAL_SERVICES"
_NEWS = "GENERAL_MERCHANDISE_BOOKSTORES_AND_NEWSSTANDS"

SERVICES: Final[tuple[Service, ...]] = (
    Service(
        "Netflix",
        "streaming",
        _p(1549, 1099, 1399),
        "NETFLIX.COM",
        "NETFLIX.COM",
        "4899",
        _TV,
        weight=10,
    ),
    Service(
        "Disney+", "streaming", _p(1399, 799, 999), "DISNEYPLUS", "BURBANK", "4899", _TV, weight=5
    ),
    Service(
        "Amazon Prime",
        "streaming",
        _p(1499, 899, 899),
        "AMAZON PRIME*{r9}",
        "Amzn.com/bill",
        "5968",
        "GENERAL_MERCHANDISE_ONLINE_MARKETPLACES",
        weight=6,
    ),
    Service(
        "Amazon Prime",
        "streaming",
        _p(13900, 9500, 8990),
        "AMAZON PRIME*{r9}",
        "Amzn.com/bill",
        "5968",
        "GENERAL_MERCHANDISE_ONLINE_MARKETPLACES",
        cadence="yearly",
        weight=3,
    ),
    Service("Max", "streaming", _p(1699), "MAX.COM", "NEW YORK NY", "4899", _TV, weight=4),
    Service("Hulu", "streaming", _p(799), "HULU {n10}", "HULU.COM CA", "4899", _TV, weight=4),
    Service(
        "Apple TV+",
        "streaming",
        _p(999, 899, 999),
        "APPLE.COM/BILL",
        "866-712-7753",
        "5818",
        _TV,
        weight=2,
    ),
    Service(
        "Paramount+",
        "streaming",
        _p(799, 699),
        "PARAMOUNT+",
        "PARAMOUNTPLUS.COM",
        "4899",
        _TV,
        weight=2,
    ),
    Service(
        "Canal+",
        "streaming",
        _p(FR=2499),
        "CANAL+",
        "ISSY LES MOULINE",
        "4899",
        _TV,
        channel="dd",
        weight=3,
    ),
    Service(
        "DAZN", "streaming", _p(DE=3499, ES=2999), "DAZN LIMITED", "LONDON", "4899", _TV, weight=1.5
    ),
    Service("Videoland", "streaming", _p(NL=999), "VIDEOLAND", "HILVERSUM", "4899", _TV, weight=2),
    Service(
        "Spotify",
        "music",
        _p(1199, 1199, 1099),
        "Spotify P{r10}",
        "Stockholm",
        "5815",
        _MUSIC,
        weight=10,
    ),
    Service(
        "Apple Music",
        "music",
        _p(1099, 1099, 1099),
        "APPLE.COM/BILL",
        "866-712-7753",
        "5818",
        _MUSIC,
        weight=3,
    ),
    Service(
        "YouTube Premium",
        "music",
        _p(1399, 1299, 1299),
        "GOOGLE *YouTubePremium",
        "g.co/helppay#",
        "5815",
        _MUSIC,
        weight=3,
    ),
    Service("Deezer", "music", _p(FR=1199), "DEEZER", "PARIS", "5815", _MUSIC, weight=2),
    Service(
        "Audible",
        "music",
        _p(1495, 799, 995),
        "AUDIBLE*{r9}",
        "Amzn.com/bill",
        "5942",
        _MUSIC,
        weight=1.5,
    ),
    Service(
        "Planet Fitness",
        "gym",
        _p(1500),
        "PLANET FITNESS",
        "603-750-0001 NH",
        "7997",
        _GYM,
        weight=4,
    ),
    Service("Anytime Fitness", "gym", _p(4500), "ANYTIME FITNESS {n4}", "", "7997", _GYM, weight=2),
    Service("Equinox", "gym", _p(22500), "EQUINOX {n3}", "", "7997", _GYM, weight=0.3),
    Service("PureGym", "gym", _p(gb=2499), "PUREGYM LTD", "", "7997", _GYM, channel="dd", weight=4),
    Service(
        "The Gym Group",
        "gym",
        _p(gb=2299),
        "THE GYM GROUP",
        "",
        "7997",
        _GYM,
        channel="dd",
        weight=2,
    ),
    Service(
        "David Lloyd",
        "gym",
        _p(gb=9000),
        "DAVID LLOYD LEISURE",
        "",
        "7997",
        _GYM,
        channel="dd",
        weight=0.5,
    ),
    Service(
        "McFIT",
        "gym",
        _p(DE=2990),
        "RSG GROUP GMBH MCFIT",
        "",
        "7997",
        _GYM,
        channel="dd",
        weight=3,
    ),
    Service(
        "Basic-Fit",
        "gym",
        _p(FR=2999, ES=2999, NL=2999, DE=2999),
        "BASIC-FIT",
        "",
        "7997",
        _GYM,
        channel="dd",
        weight=4,
    ),
    Service(
        "Urban Sports Club",
        "gym",
        _p(DE=5900, FR=6500, NL=6500),
        "URBAN SPORTS GMBH",
        "",
        "7997",
        _GYM,
        channel="dd",
        weight=1,
    ),
    Service(
        "iCloud+",
        "software",
        _p(299, 299, 299),
        "APPLE.COM/BILL",
        "866-712-7753",
        "5818",
        _SOFT,
        weight=7,
    ),
    Service(
        "Google One",
        "software",
        _p(199, 159, 199),
        "GOOGLE *Google One",
        "g.co/helppay#",
        "5818",
        _SOFT,
        weight=4,
    ),
    Service(
        "Microsoft 365",
        "software",
        _p(999, 799, 1000),
        "MICROSOFT*MICROSOFT 365 P",
        "MSBILL.INFO",
        "5734",
        _SOFT,
        weight=2,
    ),
    Service(
        "Microsoft 365",
        "software",
        _p(9999, 7999, 9900),
        "MICROSOFT*MICROSOFT 365 P",
        "MSBILL.INFO",
        "5734",
        _SOFT,
        cadence="yearly",
        weight=3,
    ),
    Service(
        "Adobe Creative Cloud",
        "software",
        _p(5999, 5698, 6049),
        "ADOBE *CREATIVE CLOUD",
        "ADOBE.LY/ENIE",
        "5734",
        _SOFT,
        weight=1,
    ),
    Service(
        "ChatGPT Plus",
        "software",
        _p(2000, 2000, 2380),
        "OPENAI *CHATGPT SUBSCR",
        "OPENAI.COM",
        "5734",
        _SOFT,
        weight=2,
    ),
    Service(
        "Dropbox",
        "software",
        _p(1199, 999, 1199),
        "DROPBOX*{r8}",
        "DROPBOX.COM",
        "5734",
        _SOFT,
        weight=1,
    ),
    Service(
        "The New York Times",
        "news",
        _p(1700),
        "NYTIMES*NYTimes Sub",
        "NEW YORK NY",
        "5994",
        _NEWS,
        weight=3,
    ),
    Service(
        "The Wall Street Journal",
        "news",
        _p(3899),
        "WSJ DIGITAL",
        "CHICOPEE MA",
        "5994",
        _NEWS,
        weight=1,
    ),
    Service(
        "The Guardian",
        "news",
        _p(gb=1200),
        "GUARDIAN NEWS & MEDIA",
        "",
        "5994",
        _NEWS,
        channel="dd",
        weight=2,
    ),
    Service(
        "The Times",
        "news",
        _p(gb=2600),
        "TIMES NEWSPAPERS LTD",
        "",
        "5994",
        _NEWS,
        channel="dd",
        weight=1,
    ),
    Service(
        "SPIEGEL+", "news", _p(DE=1999), "SPIEGEL-VERLAG", "", "5994", _NEWS, channel="dd", weight=2
    ),
    Service(
        "Le Monde", "news", _p(FR=1199), "LE MONDE ABO", "", "5994", _NEWS, channel="dd", weight=2
    ),
    Service(
        "El País", "news", _p(ES=1000), "EL PAIS SUSCRIPCION", "MADRID", "5994", _NEWS, weight=2
    ),
    Service("NRC", "news", _p(NL=2499), "NRC MEDIA BV", "", "5994", _NEWS, channel="dd", weight=1),
    Service(
        "The Economist",
        "news",
        _p(25900, 17900, 19900),
        "THE ECONOMIST",
        "LONDON",
        "5994",
        _NEWS,
        cadence="yearly",
        weight=1,
    ),
)
SUBSCRIPTION_FAMILIES: Final = ("streaming", "music", "gym", "software", "news")


@cache
def services_for(country: str, family: str) -> tuple[int, ...]:
    return tuple(i for i, s in enumerate(SERVICES) if s.family == family and s.price(country))
