"""runs: owner and heartbeat on every run row, run locks, enrich resume point

Revision ID: 0006_run_liveness
Revises: 0005_import_conflicts
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_run_liveness"
down_revision = "0005_import_conflicts"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
RUN_TABLES = ("imports", "enrich_runs", "insight_runs")


def _owner_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("pid_started", sa.BigInteger(), nullable=True),
        sa.Column("heartbeat_at", TS, nullable=True),
    ]


def upgrade() -> None:
    for table in RUN_TABLES:
        with op.batch_alter_table(table) as batch:
            for column in _owner_columns():
                batch.add_column(column)
    with op.batch_alter_table("enrich_runs") as batch:
        batch.add_column(sa.Column("resume_after", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("resumed_from", sa.Integer(), nullable=True))
    op.create_table(
        "run_locks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("run_table", sa.String(length=32), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        *_owner_columns(),
        sa.Column("acquired_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_run_locks")),
    )


def downgrade() -> None:
    op.drop_table("run_locks")
    with op.batch_alter_table("enrich_runs") as batch:
        batch.drop_column("resumed_from")
        batch.drop_column("resume_after")
    for table in RUN_TABLES:
        with op.batch_alter_table(table) as batch:
            for name in ("heartbeat_at", "pid_started", "pid", "host"):
                batch.drop_column(name)
