"""decide: the decisions log (each decision with its inputs, candidates, pscore, explanation)

Revision ID: 0009_decisions
Revises: 0008_score_stage
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_decisions"
down_revision = "0008_score_stage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("decision_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("placement", sa.String(length=16), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("silent", sa.Boolean(), nullable=False),
        sa.Column("action_id", sa.String(length=200), nullable=True),
        sa.Column("family", sa.String(length=32), nullable=True),
        sa.Column("product_id", sa.String(length=128), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pscore", sa.Float(), nullable=False),
        sa.Column("policy_version", sa.String(length=96), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("relevance", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_decisions")),
    )
    op.create_index("ix_decisions_customer_decided", "decisions",
                    ["customer_id", "decided_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_decisions_customer_decided", table_name="decisions")
    op.drop_table("decisions")
