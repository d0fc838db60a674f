"""shops: clients of the HTTP API (a key each, stored hashed), the stores each owns, their customers
and one-time links to Telegram users, the orders placed for customers (waiting until linked), and
the answers kept for idempotency keys

Revision ID: 0019_shops
Revises: 0018_store_conversations
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.columns import TIME, created_at, one_time_token, parent, serial_id

revision = "0019_shops"
down_revision = "0018_store_conversations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shops",
        serial_id(),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        created_at(),
        sa.Column("webhook_url", sa.String(512)),
        sa.Column("webhook_secret", sa.String(128)),
    )
    op.create_table(
        "shop_stores",
        parent("store_id", "stores", key=True),
        parent("shop_id", "shops"),
    )
    op.create_index("ix_shop_stores_shop", "shop_stores", ["shop_id"])
    op.create_table(
        "customers",
        serial_id(),
        parent("shop_id", "shops"),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL")),
        created_at(),
        sa.Column("linked_at", TIME),
    )
    op.create_index("ux_customers_shop_external", "customers", ["shop_id", "external_id"], unique=True)
    op.create_table(
        "customer_links",
        serial_id(),
        parent("customer_id", "customers"),
        *one_time_token(),
    )
    op.create_table(
        "customer_orders",
        serial_id(),
        parent("customer_id", "customers"),
        parent("store_id", "stores"),
        sa.Column("number", sa.String(24), nullable=False, unique=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id", ondelete="SET NULL"), unique=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("request", sa.Text, nullable=False, server_default="{}"),
        sa.Column("paid", sa.Text),
        created_at(),
        sa.CheckConstraint("state IN ('waiting', 'placed', 'cancelled')", name="ck_customer_orders_state"),
    )
    op.create_index("ix_customer_orders_customer", "customer_orders", ["customer_id", "id"])
    op.create_index("ix_customer_orders_waiting", "customer_orders", ["customer_id"],
                    sqlite_where=sa.text("state = 'waiting'"))
    op.create_table(
        "api_idempotency",
        parent("shop_id", "shops", key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        created_at(),
    )
    op.create_index("ix_api_idempotency_created", "api_idempotency", ["created_at"])


def downgrade() -> None:
    for table in ("api_idempotency", "customer_orders", "customer_links", "customers", "shop_stores", "shops"):
        op.drop_table(table)
