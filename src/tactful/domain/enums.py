"""The closed vocabularies of the domain.

String enums so that the stored value, the file value and the Python value are the same text.
"""

from __future__ import annotations

from enum import StrEnum


class PersonalizationLevel(StrEnum):
    """How far a customer lets Tactful go; every detector and offer declares the level it needs."""

    NONE = "none"
    BASIC = "basic"
    MODERATE = "moderate"
    ADVANCED = "advanced"

    @property
    def rank(self) -> int:
        return list(PersonalizationLevel).index(self)


class Region(StrEnum):
    """Regulatory zone: it decides which consent rules and which defaults apply."""

    EU = "EU"
    UK = "UK"
    US = "US"
    OTHER = "OTHER"


class Channel(StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"


class AccountType(StrEnum):
    CHECKING = "checking"
    SAVINGS = "savings"
    CREDIT_CARD = "credit_card"
    LOAN = "loan"
    MORTGAGE = "mortgage"
    INVESTMENT = "investment"


class TransactionStatus(StrEnum):
    POSTED = "posted"
    PENDING = "pending"
    DECLINED = "declined"


class TransactionChannel(StrEnum):
    """How the money moved; 'other' when the source does not say."""

    CARD = "card"
    ONLINE = "online"
    ATM = "atm"
    TRANSFER = "transfer"
    DIRECT_DEBIT = "direct_debit"
    STANDING_ORDER = "standing_order"
    CASH = "cash"
    CHECK = "check"
    FEE = "fee"
    INTEREST = "interest"
    OTHER = "other"


class EventKind(StrEnum):
    LOGIN = "login"
    LOGOUT = "logout"
    SESSION_START = "session_start"
    SESSION_END = "session_end"
    FEATURE_USED = "feature_used"
    PAGE_VIEW = "page_view"
    NOTIFICATION_DELIVERED = "notification_delivered"
    NOTIFICATION_OPENED = "notification_opened"
    NOTIFICATION_DISMISSED = "notification_dismissed"
    CONSENT_CHANGE = "consent_change"
    SETTINGS_CHANGE = "settings_change"


class ConsentPurpose(StrEnum):
    """Purpose-bound consent: a decision may only use data whose purpose the customer granted."""

    PERSONALIZATION = "personalization"
    MARKETING = "marketing"
    ANALYTICS = "analytics"
    THIRD_PARTY_SHARING = "third_party_sharing"
    PROFILING = "profiling"


class ConsentStatus(StrEnum):
    GRANTED = "granted"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"


class ProductKind(StrEnum):
    ACCOUNT = "account"
    CARD = "card"
    LOAN = "loan"
    SAVINGS = "savings"
    INVESTMENT = "investment"
    INSURANCE = "insurance"
    SERVICE = "service"
