"""an order a shop placed for a customer not yet linked, cancelled while it waited, keeps when

Revision ID: 0030_waiting_cancelled_at
Revises: 0029_product_ratings
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

from bot.db.migrations.columns import moments

revision = "0030_waiting_cancelled_at"
down_revision = "0029_product_ratings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # those cancelled before this revision stay without a moment: it was not kept
    with op.batch_alter_table("customer_orders") as batch:
        for column in moments("cancelled_at"):
            batch.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("customer_orders") as batch:
        batch.drop_column("cancelled_at")
