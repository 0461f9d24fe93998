"""learn: each customer score records the stage of the model version that made it

Revision ID: 0008_score_stage
Revises: 0007_erasures
Create Date: 2026-12-05

Scores written before this revision take the stage their version has now: a version still a
candidate was certainly a candidate when it scored (the registry used to fall back to the latest
candidate when none was in production), so those scores are labelled as such from now on. A
score whose version is no longer in the registry cannot be shown to have passed the gate and is
labelled a candidate.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_score_stage"
down_revision = "0007_erasures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customer_scores") as batch:
        batch.add_column(
            sa.Column(
                "model_stage", sa.String(length=16), server_default="candidate", nullable=False
            )
        )
    scores = sa.table(
        "customer_scores",
        sa.column("model_name", sa.String),
        sa.column("model_version", sa.Integer),
        sa.column("model_stage", sa.String),
    )
    models = sa.table(
        "models",
        sa.column("name", sa.String),
        sa.column("version", sa.Integer),
        sa.column("stage", sa.String),
    )
    stage_now = (
        sa.select(models.c.stage)
        .where(
            (models.c.name == scores.c.model_name) & (models.c.version == scores.c.model_version)
        )
        .scalar_subquery()
    )
    op.execute(scores.update().values(model_stage=sa.func.coalesce(stage_now, "candidate")))


def downgrade() -> None:
    with op.batch_alter_table("customer_scores") as batch:
        batch.drop_column("model_stage")
