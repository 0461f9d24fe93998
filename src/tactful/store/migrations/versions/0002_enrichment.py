"""enrichment: rules, aliases, re-categorizations, series, income, text model, runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category_confidence", sa.Float(), nullable=True))

    op.create_table(
        "category_rules",
        sa.Column("rule_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(length=128), server_default="cli", nullable=False),
        sa.PrimaryKeyConstraint("rule_id", "version", name=op.f("pk_category_rules")),
    )
    op.create_table(
        "merchant_aliases",
        sa.Column("pattern", sa.String(length=200), nullable=False),
        sa.Column("merchant", sa.String(length=200), nullable=False),
        sa.Column("category_detailed", sa.String(length=96), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("pattern", name=op.f("pk_merchant_aliases")),
    )
    op.create_table(
        "recategorizations",
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("merchant_key", sa.String(length=200), nullable=False),
        sa.Column("category_detailed", sa.String(length=96), nullable=False),
        sa.Column("transaction_id", sa.String(length=200), nullable=True),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint(
            "customer_id", "merchant_key", name=op.f("pk_recategorizations")
        ),
    )
    op.create_table(
        "recurring_series",
        sa.Column("series_id", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("merchant_key", sa.String(length=200), nullable=True),
        sa.Column("merchant", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("cadence", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("category_detailed", sa.String(length=96), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("typical_amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("last_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("amount_varies", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("first_date", sa.Date(), nullable=False),
        sa.Column("last_date", sa.Date(), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("next_date", sa.Date(), nullable=True),
        sa.Column("next_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("series_id", name=op.f("pk_recurring_series")),
    )
    op.create_index(
        op.f("ix_recurring_series_customer_id"), "recurring_series", ["customer_id"], unique=False
    )
    op.create_table(
        "series_changes",
        sa.Column("series_id", sa.String(length=200), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("old_amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("new_amount_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("series_id", "effective_date", name=op.f("pk_series_changes")),
    )
    op.create_index(
        op.f("ix_series_changes_customer_id"), "series_changes", ["customer_id"], unique=False
    )
    op.create_table(
        "income_streams",
        sa.Column("stream_id", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("merchant", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("schedule", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("typical_amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("monthly_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("first_date", sa.Date(), nullable=False),
        sa.Column("last_date", sa.Date(), nullable=False),
        sa.Column("next_date", sa.Date(), nullable=True),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("stream_id", name=op.f("pk_income_streams")),
    )
    op.create_index(
        op.f("ix_income_streams_customer_id"), "income_streams", ["customer_id"], unique=False
    )
    op.create_table(
        "income_changes",
        sa.Column("stream_id", sa.String(length=200), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("old_amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("new_amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("change", sa.String(length=8), nullable=False),
        sa.Column("change_ratio", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("stream_id", "effective_date", name=op.f("pk_income_changes")),
    )
    op.create_index(
        op.f("ix_income_changes_customer_id"), "income_changes", ["customer_id"], unique=False
    )
    op.create_table(
        "text_models",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("trained_at", TS, nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("classes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("artifact", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_models")),
    )
    op.create_table(
        "enrich_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("customers", sa.Integer(), server_default="0", nullable=False),
        sa.Column("transactions", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("updated", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("series", sa.Integer(), server_default="0", nullable=False),
        sa.Column("income_streams", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rules_version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("text_model_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrich_runs")),
    )


def downgrade() -> None:
    for table in ("enrich_runs", "text_models"):
        op.drop_table(table)
    for table in ("income_changes", "income_streams", "series_changes", "recurring_series"):
        op.drop_index(op.f(f"ix_{table}_customer_id"), table_name=table)
        op.drop_table(table)
    for table in ("recategorizations", "merchant_aliases", "category_rules"):
        op.drop_table(table)
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_column("category_confidence")
