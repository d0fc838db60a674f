"""orders: stores, products, orders with snapshots, items, status history, tracking, disputes,
refunds

Revision ID: 0007_orders
Revises: 0006_cards
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.columns import TIME, created_at, moment, moments, owner, parent, serial_id

revision = "0007_orders"
down_revision = "0006_cards"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stores",
        serial_id(),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("seller_account", sa.String(64)),
        created_at(),
    )
    op.create_table(
        "products",
        serial_id(),
        parent("store_id", "stores"),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("category", sa.String(64), nullable=False, server_default=""),
        sa.Column("price_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("image_file_id", sa.String(255)),
        created_at(),
    )
    op.create_index("ux_products_store_title", "products", ["store_id", "title"], unique=True)

    op.create_table(
        "orders",
        serial_id(),
        sa.Column("number", sa.String(24), nullable=False, unique=True),
        owner(),
        sa.Column("store_id", sa.Integer, sa.ForeignKey("stores.id"), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("items_minor", sa.BigInteger, nullable=False),
        sa.Column("shipping_minor", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("total_minor", sa.BigInteger, nullable=False),
        sa.Column("usd_rate", sa.String(24)),
        sa.Column("first_title", sa.String(255), nullable=False),
        sa.Column("item_lines", sa.Integer, nullable=False),
        sa.Column("search_text", sa.Text, nullable=False),
        sa.Column("shipping_address", sa.Text, nullable=False, server_default="{}"),
        sa.Column("paid_card_id", sa.Integer),
        sa.Column("paid_card_brand", sa.String(24)),
        sa.Column("paid_card_last4", sa.String(4)),
        sa.Column("paid_card_exp_month", sa.Integer),
        sa.Column("paid_card_exp_year", sa.Integer),
        sa.Column("track_number", sa.String(64)),
        sa.Column("carrier", sa.String(32)),
        sa.Column("cancel_reason", sa.String(32)),
        created_at(),
        *moments("pay_by", "paid_at", "shipped_at", "delivered_at", "completed_at", "cancelled_at", "disputed_at", "closed_at", "protection_ends_at", "tracking_checked_at", "deleted_at", "purged_at"),
    )
    op.create_index(
        "ix_orders_user_status_created", "orders", ["user_id", "status", "created_at"],
        sqlite_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_orders_user_created", "orders", ["user_id", "created_at"],
        sqlite_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_orders_user_deleted", "orders", ["user_id", "deleted_at"],
        sqlite_where=sa.text("deleted_at IS NOT NULL AND purged_at IS NULL"),
    )
    op.create_index(
        "ix_orders_pay_by", "orders", ["pay_by"], sqlite_where=sa.text("status = 'awaiting_payment'")
    )
    op.create_index(
        "ix_orders_protection", "orders", ["protection_ends_at"],
        sqlite_where=sa.text("status = 'shipped'"),
    )
    op.create_index(
        "ix_orders_tracking", "orders", ["tracking_checked_at"],
        sqlite_where=sa.text("status = 'shipped' AND track_number IS NOT NULL"),
    )

    op.create_table(
        "order_items",
        serial_id(),
        parent("order_id", "orders"),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("product_id", sa.Integer, sa.ForeignKey("products.id", ondelete="SET NULL")),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("options", sa.Text, nullable=False, server_default="[]"),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_order_items_order", "order_items", ["order_id", "position"])

    op.create_table(
        "order_status_history",
        serial_id(),
        parent("order_id", "orders"),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("actor", sa.String(16), nullable=False),
        sa.Column("note", sa.String(255)),
        moment("at"),
    )
    op.create_index("ix_order_status_history_order", "order_status_history", ["order_id", "id"])

    op.create_table(
        "tracking_events",
        serial_id(),
        parent("order_id", "orders"),
        moment("at"),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("location", sa.String(128), nullable=False, server_default=""),
        sa.Column("description", sa.String(255), nullable=False, server_default=""),
        sa.Column("source", sa.String(16), nullable=False),
    )
    op.create_index("ux_tracking_events", "tracking_events", ["order_id", "at", "code"], unique=True)

    op.create_table(
        "disputes",
        serial_id(),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False,
                  unique=True),
        owner(),
        sa.Column("reason", sa.String(24), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("photos", sa.Text, nullable=False, server_default="[]"),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("seller_answer", sa.String(16)),
        sa.Column("offer_minor", sa.BigInteger),
        sa.Column("seller_note", sa.Text),
        sa.Column("resolution", sa.String(24)),
        sa.Column("refund_minor", sa.BigInteger),
        sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
        moment("decide_by"),
        moment("opened_at"),
        *moments("answered_at", "escalated_at", "closed_at"),
    )
    op.create_index("ix_disputes_user", "disputes", ["user_id", "opened_at"])

    op.create_table(
        "refunds",
        serial_id(),
        parent("order_id", "orders"),
        owner(),
        sa.Column("dispute_id", sa.Integer, sa.ForeignKey("disputes.id", ondelete="SET NULL")),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("destination", sa.String(16), nullable=False),
        sa.Column("card_state", sa.String(16), nullable=False),
        sa.Column("card_id", sa.Integer),
        sa.Column("card_brand", sa.String(24)),
        sa.Column("card_last4", sa.String(4)),
        sa.Column("state", sa.String(16), nullable=False),
        created_at(),
        moment("expected_at"),
        sa.Column("completed_at", TIME),
    )
    op.create_index("ix_refunds_order", "refunds", ["order_id"])
    op.create_index("ix_refunds_user", "refunds", ["user_id", "created_at"])


def downgrade() -> None:
    for table in ("refunds", "disputes", "tracking_events", "order_status_history", "order_items",
                  "orders", "products", "stores"):
        op.drop_table(table)
