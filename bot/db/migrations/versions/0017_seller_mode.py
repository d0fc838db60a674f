"""seller mode: a store's orders by status (orders to ship, disputes waiting for the seller, the
orders its reviews are on) and the reviews still without the seller's reply

Revision ID: 0017_seller_mode
Revises: 0016_order_discount
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_seller_mode"
down_revision = "0016_order_discount"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_orders_store_status", "orders", ["store_id", "status", "paid_at"])
    op.create_index("ix_reviews_unanswered", "reviews", ["order_id"], sqlite_where=sa.text("reply_text IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_reviews_unanswered", "reviews")
    op.drop_index("ix_orders_store_status", "orders")
