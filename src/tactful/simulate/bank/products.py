"""The simulated bank's product catalog (written as ``products.<ext>``).

Product offers in the closed loop name these ids; whether an offer is relevant to a customer is
decided from the customer's truth (see ``response.py``), not from the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class ProductSpec:
    product_id: str
    name: str
    kind: str
    account_type: str
    description: str


PRODUCTS: Final[tuple[ProductSpec, ...]] = (
    ProductSpec(
        "P-CHK-STD",
        "Everyday Account",
        "account",
        "checking",
        "Current / checking account with a debit card and arranged overdraft on request.",
    ),
    ProductSpec(
        "P-CHK-STUDENT",
        "Student Account",
        "account",
        "checking",
        "Current account for students; interest-free overdraft in the UK.",
    ),
    ProductSpec(
        "P-CHK-PREMIUM",
        "Premium Account",
        "account",
        "checking",
        "Current account with travel insurance and a higher overdraft limit.",
    ),
    ProductSpec(
        "P-SAV-EASY",
        "Easy Access Savings",
        "savings",
        "savings",
        "Savings account with instant access and a variable rate.",
    ),
    ProductSpec(
        "P-SAV-HY",
        "High-Yield Savings",
        "savings",
        "savings",
        "Savings account with a higher variable rate and monthly interest.",
    ),
    ProductSpec(
        "P-CC-CLASSIC",
        "Classic Credit Card",
        "card",
        "credit_card",
        "Credit card with a monthly statement and direct-debit repayment.",
    ),
    ProductSpec(
        "P-CC-REWARDS",
        "Rewards Credit Card",
        "card",
        "credit_card",
        "Credit card earning points on every purchase.",
    ),
    ProductSpec(
        "P-CC-TRAVEL",
        "Travel Credit Card",
        "card",
        "credit_card",
        "Credit card without foreign transaction fees.",
    ),
    ProductSpec(
        "P-LOAN-PERSONAL",
        "Personal Loan",
        "loan",
        "loan",
        "Fixed-rate unsecured loan over 1 to 7 years.",
    ),
    ProductSpec(
        "P-MORTGAGE-FIXED",
        "Fixed-Rate Mortgage",
        "loan",
        "mortgage",
        "Repayment mortgage with a fixed rate for the first years.",
    ),
    ProductSpec(
        "P-INV-FUNDS",
        "Managed Investments",
        "investment",
        "investment",
        "Investment account (ISA in the UK) with monthly contributions.",
    ),
    ProductSpec(
        "P-INS-HOME",
        "Home & Contents Insurance",
        "insurance",
        "",
        "Insurance of the home and its contents.",
    ),
    ProductSpec(
        "P-INS-LIFE",
        "Life & Family Protection",
        "insurance",
        "",
        "Life insurance for people with dependants.",
    ),
    ProductSpec(
        "P-SVC-OVERDRAFT",
        "Arranged Overdraft",
        "service",
        "checking",
        "An agreed overdraft limit on the current account.",
    ),
    ProductSpec(
        "P-SVC-ALERTS",
        "Smart Alerts",
        "service",
        "",
        "Notifications of low balance, large payments and upcoming bills.",
    ),
)
PRODUCT_INDEX: Final = {p.product_id: i for i, p in enumerate(PRODUCTS)}
