"""enrich: each transaction's merchant key, so a night's increment reads only the payments
its new transactions can change (the merchant's payments in that account); an index of the
transactions not yet enriched; and the layout and day an enrich run wrote (a run of an older
layout makes the next one full; the next increment's day starts from its day)

Revision ID: 0018_merchant_key
Revises: 0017_merchant_behaviour
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_merchant_key"
down_revision = "0017_merchant_behaviour"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("transactions", sa.Column("merchant_key", sa.String(200)))
    op.create_index(
        "ix_transactions_account_merchant", "transactions", ["account_id", "merchant_key"]
    )
    op.create_index(
        "ix_recurring_series_account", "recurring_series", ["account_id", "merchant_key"]
    )
    op.create_index("ix_income_streams_account", "income_streams", ["account_id"])
    op.create_index(
        "ix_transactions_pending", "transactions", ["account_id", "booked_at"],
        sqlite_where=sa.text("category_source IS NULL"),
        postgresql_where=sa.text("category_source IS NULL"),
    )
    op.add_column("enrich_runs", sa.Column("layout", sa.Integer()))
    op.add_column("enrich_runs", sa.Column("as_of", sa.Date()))


def downgrade() -> None:
    with op.batch_alter_table("enrich_runs") as batch:
        batch.drop_column("as_of")
        batch.drop_column("layout")
    op.drop_index("ix_transactions_pending", table_name="transactions")
    op.drop_index("ix_income_streams_account", table_name="income_streams")
    op.drop_index("ix_recurring_series_account", table_name="recurring_series")
    op.drop_index("ix_transactions_account_merchant", table_name="transactions")
    with op.batch_alter_table("transactions") as batch:
        batch.drop_column("merchant_key")
