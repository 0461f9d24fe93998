"""deliver: the outbox (one message per decision to send) and the in-app feed

Revision ID: 0011_outbox
Revises: 0010_outcomes
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_outbox"
down_revision = "0010_outcomes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("decision_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("action_id", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("adapter", sa.String(length=32), nullable=False),
        sa.Column("consent_purpose", sa.String(length=32), nullable=True),
        sa.Column("cap_exempt", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("call_to_action", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("idempotency_key", name=op.f("pk_outbox")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_outbox_decision_id")),
    )
    op.create_index("ix_outbox_customer_id", "outbox", ["customer_id"], unique=False)
    op.create_index("ix_outbox_state_next", "outbox", ["state", "next_attempt_at"],
                    unique=False)
    op.create_table(
        "feed",
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("action_id", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("call_to_action", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("idempotency_key", name=op.f("pk_feed")),
    )
    op.create_index("ix_feed_customer_available", "feed", ["customer_id", "available_at"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_feed_customer_available", table_name="feed")
    op.drop_table("feed")
    op.drop_index("ix_outbox_state_next", table_name="outbox")
    op.drop_index("ix_outbox_customer_id", table_name="outbox")
    op.drop_table("outbox")
