"""insights: the customers' rule features, written once by the nightly insight run so the
outbound decision batch reads them instead of computing them again per shard

Revision ID: 0016_rule_features
Revises: 0015_vulnerable
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_rule_features"
down_revision = "0015_vulnerable"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rule_features",
        sa.Column("customer_id", sa.String(128), primary_key=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
    )
    op.create_index("ix_rule_features_run", "rule_features", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_rule_features_run", table_name="rule_features")
    op.drop_table("rule_features")
