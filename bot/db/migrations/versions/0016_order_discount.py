"""order discount: what the coupons used at checkout took off an order (total = items + shipping −
discount)

Revision ID: 0016_order_discount
Revises: 0015_catalog
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_order_discount"
down_revision = "0015_catalog"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("discount_minor", sa.BigInteger, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("discount_minor")
