"""Counterparties of transfers: employers, platforms, pension and benefit payers, landlords.

Employers and landlords are fictional names built from word lists by index arithmetic (so they
are deterministic and need no randomness); public payers are the real agencies that pay pensions
and benefits in each country (US SSA, UK DWP, Deutsche Rentenversicherung, CNAV, INSS, SVB ...)
because their descriptors are among the most recognisable lines on a statement.
"""

from __future__ import annotations

from functools import cache
from typing import Final

COUNTRIES: Final = ("DE", "FR", "ES", "NL", "GB", "US")

_WORDS_A: Final = (
    "NORTHWIND",
    "BLUEHARBOR",
    "SUMMIT",
    "REDWOOD",
    "IRONBRIDGE",
    "SILVERLINE",
    "CEDAR",
    "PINNACLE",
    "ATLAS",
    "HORIZON",
    "EVERGREEN",
    "MERIDIAN",
    "GRANITE",
    "LAKESIDE",
    "STERLING",
    "KEYSTONE",
    "BRIGHTWAY",
    "OAKMONT",
    "ORION",
    "VANTAGE",
)
_WORDS_B: Final = (
    "LOGISTICS",
    "HEALTH",
    "SYSTEMS",
    "RETAIL",
    "FOODS",
    "ENGINEERING",
    "MEDIA",
    "CONSULTING",
    "CONSTRUCTION",
    "ENERGY",
    "SOFTWARE",
    "HOSPITALITY",
    "FINANCE",
    "MANUFACTURING",
    "TELECOM",
    "PHARMA",
    "EDUCATION",
    "TRANSPORT",
)
_SUFFIX: Final = {
    "US": ("INC", "LLC", "CORP"),
    "GB": ("LTD", "PLC", "LTD"),
    "DE": ("GMBH", "AG", "GMBH & CO KG"),
    "FR": ("SAS", "SA", "SARL"),
    "ES": ("SL", "SA", "SL"),
    "NL": ("BV", "NV", "BV"),
}
_PUBLIC: Final = {
    "US": ("STATE OF CALIFORNIA PAYROLL", "NYC DEPT OF EDUCATION", "US TREASURY FMS"),
    "GB": ("NHS BUSINESS SERVICES AUTH", "HMRC SALARIES", "COUNCIL PAYROLL"),
    "DE": ("LANDESAMT FUER BESOLDUNG", "STADTVERWALTUNG PERSONALAMT", "BUNDESVERWALTUNGSAMT"),
    "FR": ("DRFIP PAIE", "ASSISTANCE PUBLIQUE HOPITAUX", "MAIRIE DE PARIS PAIE"),
    "ES": ("TESORERIA GENERAL SEG SOC", "SERVICIO MADRILENO DE SALUD", "AYUNTAMIENTO NOMINAS"),
    "NL": ("GEMEENTE SALARISADMINISTRATIE", "RIJKSOVERHEID P-DIREKT", "UMC SALARIS"),
}
N_EMPLOYERS: Final = 120


@cache
def employers(country: str) -> tuple[str, ...]:
    """Fictional employers of ``country`` plus a few public-sector payrolls."""
    names = []
    for i in range(N_EMPLOYERS - 3):
        a = _WORDS_A[(i * 7) % len(_WORDS_A)]
        b = _WORDS_B[(i * 11 + i // len(_WORDS_A)) % len(_WORDS_B)]
        s = _SUFFIX[country][i % 3]
        names.append(f"{a} {b} {s}")
    return (*names, *_PUBLIC[country])


GIG_PLATFORMS: Final[dict[str, tuple[str, ...]]] = {
    "US": ("UBER USA", "DOORDASH INC", "LYFT INC", "INSTACART", "UPWORK ESCROW INC", "FIVERR INC"),
    "GB": ("UBER BV", "DELIVEROO PLC", "JUST EAT TAKEAWAY", "UPWORK ESCROW INC", "BOLT OPERATIONS"),
    "DE": (
        "UBER BV",
        "LIEFERANDO MARKETPLACE",
        "WOLT ENTERPRISES",
        "UPWORK ESCROW INC",
        "BOLT OPERATIONS",
    ),
    "FR": ("UBER BV", "DELIVEROO FRANCE SAS", "STUART SAS", "UPWORK ESCROW INC", "MALT COMMUNITY"),
    "ES": ("UBER BV", "GLOVOAPP23 SA", "CABIFY ESPANA SL", "UPWORK ESCROW INC", "JUST EAT SPAIN"),
    "NL": ("UBER BV", "THUISBEZORGD", "DELIVEROO NL", "UPWORK ESCROW INC", "TEMPER BV"),
}
PENSION_PAYERS: Final[dict[str, tuple[str, str]]] = {
    "US": ("SSA TREAS 310 XXSOC SEC", "FIDELITY INVESTMENTS ANNUITY"),
    "GB": ("DWP SP", "AVIVA PENSIONS"),
    "DE": ("DEUTSCHE RENTENVERSICHERUNG", "VERSORGUNGSWERK"),
    "FR": ("CNAV RETRAITE", "AGIRC-ARRCO"),
    "ES": ("INSS PENSIONES", "MAPFRE VIDA PLAN PENSIONES"),
    "NL": ("SVB AOW", "ABP PENSIOEN"),
}
"""(state pension, occupational or private pension) per country."""
UNEMPLOYMENT_PAYERS: Final = {
    "US": "DEPT OF LABOR UI BENEFITS",
    "GB": "DWP UC",
    "DE": "BUNDESAGENTUR FUER ARBEIT",
    "FR": "FRANCE TRAVAIL ARE",
    "ES": "SEPE PRESTACIONES",
    "NL": "UWV UITKERING",
}
CHILD_BENEFIT_PAYERS: Final = {
    "GB": ("HMRC CHILD BENEFIT", 10260),
    "DE": ("FAMILIENKASSE KINDERGELD", 25000),
    "FR": ("CAF ALLOCATIONS FAMILIALES", 14000),
    "NL": ("SVB KINDERBIJSLAG", 11000),
}
"""(payer, amount per child per month, minor units); the US and Spain pay no universal monthly
child benefit (the US Child Tax Credit arrives with the tax refund)."""
TAX_REFUND_PAYERS: Final = {"US": "IRS TREAS 310 TAX REF", "DE": "FINANZAMT ERSTATTUNG"}

_FIRST: Final = {
    "US": "JMDRSKLAEC",
    "GB": "JMDRSKLAEC",
    "DE": "MKTSAJFHUB",
    "FR": "JPMCSNAIEL",
    "ES": "JMAFCLPRSI",
    "NL": "JMSDLKETBW",
}
_LAST: Final = {
    "US": (
        "SMITH",
        "JOHNSON",
        "WILLIAMS",
        "BROWN",
        "JONES",
        "GARCIA",
        "MILLER",
        "DAVIS",
        "LOPEZ",
        "WILSON",
    ),
    "GB": (
        "SMITH",
        "JONES",
        "TAYLOR",
        "BROWN",
        "WILLIAMS",
        "WILSON",
        "JOHNSON",
        "DAVIES",
        "PATEL",
        "WRIGHT",
    ),
    "DE": (
        "MUELLER",
        "SCHMIDT",
        "SCHNEIDER",
        "FISCHER",
        "WEBER",
        "MEYER",
        "WAGNER",
        "BECKER",
        "HOFFMANN",
        "KOCH",
    ),
    "FR": (
        "MARTIN",
        "BERNARD",
        "DUBOIS",
        "THOMAS",
        "ROBERT",
        "RICHARD",
        "PETIT",
        "DURAND",
        "LEROY",
        "MOREAU",
    ),
    "ES": (
        "GARCIA",
        "RODRIGUEZ",
        "GONZALEZ",
        "FERNANDEZ",
        "LOPEZ",
        "MARTINEZ",
        "SANCHEZ",
        "PEREZ",
        "GOMEZ",
        "MARTIN",
    ),
    "NL": (
        "DE JONG",
        "JANSEN",
        "DE VRIES",
        "VAN DEN BERG",
        "VAN DIJK",
        "BAKKER",
        "JANSSEN",
        "VISSER",
        "SMIT",
        "MEIJER",
    ),
}
_MANAGERS: Final = {
    "US": ("GREYSTAR", "EQUITY RESIDENTIAL", "AVALONBAY", "LINCOLN PROPERTY CO"),
    "GB": ("FOXTONS LETTINGS", "GRAINGER PLC", "SAVILLS LETTINGS", "QUINTAIN LIVING"),
    "DE": ("VONOVIA SE", "DEUTSCHE WOHNEN SE", "LEG WOHNEN", "HAUSVERWALTUNG SCHMIDT KG"),
    "FR": ("FONCIA", "NEXITY LAMY", "CITYA IMMOBILIER", "ORPI GESTION"),
    "ES": ("FIDERE GESTION", "TESTA RESIDENCIAL", "ALQUILER SEGURO", "ENCASA CIBELES"),
    "NL": ("VESTEDA", "MVGM VASTGOED", "YMERE", "STADGENOOT"),
}


@cache
def landlords(country: str) -> tuple[str, ...]:
    """Private landlords (initial and surname) followed by property managers."""
    first, last = _FIRST[country], _LAST[country]
    people = tuple(f"{first[i % len(first)]} {last[(i * 3) % len(last)]}" for i in range(40))
    return (*people, *_MANAGERS[country])


MORTGAGE_LENDERS: Final = {
    "US": ("ROCKET MORTGAGE", "WELLS FARGO HOME MTG", "UNITED WHOLESALE MTG"),
    "GB": ("NATIONWIDE BS", "HALIFAX MORTGAGE", "SANTANDER MORTGAGE"),
    "DE": ("INTERHYP DARLEHEN", "SPARKASSE BAUFINANZIERUNG", "DR KLEIN DARLEHEN"),
    "FR": ("CREDIT AGRICOLE PRET IMMO", "BNP PARIBAS ECHEANCE PRET", "CREDIT MUTUEL PRET"),
    "ES": ("BBVA PRESTAMO HIPOTECARIO", "CAIXABANK HIPOTECA", "SANTANDER HIPOTECA"),
    "NL": ("RABOBANK HYPOTHEEK", "ING HYPOTHEKEN", "ABN AMRO HYPOTHEKEN"),
}
"""Lenders of customers whose mortgage is held at another bank."""
