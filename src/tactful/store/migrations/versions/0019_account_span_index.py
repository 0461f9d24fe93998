"""transactions: the account/booking index also holds each row's status and amount, so an
account's span and spending (``enrich.repository._spans``: first and last counted booking, sum
of what it spent, over every payment of the accounts a night's rows touch) is read from the
index alone instead of from rows scattered over the table (3M transactions on PostgreSQL: 0.62-
0.72 s -> 0.19-0.28 s for 1,500 accounts). It replaces ``ix_transactions_account_booked``
under a new name (same leading columns: every query that used that one can use this one).

Revision ID: 0019_account_span_index
Revises: 0018_merchant_key
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0019_account_span_index"
down_revision = "0018_merchant_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_transactions_account_span", "transactions",
        ["account_id", "booked_at", "status", "amount_minor"],
    )
    op.drop_index("ix_transactions_account_booked", table_name="transactions")


def downgrade() -> None:
    op.create_index(
        "ix_transactions_account_booked", "transactions", ["account_id", "booked_at"]
    )
    op.drop_index("ix_transactions_account_span", table_name="transactions")
