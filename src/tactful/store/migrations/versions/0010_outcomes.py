"""measure: outcomes of decisions, experiment definitions, and each decision's experiment arms

Revision ID: 0010_outcomes
Revises: 0009_decisions
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_outcomes"
down_revision = "0009_decisions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outcomes",
        sa.Column("outcome_id", sa.String(length=64), nullable=False),
        sa.Column("decision_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("action_id", sa.String(length=200), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("rating", sa.Float(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("outcome_id", name=op.f("pk_outcomes")),
        sa.UniqueConstraint("decision_id", "kind", "occurred_at",
                            name=op.f("uq_outcomes_decision_id_kind_occurred_at")),
    )
    op.create_index("ix_outcomes_customer_occurred", "outcomes",
                    ["customer_id", "occurred_at"], unique=False)
    op.create_index("ix_outcomes_action_channel", "outcomes", ["action_id", "channel"],
                    unique=False)
    op.create_table(
        "experiments",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("salt", sa.String(length=128), nullable=False),
        sa.Column("arms", sa.JSON(), nullable=False),
        sa.Column("holdout", sa.Float(), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_experiments")),
    )
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("experiments", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("experiments")
    op.drop_table("experiments")
    op.drop_index("ix_outcomes_action_channel", table_name="outcomes")
    op.drop_index("ix_outcomes_customer_occurred", table_name="outcomes")
    op.drop_table("outcomes")
