"""a store's rating is its buyers' stars: the reviews of its orders' items, counted; and a rating
keeps the exact sum of its stars, so that it never drifts from the average

Since this revision every review of an item of a store's order moves the store's `rating_x10` and
its new `reviews_count` (`db/catalog.rate`), as reviews move their products' ratings since
0029_product_ratings. Nothing set a store's rating before, so the reviews written before are counted
here, once, with the stars in force (an additional review's, when it changed them).

Both keep `stars_x10_total`, the sum of the stars (×10) the rating averages: rebuilding it from the
rounded rating at every review let the average drift (4.33 shown as 4.5 after a dozen reviews). A
store's is the exact sum; a product's starts from its rating × its count, which is all that is
known of the rating its shop gave it.

Revision ID: 0031_store_ratings
Revises: 0030_waiting_cancelled_at
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031_store_ratings"
down_revision = "0030_waiting_cancelled_at"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stores") as batch:
        batch.add_column(sa.Column("reviews_count", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("stars_x10_total", sa.BigInteger, nullable=False, server_default="0"))
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("stars_x10_total", sa.BigInteger, nullable=False, server_default="0"))
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE products SET stars_x10_total = rating_x10 * reviews_count"))
    rows = bind.execute(sa.text(
        "SELECT o.store_id, COUNT(r.id) AS n, SUM(COALESCE(r.extra_rating, r.rating)) AS stars"
        " FROM reviews r JOIN order_items i ON i.id = r.item_id JOIN orders o ON o.id = i.order_id"
        " GROUP BY o.store_id"
    )).all()
    for store_id, count, stars in rows:
        total, count = int(stars) * 10, int(count)
        rating = max(10, min(50, (2 * total + count) // (2 * count)))  # half up, as db/catalog.rate
        bind.execute(sa.text("UPDATE stores SET rating_x10 = :r, reviews_count = :c, stars_x10_total = :t"
                             " WHERE id = :i"), {"r": rating, "c": count, "t": total, "i": store_id})


def downgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.drop_column("stars_x10_total")
    with op.batch_alter_table("stores") as batch:
        batch.drop_column("stars_x10_total")
        batch.drop_column("reviews_count")
