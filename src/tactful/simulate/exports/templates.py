"""Descriptor templates: how each country's bank writes each kind of transaction.

The templates themselves are data (``data/templates.toml``, with the real statement lines they
imitate); this module says which kind of row each one prints. ``{field}`` names a value computed
per row by ``descriptors.py``; everything else is literal.
"""

from __future__ import annotations

from typing import Final

from tactful.simulate.base import data
from tactful.simulate.base import rows as R

_FILE: Final = "templates.toml"


def _table(name: str) -> dict[str, str]:
    """One template per country, in the file's order."""
    return {str(c): str(t) for c, t in data.toml(_FILE)[name].items()}


TEMPLATES: Final[dict[int, dict[str, str]]] = {
    R.D_CARD: _table("card"),
    R.D_CARD_ONLINE: _table("online"),
    R.D_FOREIGN: _table("foreign"),
    R.D_ATM: _table("atm"),
    R.D_DD: _table("dd"),
    R.D_SO: _table("so"),
    R.D_OWN_OUT: _table("own_out"),
    R.D_OWN_IN: _table("own_in"),
    R.D_SALARY: _table("salary"),
    R.D_PENSION: _table("pension"),
    R.D_BENEFIT: _table("benefit"),
    R.D_GIG: _table("gig"),
    R.D_INVOICE: _table("invoice"),
    R.D_SUPPORT: _table("support"),
    R.D_TAX_REFUND: _table("tax_refund"),
    R.D_DIVIDEND: _table("tax_refund"),
    R.D_FEE_OD: _table("fee_od"),
    R.D_FEE_FX: _table("fee_fx"),
    R.D_FEE_ATM: _table("fee_atm"),
    R.D_INT_OD: _table("int_od"),
    R.D_INT_CREDIT: _table("int_credit"),
    R.D_INT_CARD: _table("int_card"),
    R.D_INT_LOAN: _table("int_loan"),
    R.D_CARD_PAY_OUT: _table("card_pay_out"),
    R.D_CARD_PAY_IN: _table("card_pay_in"),
    R.D_LOAN_OUT: _table("loan_out"),
    R.D_LOAN_IN: _table("loan_in"),
    R.D_SWEEP: _table("sweep"),
    R.D_REFUND: _table("refund"),
    R.D_SUB_CARD: _table("online"),
    R.D_SUB_DD: _table("dd"),
    R.D_RENT_US: _table("rent_us"),
    R.D_ACH: _table("ach"),
    R.D_P2P_OUT: _table("p2p_out"),
    R.D_DD_RETURN: _table("dd_return"),
}
CREDIT_CARD_TEMPLATES: Final[dict[int, dict[str, str]]] = {
    R.D_CARD: _table("card_credit"),
    R.D_CARD_ONLINE: _table("online_credit"),
    R.D_FOREIGN: _table("foreign_credit"),
    R.D_SUB_CARD: _table("online_credit"),
}
"""Card lines on a credit-card statement carry no debit-card framing."""
ATM_OPERATORS: Final[dict[str, tuple[str, ...]]] = {
    str(c): tuple(str(o) for o in ops) for c, ops in data.toml(_FILE)["atm_operators"].items()
}
