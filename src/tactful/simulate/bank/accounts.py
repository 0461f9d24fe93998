"""Each customer's accounts: which exist, opening balances, limits, rates and identifiers.

Six account slots (checking, savings, credit card, loan, mortgage, investment); every customer
has a checking account. Opening balances follow the customer's buffer (JPMorgan Chase Institute
finds a typical household holds a few weeks of spending in cash); overdraft and card limits scale
with income; loans and mortgages are amortising with the region's typical rates. Identifiers are
IBANs with valid check digits in the UK and the euro area and 12-digit account numbers in the US.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tactful.domain.enums import Region
from tactful.simulate.bank.products import PRODUCT_INDEX
from tactful.simulate.base.rng import Keyed
from tactful.simulate.base.rows import CHECKING, CREDIT_CARD, INVESTMENT, LOAN, MORTGAGE, SAVINGS
from tactful.simulate.people.personas import EMPLOYMENT, PERSONA_INDEX, Population
from tactful.simulate.people.regions import COUNTRIES, PROFILES, REGIONS

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
US_ROUTING: Final = "123456780"
"""An ABA routing number with a valid checksum (fictional bank)."""
_BANK: Final = {"DE": "37040044", "FR": ("30004", "00823"), "ES": ("2100", "0418"), "NL": "TCTF"}


@dataclass(slots=True)
class Accounts:
    """(n, 6) arrays indexed by customer and slot."""

    exists: NDArray[np.bool_]
    opening: I64
    limit: I64
    """How far below zero a card payment may take the balance (overdraft or credit limit)."""
    credit_limit: I64
    """Credit limit as the bank states it (credit cards), 0 elsewhere."""
    rate_pos: F64
    rate_neg: F64
    payment: I64
    """Monthly payment of a loan or mortgage (minor units)."""
    product: I64
    opened_day: I64
    revolver: NDArray[np.bool_]
    pay_share: F64
    """Share of the statement balance a card holder pays each month."""


def draw_accounts(r: Keyed, pop: Population) -> Accounts:
    g = pop.gidx
    n = len(g)
    monthly = pop.monthly_income
    prof = [PROFILES[x] for x in REGIONS]
    exists = np.zeros((n, 6), dtype=bool)
    exists[:, CHECKING] = True
    exists[:, SAVINGS] = pop.has_savings
    exists[:, CREDIT_CARD] = pop.has_card
    exists[:, LOAN] = pop.has_loan
    exists[:, MORTGAGE] = pop.mortgage_here
    exists[:, INVESTMENT] = pop.has_investment

    opening = np.zeros((n, 6), dtype=np.int64)
    daily = pop.income / 365.0
    opening[:, CHECKING] = np.rint(daily * pop.buffer_days * 100)
    sav_months = r.lognormal(
        "open.savings", np.where(pop.persona == PERSONA_INDEX["affluent"], 10.0, 2.5), 1.0, g
    )
    opening[:, SAVINGS] = np.where(pop.has_savings, np.rint(monthly * sav_months * 100), 0)
    limit_c = np.maximum((pop.income * (0.1 + 0.15 * r.uniform("open.cl", g))) // 500 * 500, 500)
    credit_limit = np.where(pop.has_card, limit_c * 100, 0).astype(np.int64)
    revolver = pop.has_card & r.bernoulli("revolver", np.where(pop.income_level <= 1, 0.5, 0.3), g)
    used = np.where(
        revolver, 0.2 + 0.4 * r.uniform("open.cc", g), 0.02 + 0.1 * r.uniform("open.cc", g)
    )
    opening[:, CREDIT_CARD] = -np.rint(credit_limit * used).astype(np.int64)
    pay_share = np.where(revolver, 0.05 + 0.25 * r.uniform("pay_share", g), 1.0)

    apr_loan = np.array([p.loan_apr for p in prof])[pop.region]
    apr_mort = np.array([p.mortgage_apr for p in prof])[pop.region]
    loan_principal = pop.income * (0.1 + 0.3 * r.uniform("loan.amount", g))
    loan_left = 12 + r.integers("loan.months", 48, g)
    mort_principal = pop.income * (1.5 + 2.5 * r.uniform("mort.amount", g))
    mort_left = 60 + r.integers("mort.months", 240, g)
    payment = np.zeros((n, 6), dtype=np.int64)
    payment[:, LOAN] = np.where(pop.has_loan, _annuity(loan_principal, apr_loan, loan_left), 0)
    payment[:, MORTGAGE] = np.where(
        pop.mortgage_here, _annuity(mort_principal, apr_mort, mort_left), 0
    )
    opening[:, LOAN] = np.where(pop.has_loan, -np.rint(loan_principal * 100), 0)
    opening[:, MORTGAGE] = np.where(pop.mortgage_here, -np.rint(mort_principal * 100), 0)
    opening[:, INVESTMENT] = np.where(
        pop.has_investment, np.rint(pop.income * r.lognormal("open.inv", 0.8, 0.8, g) * 100), 0
    )

    arranged = r.bernoulli(
        "od.arranged", np.array([p.arranged_overdraft_share for p in prof])[pop.region], g
    )
    od_months = np.array([p.overdraft_limit_months for p in prof])[pop.region]
    od = np.rint(monthly * od_months / 50) * 50
    od = np.minimum(od, np.array([50000.0, 3000.0, 600.0])[pop.region])
    uk_student = (pop.region == REGIONS.index(Region.UK)) & (
        pop.employment == EMPLOYMENT.index("student")
    )
    od = np.where(uk_student, 1500.0, od)
    arranged |= uk_student
    od_limit = np.where(arranged, od * 100, 0).astype(np.int64)
    us = pop.region == REGIONS.index(Region.US)
    opt_in = r.bernoulli("od.card_opt_in", 0.2, g)
    limit = np.zeros((n, 6), dtype=np.int64)
    limit[:, CHECKING] = np.where(us & ~opt_in, 0, od_limit)
    limit[:, CREDIT_CARD] = credit_limit

    rate_pos = np.zeros((n, 6))
    rate_neg = np.zeros((n, 6))
    rate_pos[:, SAVINGS] = np.array([p.savings_apy for p in prof])[pop.region] * np.where(
        pop.persona == PERSONA_INDEX["affluent"], 1.0, 0.6
    )
    rate_neg[:, CHECKING] = np.where(
        uk_student, 0.0, np.array([p.overdraft_apr for p in prof])[pop.region]
    )
    rate_neg[:, CREDIT_CARD] = np.where(
        revolver, np.array([p.card_apr for p in prof])[pop.region], 0.0
    )
    rate_neg[:, LOAN] = apr_loan
    rate_neg[:, MORTGAGE] = apr_mort

    product = np.full((n, 6), -1, dtype=np.int64)
    aff = pop.persona == PERSONA_INDEX["affluent"]
    product[:, CHECKING] = np.select(
        [pop.employment == EMPLOYMENT.index("student"), aff],
        [PRODUCT_INDEX["P-CHK-STUDENT"], PRODUCT_INDEX["P-CHK-PREMIUM"]],
        PRODUCT_INDEX["P-CHK-STD"],
    )
    product[:, SAVINGS] = np.where(aff, PRODUCT_INDEX["P-SAV-HY"], PRODUCT_INDEX["P-SAV-EASY"])
    product[:, CREDIT_CARD] = np.where(
        aff & r.bernoulli("cc.travel", 0.5, g),
        PRODUCT_INDEX["P-CC-TRAVEL"],
        np.where(
            aff | (pop.income_level >= 2),
            PRODUCT_INDEX["P-CC-REWARDS"],
            PRODUCT_INDEX["P-CC-CLASSIC"],
        ),
    )
    product[:, LOAN] = PRODUCT_INDEX["P-LOAN-PERSONAL"]
    product[:, MORTGAGE] = PRODUCT_INDEX["P-MORTGAGE-FIXED"]
    product[:, INVESTMENT] = PRODUCT_INDEX["P-INV-FUNDS"]
    product = np.where(exists, product, -1)

    opened = np.zeros((n, 6), dtype=np.int64)
    opened[:, CHECKING] = pop.created_day
    for s in (SAVINGS, CREDIT_CARD, LOAN, MORTGAGE, INVESTMENT):
        u = r.uniform(f"opened.{s}", g)
        opened[:, s] = pop.created_day + (u * (-pop.created_day - 30)).astype(np.int64)
    return Accounts(
        exists=exists,
        opening=np.where(exists, opening, 0),
        limit=limit,
        credit_limit=credit_limit,
        rate_pos=rate_pos,
        rate_neg=rate_neg,
        payment=payment,
        product=product,
        opened_day=opened,
        revolver=revolver,
        pay_share=pay_share,
    )


def _annuity(principal: F64, apr: F64, months: I64) -> I64:
    i = apr / 12.0
    return np.rint(principal * i / (1.0 - (1.0 + i) ** (-months.astype(np.float64))) * 100).astype(
        np.int64
    )


def _mod97(digits: str) -> int:
    return int(digits) % 97


def _iban(country: str, bban: str) -> str:
    converted = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - _mod97(converted)
    return f"{country}{check:02d}{bban}"


def _rib_key(bank: str, branch: str, account: str) -> str:
    return f"{97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97:02d}"


def _es_dc(bank: str, branch: str, account: str) -> str:
    w = (1, 2, 4, 8, 5, 10, 9, 7, 3, 6)

    def d(s: str) -> int:
        v = 11 - sum(int(c) * w[i] for i, c in enumerate(s.zfill(10))) % 11
        return {10: 1, 11: 0}.get(v, v)

    return f"{d('00' + bank + branch)}{d(account)}"


def account_number(gidx: int, slot: int) -> int:
    """A 10-digit number unique per (customer, slot): an invertible scramble of the pair."""
    return ((gidx * 8 + slot) * 7_919_113 + 1_234_567) % 10**10


def account_id(country: str, gidx: int, slot: int) -> str:
    """The external id of a customer's account, as the bank's exports spell it."""
    num = account_number(gidx, slot)
    if slot in (CREDIT_CARD, LOAN, MORTGAGE, INVESTMENT):
        prefix = {CREDIT_CARD: "CC", LOAN: "LN", MORTGAGE: "MG", INVESTMENT: "IV"}[slot]
        return f"{prefix}{num:010d}"
    if country == "US":
        return f"{(slot + 1) * 10**10 + num:012d}"
    if country == "DE":
        return _iban("DE", f"{_BANK['DE']}{num:010d}")
    if country == "FR":
        bank, branch = _BANK["FR"]
        acct = f"{num:011d}"
        return _iban("FR", f"{bank}{branch}{acct}{_rib_key(bank, branch, acct)}")
    if country == "ES":
        bank, branch = _BANK["ES"]
        acct = f"{num:010d}"
        return _iban("ES", f"{bank}{branch}{_es_dc(bank, branch, acct)}{acct}")
    if country == "NL":
        return _iban("NL", f"{_BANK['NL']}{num:010d}")
    return _iban("GB", f"{_BANK['NL']}40{num // 10**8:02d}76{num % 10**8:08d}")


def account_ids(pop: Population, accts: Accounts) -> list[list[str]]:
    """Ids for every existing account: ``ids[i][slot]`` ('' where the account does not exist)."""
    out = []
    for i in range(len(pop)):
        c = COUNTRIES[int(pop.country[i])]
        g = int(pop.gidx[i])
        out.append([account_id(c, g, s) if accts.exists[i, s] else "" for s in range(6)])
    return out
