"""learn: model registry and customer scores

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(length=16), server_default="candidate", nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("fairness", sa.JSON(), nullable=True),
        sa.Column("data_start", TS, nullable=True),
        sa.Column("data_end", TS, nullable=True),
        sa.Column("validation", sa.Text(), server_default="", nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("model_card", sa.Text(), nullable=False),
        sa.Column("artifact_path", sa.Text(), nullable=False),
        sa.Column("artifact_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("promoted_at", TS, nullable=True),
        sa.Column("promoted_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_models")),
    )
    op.create_index("uq_models_name_version", "models", ["name", "version"], unique=True)
    op.create_table(
        "customer_scores",
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("model_name", sa.String(length=128), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("scored_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "model_name", name=op.f("pk_customer_scores")),
    )


def downgrade() -> None:
    op.drop_table("customer_scores")
    op.drop_index("uq_models_name_version", table_name="models")
    op.drop_table("models")
