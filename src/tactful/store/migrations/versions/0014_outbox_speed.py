"""deliver: decisions.outboxed_at and a partial index of the decisions the outbox has not
looked at yet, so enqueueing reads the new decisions instead of the whole table

Revision ID: 0014_outbox_speed
Revises: 0013_feed_indexes
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_outbox_speed"
down_revision = "0013_feed_indexes"
branch_labels = None
depends_on = None

_NOT_OUTBOXED = sa.text("outboxed_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("outboxed_at", sa.DateTime(timezone=True), nullable=True))
    # Decisions the outbox already handled (a message exists, or silence: nothing to send)
    # leave the index at once; only the ones still to enqueue stay in it.
    op.execute(
        "UPDATE decisions SET outboxed_at = created_at WHERE silent "
        "OR decision_id IN (SELECT decision_id FROM outbox)")
    op.create_index("ix_decisions_not_outboxed", "decisions", ["send_at", "decision_id"],
                    sqlite_where=_NOT_OUTBOXED, postgresql_where=_NOT_OUTBOXED)


def downgrade() -> None:
    op.drop_index("ix_decisions_not_outboxed", table_name="decisions")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("outboxed_at")
