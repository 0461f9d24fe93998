"""Household bills: utilities, telecoms, insurance, taxes, car finance and childcare.

Amounts are typical household figures from public statistics (US EIA average residential
electricity bill ~$137/month in 2023; Ofgem's price cap ~GBP 1,700-1,900 a year for dual fuel;
UK Band D council tax ~GBP 2,065 a year in 10 instalments; German Rundfunkbeitrag EUR 18.36 a
month paid quarterly; Dutch basic health insurance ~EUR 140 a month). How a bill is paid follows
the country: direct debit in the UK and the euro area, card or ACH in the US.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Final


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

_GE, _NET, _TEL, _WAT = (
    "RENT_AND_UTILITIES_GAS_AND_ELECTRICITY",
    "RENT_AND_UTILITIES_INTERNET_AND_CABLE",
    "RENT_AND_UTILITIES_TELEPHONE",
    "RENT_AND_UTILITIES_WATER",
)
_INS, _TAX = "GENERAL_SERVICES_INSURANCE", "GOVERNMENT_AND_NON_PROFIT_TAX_PAYMENT"
_CAR, _CHILD = "LOAN_PAYMENTS_CAR_PAYMENT", "GENERAL_SERVICES_CHILDCARE"
_B = Biller

BILLERS: Final[tuple[Biller, ...]] = (
    _B(
        "Con Edison",
        "energy",
        "US",
        "CON ED OF NY INTELL CK",
        13700,
        _GE,
        variable=0.12,
        seasonal=0.25,
    ),
    _B("PG&E", "energy", "US", "PGANDE WEB ONLINE", 13700, _GE, variable=0.12, seasonal=0.2),
    _B(
        "Duke Energy",
        "energy",
        "US",
        "DUKE ENERGY BILL PAY",
        13700,
        _GE,
        variable=0.12,
        seasonal=0.25,
    ),
    _B("ComEd", "energy", "US", "COMED ELEC PYMT", 12000, _GE, variable=0.12, seasonal=0.25),
    _B(
        "Xcel Energy",
        "energy",
        "US",
        "XCEL ENERGY-PSCO XCELENERGY",
        11000,
        _GE,
        variable=0.12,
        seasonal=0.3,
    ),
    _B(
        "Comcast Xfinity", "internet", "US", "COMCAST XFINITY", 8000, _NET, channel="card", weight=3
    ),
    _B("Spectrum", "internet", "US", "SPECTRUM", 7500, _NET, channel="card", weight=2),
    _B("Verizon Fios", "internet", "US", "VERIZON FIOS", 7000, _NET, weight=1),
    _B(
        "Verizon Wireless",
        "mobile",
        "US",
        "VZWRLSS*APOCC VISB",
        6500,
        _TEL,
        channel="card",
        weight=3,
    ),
    _B("T-Mobile", "mobile", "US", "T-MOBILE*AUTO PAY", 5500, _TEL, weight=3),
    _B("AT&T", "mobile", "US", "ATT*BILL PAYMENT", 6000, _TEL, channel="card", weight=3),
    _B(
        "American Water",
        "water",
        "US",
        "AMERICAN WATER PAYMENT",
        4500,
        _WAT,
        variable=0.15,
        seasonal=0.15,
    ),
    _B("GEICO", "insurance", "US", "GEICO *AUTO", 14000, _INS, channel="card", weight=3),
    _B("State Farm", "insurance", "US", "STATE FARM RO 27 SFPP", 15000, _INS, weight=3),
    _B("Progressive", "insurance", "US", "PROGRESSIVE *INS", 13000, _INS, channel="card", weight=2),
    _B("British Gas", "energy", "GB", "BRITISH GAS", 14000, _GE, weight=4),
    _B("Octopus Energy", "energy", "GB", "OCTOPUS ENERGY", 13500, _GE, weight=3),
    _B("EDF Energy", "energy", "GB", "EDF ENERGY", 14000, _GE, weight=2),
    _B("E.ON Next", "energy", "GB", "E.ON NEXT", 14000, _GE, weight=2),
    _B("OVO Energy", "energy", "GB", "OVO ENERGY", 13500, _GE, weight=2),
    _B("Thames Water", "water", "GB", "THAMES WATER", 4000, _WAT, weight=2),
    _B("Severn Trent", "water", "GB", "SEVERN TRENT WATER", 3800, _WAT),
    _B("United Utilities", "water", "GB", "UNITED UTILITIES", 4000, _WAT),
    _B("Council Tax", "council_tax", "GB", "{CITY} COUNCIL", 20600, _TAX),
    _B(
        "TV Licensing",
        "tv_licence",
        "GB",
        "TV LICENCE MBP",
        1413,
        "GOVERNMENT_AND_NON_PROFIT_GOVERNMENT_DEPARTMENTS_AND_AGENCIES",
    ),
    _B("BT", "internet", "GB", "BT GROUP PLC", 4200, _NET, weight=3),
    _B("Sky", "internet", "GB", "SKY DIGITAL", 4800, _NET, weight=3),
    _B("Virgin Media", "internet", "GB", "VIRGIN MEDIA PYMTS", 5200, _NET, weight=2),
    _B("EE", "mobile", "GB", "EE LIMITED", 2500, _TEL, weight=3),
    _B("Vodafone", "mobile", "GB", "VODAFONE LTD", 2200, _TEL, weight=2),
    _B("O2", "mobile", "GB", "O2 UK", 2000, _TEL, weight=2),
    _B("Admiral", "insurance", "GB", "ADMIRAL INSURANCE", 5000, _INS),
    _B("Aviva", "insurance", "GB", "AVIVA INSURANCE LTD", 4500, _INS),
    _B("Vattenfall", "energy", "DE", "VATTENFALL EUROPE SALES GMBH", 9000, _GE, weight=2),
    _B("E.ON", "energy", "DE", "E.ON ENERGIE DEUTSCHLAND GMBH", 9500, _GE, weight=2),
    _B("Stadtwerke", "energy", "DE", "STADTWERKE {CITY} GMBH", 8500, _GE, weight=3),
    _B(
        "Rundfunkbeitrag",
        "tv_licence",
        "DE",
        "RUNDFUNK ARD ZDF DRADIO",
        5508,
        "GOVERNMENT_AND_NON_PROFIT_GOVERNMENT_DEPARTMENTS_AND_AGENCIES",
        cadence="quarterly",
    ),
    _B("Telekom", "internet", "DE", "TELEKOM DEUTSCHLAND GMBH", 4500, _NET, weight=3),
    _B("Vodafone", "internet", "DE", "VODAFONE GMBH", 4000, _NET, weight=2),
    _B("1&1", "mobile", "DE", "1UND1 TELECOM GMBH", 2000, _TEL, weight=2),
    _B("O2 Telefonica", "mobile", "DE", "TELEFONICA GERMANY GMBH", 1800, _TEL, weight=2),
    _B("HUK-COBURG", "insurance", "DE", "HUK-COBURG", 55000, _INS, cadence="yearly", weight=2),
    _B("Allianz", "insurance", "DE", "ALLIANZ VERSICHERUNGS-AG", 12000, _INS, cadence="yearly"),
    _B("EDF", "energy", "FR", "EDF CLIENTS PARTICULIERS", 8000, _GE, weight=4),
    _B("Engie", "energy", "FR", "ENGIE", 7000, _GE, weight=2),
    _B("Orange", "internet", "FR", "ORANGE SA", 4000, _NET, weight=3),
    _B("Free", "internet", "FR", "FREE TELECOM", 3000, _NET, weight=2),
    _B("SFR", "mobile", "FR", "SFR", 1500, _TEL, weight=2),
    _B("Bouygues Telecom", "mobile", "FR", "BOUYGUES TELECOM", 1600, _TEL, weight=2),
    _B(
        "Navigo",
        "transit_pass",
        "FR",
        "NAVIGO ILE DE FRANCE MOBILITES",
        8640,
        "TRANSPORTATION_PUBLIC_TRANSIT",
    ),
    _B("AXA", "insurance", "FR", "AXA FRANCE IARD", 2000, _INS),
    _B("MAIF", "insurance", "FR", "MAIF", 1800, _INS),
    _B(
        "Iberdrola",
        "energy",
        "ES",
        "IBERDROLA CLIENTES SAU",
        6500,
        _GE,
        variable=0.15,
        seasonal=0.2,
        weight=3,
    ),
    _B(
        "Endesa",
        "energy",
        "ES",
        "ENDESA ENERGIA SAU",
        6500,
        _GE,
        variable=0.15,
        seasonal=0.2,
        weight=3,
    ),
    _B("Naturgy", "energy", "ES", "NATURGY IBERIA SA", 6000, _GE, variable=0.15, seasonal=0.2),
    _B(
        "Canal de Isabel II",
        "water",
        "ES",
        "CANAL DE ISABEL II",
        6000,
        _WAT,
        cadence="quarterly",
        variable=0.1,
    ),
    _B("Movistar", "internet", "ES", "TELEFONICA DE ESPANA SAU", 7000, _NET, weight=3),
    _B("Vodafone", "internet", "ES", "VODAFONE ESPANA SAU", 5500, _NET, weight=2),
    _B("Mapfre", "insurance", "ES", "MAPFRE ESPANA", 40000, _INS, cadence="yearly"),
    _B("Vattenfall", "energy", "NL", "VATTENFALL KLANTENSERVICE NV", 15000, _GE, weight=2),
    _B("Eneco", "energy", "NL", "ENECO CONSUMENTEN BV", 15000, _GE, weight=2),
    _B("Essent", "energy", "NL", "ESSENT RETAIL ENERGIE BV", 14500, _GE, weight=2),
    _B("Vitens", "water", "NL", "VITENS NV", 2500, _WAT),
    _B(
        "Zilveren Kruis",
        "health_insurance",
        "NL",
        "ZILVEREN KRUIS ZORGVERZEKERINGEN",
        14000,
        _INS,
        weight=2,
    ),
    _B("CZ", "health_insurance", "NL", "CZ GROEP ZORGVERZEKERAAR", 13800, _INS, weight=2),
    _B("Ziggo", "internet", "NL", "ZIGGO SERVICES BV", 5000, _NET, weight=2),
    _B("KPN", "internet", "NL", "KPN BV", 5200, _NET, weight=2),
    _B("Odido", "mobile", "NL", "ODIDO NETHERLANDS BV", 2000, _TEL),
    # Car finance (amount per month).
    _B("Toyota Financial Services", "car_loan", "US", "TOYOTA FINANCIAL SVCS", 55000, _CAR),
    _B("Ally Auto", "car_loan", "US", "ALLY ALLY PAYMT", 52000, _CAR),
    _B("Black Horse", "car_loan", "GB", "BLACK HORSE LTD", 30000, _CAR),
    _B("Volkswagen Financial Services", "car_loan", "GB", "VW FINANCIAL SERVICES", 32000, _CAR),
    _B("Volkswagen Bank", "car_loan", "DE", "VOLKSWAGEN BANK GMBH", 30000, _CAR),
    _B("DIAC", "car_loan", "FR", "DIAC SA", 28000, _CAR),
    _B("Santander Consumer", "car_loan", "ES", "SANTANDER CONSUMER FINANCE", 27000, _CAR),
    _B("Alphera", "car_loan", "NL", "ALPHERA FINANCIAL SERVICES", 30000, _CAR),
    # Childcare (amount per month for one child).
    _B("Bright Horizons", "childcare", "US", "BRIGHT HORIZONS", 120000, _CHILD),
    _B("KinderCare", "childcare", "US", "KINDERCARE LEARNING", 110000, _CHILD),
    _B("Busy Bees", "childcare", "GB", "BUSY BEES NURSERIES", 90000, _CHILD),
    _B("Kita", "childcare", "DE", "KITA {CITY} ELTERNBEITRAG", 30000, _CHILD),
    _B("Crèche", "childcare", "FR", "CRECHE PEOPLE AND BABY", 50000, _CHILD),
    _B("Guardería", "childcare", "ES", "ESCUELA INFANTIL {CITY}", 35000, _CHILD),
    _B("Kinderopvang", "childcare", "NL", "PARTOU KINDEROPVANG", 70000, _CHILD),
    # Taxes of the self-employed (amount is a share of income, set by the bills module).
    _B("IRS", "tax", "US", "IRS USATAXPYMT", 0, _TAX, cadence="quarterly"),
    _B("HMRC", "tax", "GB", "HMRC SELF ASSESSMENT", 0, _TAX, cadence="semi_annual"),
    _B("Finanzamt", "tax", "DE", "FINANZAMT {CITY}", 0, _TAX, cadence="quarterly"),
    _B("DGFiP", "tax", "FR", "DGFIP PRELEVEMENT SOURCE", 0, _TAX),
    _B("AEAT", "tax", "ES", "AEAT MODELO 130", 0, _TAX, cadence="quarterly"),
    _B("Belastingdienst", "tax", "NL", "BELASTINGDIENST", 0, _TAX),
)

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
