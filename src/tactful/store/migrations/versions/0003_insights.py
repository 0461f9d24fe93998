"""insights: the insight catalog's output, customers' budgets and savings goals, runs

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ID = sa.String(length=128)


def upgrade() -> None:
    op.create_table(
        "insights",
        sa.Column("insight_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("detector", sa.String(length=64), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("relevance", sa.Float(), nullable=False),
        sa.Column("urgency", sa.String(length=8), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("call_to_action", sa.Text(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("consent_purpose", sa.String(length=32), nullable=False),
        sa.Column("min_level", sa.String(length=16), nullable=False),
        sa.Column("sensitive", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("produced_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("cooldown_until", TS, nullable=False),
        sa.Column("state_changed_at", TS, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("insight_id", name=op.f("pk_insights")),
    )
    op.create_index(
        "ix_insights_customer_detector_subject",
        "insights",
        ["customer_id", "detector", "subject"],
        unique=False,
    )
    op.create_table(
        "budgets",
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("category", sa.String(length=96), nullable=False),
        sa.Column("limit_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "category", name=op.f("pk_budgets")),
    )
    op.create_table(
        "savings_goals",
        sa.Column("goal_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("target_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("goal_id", name=op.f("pk_savings_goals")),
    )
    op.create_index(
        op.f("ix_savings_goals_customer_id"), "savings_goals", ["customer_id"], unique=False
    )
    op.create_table(
        "insight_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("customers", sa.Integer(), server_default="0", nullable=False),
        sa.Column("produced", sa.Integer(), server_default="0", nullable=False),
        sa.Column("suppressed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("expired", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight_runs")),
    )


def downgrade() -> None:
    op.drop_table("insight_runs")
    op.drop_index(op.f("ix_savings_goals_customer_id"), table_name="savings_goals")
    op.drop_table("savings_goals")
    op.drop_table("budgets")
    op.drop_index("ix_insights_customer_detector_subject", table_name="insights")
    op.drop_table("insights")
