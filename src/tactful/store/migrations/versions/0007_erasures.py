"""trust: the tombstone an erasure leaves (pseudonyms, date, counts)

Revision ID: 0007_erasures
Revises: 0006_run_liveness
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_erasures"
down_revision = "0006_run_liveness"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("accounts", sa.JSON(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_by", sa.String(length=128), nullable=False),
        sa.Column("rows_deleted", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
    )
    op.create_index(op.f("ix_erasures_subject"), "erasures", ["subject"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_erasures_subject"), table_name="erasures")
    op.drop_table("erasures")
