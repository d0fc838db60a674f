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

revision = "0019_shops"
down_revision = "0018_store_conversations"
branch_labels = None
depends_on = None

TIME = sa.String(26)  # UTCDateTime: fixed-width UTC text


def upgrade() -> None:
    op.create_table(
        "shops",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("webhook_url", sa.String(512)),
        sa.Column("webhook_secret", sa.String(128)),
    )
    op.create_table(
        "shop_stores",
        sa.Column("store_id", sa.Integer, sa.ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True,
                  autoincrement=False),
        sa.Column("shop_id", sa.Integer, sa.ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    )
    op.create_index("ix_shop_stores_shop", "shop_stores", ["shop_id"])
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("shop_id", sa.Integer, sa.ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("linked_at", TIME),
    )
    op.create_index("ux_customers_shop_external", "customers", ["shop_id", "external_id"], unique=True)
    op.create_table(
        "customer_links",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("used_at", TIME),
        sa.Column("used_by", sa.BigInteger),
    )
    op.create_table(
        "customer_orders",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("store_id", sa.Integer, sa.ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.String(24), nullable=False, unique=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id", ondelete="SET NULL"), unique=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("request", sa.Text, nullable=False, server_default="{}"),
        sa.Column("paid", sa.Text),
        sa.Column("created_at", TIME, nullable=False),
        sa.CheckConstraint("state IN ('waiting', 'placed', 'cancelled')", name="ck_customer_orders_state"),
    )
    op.create_index("ix_customer_orders_customer", "customer_orders", ["customer_id", "id"])
    op.create_index("ix_customer_orders_waiting", "customer_orders", ["customer_id"],
                    sqlite_where=sa.text("state = 'waiting'"))
    op.create_table(
        "api_idempotency",
        sa.Column("shop_id", sa.Integer, sa.ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True,
                  autoincrement=False),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_index("ix_api_idempotency_created", "api_idempotency", ["created_at"])


def downgrade() -> None:
    for table in ("api_idempotency", "customer_orders", "customer_links", "customers", "shop_stores", "shops"):
        op.drop_table(table)
