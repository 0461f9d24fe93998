"""The one vocabulary of the bank's rules: every word a condition may name, what it describes and
how its value is written.

Two subjects share it. Transaction fields (``description``, ``amount_minor``, ...) are what the
categorization rules (``enrich.rules``) read, one row per transaction. Customer features
(``checking_balance_min_30d``, ``accounts_open``, ``holds_savings``, ``vulnerable``, ...) are
what the insight rules (``insights.rules``) and the actions catalog's eligibility rules
(``decide.catalog``) read, one row per customer. The customer words follow the models' feature
names (``models.features``: ``accounts_open``, ``holds_<account type>``), so one word means one
thing wherever it is written.

A feature's :class:`Kind` says how a condition's value is written:

- ``text``: compared ignoring case;
- ``integer``: an integer as stored (``amount_minor`` is in minor units, as its name says);
- ``money``: a number in *major* units of the customer's currency (``1000`` is 1,000.00 EUR or
  1,000 JPY), scaled by the row's ``unit`` when compared to the stored minor units;
- ``count`` and ``days``: a number;
- ``flag``: ``true`` / ``false`` (``1`` / ``0`` are accepted: they are what a frame holds).

Old spellings (:data:`ALIASES`) still load, with a :class:`RuleSpellingWarning` naming the new
word; ``docs/rules.md`` lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Kind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    MONEY = "money"
    COUNT = "count"
    DAYS = "days"
    FLAG = "flag"

    @property
    def numeric(self) -> bool:
        return self is not Kind.TEXT


class Subject(StrEnum):
    """What one row of the data a rule runs on stands for."""

    TRANSACTION = "transaction"
    CUSTOMER = "customer"


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    kind: Kind
    subject: Subject
    description: str


def _t(name: str, kind: Kind, description: str) -> Feature:
    return Feature(name, kind, Subject.TRANSACTION, description)


def _c(name: str, kind: Kind, description: str) -> Feature:
    return Feature(name, kind, Subject.CUSTOMER, description)


VOCABULARY: Final[dict[str, Feature]] = {f.name: f for f in (
    _t("account_type", Kind.TEXT, "the type of the account the transaction is on"),
    _t("amount_minor", Kind.INTEGER, "the signed amount in minor units (negative: money out)"),
    _t("channel", Kind.TEXT, "how the transaction was made (card, online, transfer, ...)"),
    _t("counterparty", Kind.TEXT, "the other party's name, as the bank received it"),
    _t("currency", Kind.TEXT, "the ISO currency code"),
    _t("description", Kind.TEXT, "the description, as the bank received it"),
    _t("direction", Kind.TEXT, "'in' for credits, 'out' for debits (from the amount's sign)"),
    _t("mcc", Kind.TEXT, "the card merchant category code"),
    _t("merchant", Kind.TEXT, "the merchant name, as the bank received it"),
    _t("merchant_key", Kind.TEXT, "the normalized merchant key"),
    _c("accounts_open", Kind.COUNT, "accounts open now"),
    _c("card_payments_30d", Kind.COUNT, "card and online payments in the last 30 days"),
    _c("checking_balance", Kind.MONEY, "the balance on current accounts now"),
    _c("checking_balance_min_30d", Kind.MONEY, "the lowest end-of-day current balance in 30 days"),
    _c("checking_balance_min_90d", Kind.MONEY, "the lowest end-of-day current balance in 90 days"),
    _c("days_since_login", Kind.DAYS, "days since the last app login (9999: never)"),
    _c("fees_90d", Kind.MONEY, "bank fees paid in the last 90 days (sensitive)"),
    _c("holds_credit_card", Kind.FLAG, "holds an open credit card"),
    _c("holds_loan", Kind.FLAG, "holds an open loan"),
    _c("holds_savings", Kind.FLAG, "holds an open savings account"),
    _c("monthly_income", Kind.MONEY, "the usual monthly income (sensitive)"),
    _c("savings_balance", Kind.MONEY, "the balance on savings accounts now"),
    _c("shortfall_forecast", Kind.FLAG,
       "a live shortfall or low-balance warning (the forecast says the balance will not cover "
       "what is due)"),
    _c("spend_30d", Kind.MONEY, "spending in the last 30 days"),
    _c("vulnerable", Kind.FLAG, "the bank flagged the customer vulnerable"),
)}
"""Every word, by name. Plus :data:`SPEND_PREFIX` ``<PRIMARY_CATEGORY>`` (money, customer)."""

SPEND_PREFIX: Final = "spend_30d."
"""``spend_30d.FOOD_AND_DRINK``: spending in one primary category in the last 30 days."""

ALIASES: Final[dict[str, str]] = {
    "open_accounts": "accounts_open",
    "has_savings": "holds_savings",
    "has_credit_card": "holds_credit_card",
    "has_loan": "holds_loan",
}
"""Old feature spellings (the insight rules' vocabulary before the merge) -> the word now."""


class RuleSpellingWarning(FutureWarning):
    """A rule written in an old spelling was loaded as the new one; rewrite it, the old
    spelling will stop loading. A ``FutureWarning``: shown by default to whoever loads the
    bank's file, not only to developers."""


def feature(name: str) -> Feature | None:
    """The feature ``name`` stands for (``None``: not a word of the vocabulary)."""
    found = VOCABULARY.get(name)
    if found is not None:
        return found
    if name.startswith(SPEND_PREFIX):
        category = name.removeprefix(SPEND_PREFIX)
        if category and category.isupper() and category.replace("_", "").isalnum():
            return Feature(name, Kind.MONEY, Subject.CUSTOMER,
                           f"spending on {category.lower().replace('_', ' ')} in 30 days")
    return None


def names(subject: Subject) -> tuple[str, ...]:
    """The words of one subject, sorted."""
    return tuple(sorted(n for n, f in VOCABULARY.items() if f.subject is subject))
