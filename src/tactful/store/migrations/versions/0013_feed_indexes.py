"""service: indexes for the feed -- the data clock's latest insight, the decisions and outcomes
written since the bandit's evidence was last brought up to date, the insights acted on or
dismissed

Revision ID: 0013_feed_indexes
Revises: 0012_api_keys
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0013_feed_indexes"
down_revision = "0012_api_keys"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_insights_produced_at", "insights", ["produced_at"]),
    ("ix_insights_state", "insights", ["state"]),
    ("ix_decisions_created_at", "decisions", ["created_at"]),
    ("ix_outcomes_recorded_at", "outcomes", ["recorded_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, if_not_exists=True)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table, if_exists=True)
