"""store conversations: a buyer may write to a store before any order (from a product or store
page) — conversations.order_id becomes nullable, one such conversation per buyer and store

Revision ID: 0018_store_conversations
Revises: 0017_seller_mode
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_store_conversations"
down_revision = "0017_seller_mode"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:  # SQLite: the table is rebuilt
        batch.alter_column("order_id", existing_type=sa.Integer, nullable=True)
    op.create_index("ux_conversations_buyer_store", "conversations", ["buyer_id", "store_id"], unique=True,
                    sqlite_where=sa.text("order_id IS NULL"))


def downgrade() -> None:
    op.drop_index("ux_conversations_buyer_store", "conversations")
    op.execute("DELETE FROM conversations WHERE order_id IS NULL")
    with op.batch_alter_table("conversations") as batch:
        batch.alter_column("order_id", existing_type=sa.Integer, nullable=False)
