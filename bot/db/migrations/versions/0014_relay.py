"""relay: stores' sellers and their one-time invites, buyer ↔ seller conversations per order, the
relayed messages and where their Telegram copies are

Revision ID: 0014_relay
Revises: 0013_group_chats
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.columns import (
    TIME,
    created_at,
    moment,
    moments,
    one_time_token,
    owner,
    parent,
    serial_id,
)

revision = "0014_relay"
down_revision = "0013_group_chats"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "store_sellers",
        parent("store_id", "stores", key=True),
        owner(key=True),
        moment("linked_at"),
    )
    op.create_index("ix_store_sellers_user", "store_sellers", ["user_id"])

    op.create_table(
        "seller_invites",
        serial_id(),
        parent("store_id", "stores"),
        *one_time_token(),
    )

    op.create_table(
        "conversations",
        serial_id(),
        parent("order_id", "orders"),
        parent("store_id", "stores"),
        owner("buyer_id"),
        sa.Column("alias", sa.String(8), nullable=False),
        created_at(),
        *moments("last_at", "buyer_blocked_at", "seller_blocked_at"),
    )
    op.create_index("ux_conversations_order_store", "conversations", ["order_id", "store_id"], unique=True)
    op.create_index("ix_conversations_buyer", "conversations", ["buyer_id", "last_at"],
                    sqlite_where=sa.text("last_at IS NOT NULL"))
    op.create_index("ix_conversations_store", "conversations", ["store_id", "last_at"],
                    sqlite_where=sa.text("last_at IS NOT NULL"))

    op.create_table(
        "relay_messages",
        serial_id(),
        sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("sender_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("masked", sa.String(32), nullable=False, server_default=""),
        sa.Column("media", sa.Text, nullable=False, server_default="[]"),
        sa.Column("source_chat_id", sa.BigInteger, nullable=False),
        sa.Column("source_message_ids", sa.Text, nullable=False, server_default="[]"),
        sa.Column("state", sa.String(8), nullable=False),
        created_at(),
        sa.Column("read_at", TIME),
        sa.CheckConstraint("direction IN ('to_seller', 'to_buyer')", name="ck_relay_messages_direction"),
        sa.CheckConstraint("state IN ('pending', 'queued')", name="ck_relay_messages_state"),
    )
    op.create_index("ix_relay_messages_conversation", "relay_messages", ["conversation_id", "created_at"])
    op.create_index("ix_relay_messages_unread", "relay_messages", ["conversation_id", "direction"],
                    sqlite_where=sa.text("read_at IS NULL"))
    op.create_index("ix_relay_messages_pending", "relay_messages", ["conversation_id"],
                    sqlite_where=sa.text("state = 'pending'"))

    op.create_table(
        "relay_copies",
        sa.Column("chat_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("message_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("relay_message_id", sa.Integer, sa.ForeignKey("relay_messages.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("original", sa.String(1), nullable=False, server_default="0"),
    )
    op.create_index("ix_relay_copies_message", "relay_copies", ["relay_message_id"])


def downgrade() -> None:
    for table in ("relay_copies", "relay_messages", "conversations", "seller_invites", "store_sellers"):
        op.drop_table(table)
