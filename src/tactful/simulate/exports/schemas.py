"""Fixed column types of every file the simulator writes.

Every chunk is cast to these before writing, so all chunks of a file share one schema (a
chunk where a column happens to be all empty still writes it as text or integer).
"""

from __future__ import annotations

from typing import Final

import polars as pl

S, INT, F, B = pl.Utf8(), pl.Int64(), pl.Float64(), pl.Boolean()


def _schema(spec: str, types: dict[str, pl.DataType] | None = None) -> dict[str, pl.DataType]:
    """Columns named in ``spec`` (whitespace separated) are text unless ``types`` says otherwise."""
    types = types or {}
    return {c: types.get(c, S) for c in spec.split()}


_SERIES_TYPES: Final[dict[str, pl.DataType]] = {
    "amount_minor": INT,
    "amount_varies": B,
    "anchor_day": INT,
    "anchor_month": INT,
    "cancelled": B,
}

EXPORT_SCHEMAS: Final[dict[str, dict[str, pl.DataType]]] = {
    "customers": _schema("""customer_id region locale timezone personalization_level
        channel_preferences quiet_hours_start quiet_hours_end created_at age_band
        gender"""),
    "accounts": _schema(
        """account_id customer_id account_type currency balance_minor balance_as_of
        credit_limit_minor opened_on closed_on product_id name""",
        {"balance_minor": INT, "credit_limit_minor": INT},
    ),
    "transactions": _schema(
        """transaction_id account_id booked_at value_at amount_minor currency
        description counterparty mcc channel status balance_after_minor""",
        {"amount_minor": INT, "balance_after_minor": INT},
    ),
    "consents": _schema("customer_id purpose status at source"),
    "products": _schema("product_id name kind account_type description"),
}

TRUTH_SCHEMAS: Final[dict[str, dict[str, pl.DataType]]] = {
    "customers": _schema(
        """customer_id persona region city age_band income_net_annual_minor
        income_level employment housing children login_habit read_hour preferred_channel
        alert_channel push_enabled engagement spending_level churner churn_intent_date
        churn_closure_date fraud_victim fraud_pattern fraud_date""",
        {
            "income_net_annual_minor": INT,
            "children": INT,
            "read_hour": F,
            "push_enabled": B,
            "engagement": F,
            "spending_level": F,
            "churner": B,
            "fraud_victim": B,
        },
    ),
    "accounts": _schema(
        """account_id customer_id account_type opening_balance_minor limit_minor
        interest_rate_credit interest_rate_debit card_revolver""",
        {
            "opening_balance_minor": INT,
            "limit_minor": INT,
            "interest_rate_credit": F,
            "interest_rate_debit": F,
            "card_revolver": B,
        },
    ),
    "recurring_series": _schema(
        """series_id customer_id account_id kind cadence counterparty
        category_detailed amount_minor amount_varies currency anchor_day anchor_month start_date
        end_date cancelled""",
        _SERIES_TYPES,
    ),
    "price_changes": _schema(
        "series_id effective_date old_amount_minor new_amount_minor reason",
        {"old_amount_minor": INT, "new_amount_minor": INT},
    ),
    "series_members": _schema("transaction_id series_id date amount_minor", {"amount_minor": INT}),
    "income_streams": _schema(
        """series_id customer_id account_id kind cadence counterparty
        category_detailed amount_minor amount_varies currency anchor_day anchor_month start_date
        end_date cancelled""",
        _SERIES_TYPES,
    ),
    "income_changes": _schema(
        "series_id effective_date old_amount_minor new_amount_minor reason",
        {"old_amount_minor": INT, "new_amount_minor": INT},
    ),
    "life_events": _schema("customer_id kind date value", {"value": F}),
    "fraud": _schema(
        "transaction_id customer_id pattern declined amount_minor",
        {"declined": B, "amount_minor": INT},
    ),
    "churn": _schema("customer_id intent_date salary_move_date closure_date"),
    "transaction_truth": _schema(
        """transaction_id category_primary category_detailed merchant
        series_id fraud""",
        {"fraud": B},
    ),
    "behaviour_changes": _schema(
        """customer_id cause spend_kind category_primary category_detailed start_date
        end_date factor""",
        {"factor": F},
    ),
    "customer_needs": _schema(
        "customer_id date stressed idle_cash shortfall_date",
        {"stressed": B, "idle_cash": B},
    ),
    "response_params": _schema(
        """customer_id channel reachable affinity base_open engagement
        read_hour quiet_start_minute quiet_end_minute""",
        {
            "reachable": B,
            "affinity": F,
            "base_open": F,
            "engagement": F,
            "read_hour": F,
            "quiet_start_minute": INT,
            "quiet_end_minute": INT,
        },
    ),
}
