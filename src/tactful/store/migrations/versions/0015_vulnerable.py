"""decide: the bank's vulnerability marker on the customer (no exploration of regulated credit
offers on a customer flagged vulnerable; a rule feature of the catalog)

Revision ID: 0015_vulnerable
Revises: 0014_outbox_speed
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_vulnerable"
down_revision = "0014_outbox_speed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("vulnerable", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("vulnerable")
