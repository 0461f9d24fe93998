"""transactions: the key each row groups under in recurring series (``group_key``: its merchant
key, or its description's), indexed with the account in place of the merchant key alone. A
night's increment read every payment without a merchant key of each account it touched,
because their groups' keys were not in the store (a fifth of what it read); now it reads the
groups its new rows join, whatever their key. The next enrich run is a full one (layout 2,
``batch/enrich.py``), which fills the column.

Revision ID: 0020_group_key
Revises: 0019_account_span_index
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_group_key"
down_revision = "0019_account_span_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("transactions", sa.Column("group_key", sa.String(200)))
    op.create_index("ix_transactions_account_group", "transactions", ["account_id", "group_key"])
    op.drop_index("ix_transactions_account_merchant", table_name="transactions")


def downgrade() -> None:
    op.create_index(
        "ix_transactions_account_merchant", "transactions", ["account_id", "merchant_key"]
    )
    op.drop_index("ix_transactions_account_group", table_name="transactions")
    with op.batch_alter_table("transactions") as batch:
        batch.drop_column("group_key")
