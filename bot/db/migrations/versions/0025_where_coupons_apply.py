"""where coupons and certificates apply: a special coupon's category is a product category's code
(`coupons.category`, `coupon_codes.category`, as products have it) instead of an integer no product
had, so a category coupon can apply at all; a gift certificate a shop granted pays only in that
shop's stores (`gift_certificates.shop_id`; NULL: the platform's, every store)

Revision ID: 0025_where_coupons_apply
Revises: 0024_order_certificates
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025_where_coupons_apply"
down_revision = "0024_order_certificates"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


# Coupons: plain ALTER TABLE (SQLite 3.35+ drops a column in place), not a batch: a batch copies the table
# and creates its indexes again in another order, and SQLite, with no statistics, then picks
# another of two equal indexes for the give-back of an order's coupons (tests/services/test_coupons.py
# pins which).
def upgrade() -> None:
    for table in ("coupons", "coupon_codes"):
        op.add_column(table, sa.Column("category", sa.String(64)))
        # the best a stored condition can say: its name, as a code ("Phones" → "phones"); with no
        # name, a code no product has ("legacy:7"), so the condition still holds — never dropped
        op.execute(sa.text(f"UPDATE {table} SET category = CASE WHEN category_name IS NOT NULL "
                           "THEN lower(category_name) ELSE 'legacy:' || CAST(category_id AS VARCHAR(16)) END "
                           "WHERE category_id IS NOT NULL"))
        op.drop_column(table, "category_id")
    with op.batch_alter_table("gift_certificates") as batch:  # a foreign key: SQLite copies the table
        batch.add_column(sa.Column("shop_id", _ID, sa.ForeignKey("shops.id", name="fk_gift_certificates_shop",
                                                                 ondelete="CASCADE")))


def downgrade() -> None:
    with op.batch_alter_table("gift_certificates") as batch:
        batch.drop_constraint("fk_gift_certificates_shop", type_="foreignkey")
        batch.drop_column("shop_id")
    for table in ("coupons", "coupon_codes"):
        op.add_column(table, sa.Column("category_id", sa.Integer))
        op.drop_column(table, "category")
