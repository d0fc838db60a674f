"""links between sections: the address an order was placed with, the charge that paid it, and
the payment attempts (each declined attempt gets a fresh idempotency key)

Revision ID: 0008_links
Revises: 0007_orders
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_links"
down_revision = "0007_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite adds a column with a REFERENCES clause in place when its default is NULL (no table
    # copy); Alembic's add_column would refuse the constraint, so this one is written out.
    integer = "BIGINT" if op.get_bind().dialect.name == "postgresql" else "INTEGER"  # 64 bits, as SQLite's
    op.execute(f"ALTER TABLE orders ADD COLUMN address_id {integer} REFERENCES addresses (id) ON DELETE SET NULL")
    op.add_column("orders", sa.Column("paid_charge_id", sa.String(64)))
    op.add_column("orders", sa.Column("pay_attempts", sa.Integer, nullable=False, server_default="0"))
    op.create_index("ix_orders_address", "orders", ["address_id"],
                    sqlite_where=sa.text("address_id IS NOT NULL"))
    op.create_index("ix_orders_paid_card", "orders", ["paid_card_id"],
                    sqlite_where=sa.text("paid_card_id IS NOT NULL"))
    op.create_index("ix_refunds_card_pending", "refunds", ["card_id"],
                    sqlite_where=sa.text("state = 'pending'"))


def downgrade() -> None:
    op.drop_index("ix_refunds_card_pending", "refunds")
    op.drop_index("ix_orders_paid_card", "orders")
    op.drop_index("ix_orders_address", "orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("pay_attempts")
        batch.drop_column("paid_charge_id")
        batch.drop_column("address_id")
