"""enrich: merchants no word reads, categorized by how the bank's customers pay them, stored
beside the text model they were fitted with

Revision ID: 0017_merchant_behaviour
Revises: 0016_rule_features
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_merchant_behaviour"
down_revision = "0016_rule_features"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "merchant_behaviour",
        sa.Column("text_model_id", sa.Integer(), primary_key=True),
        sa.Column("merchant_key", sa.String(200), primary_key=True),
        sa.Column("category_detailed", sa.String(96), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("merchant_behaviour")
