"""the buyers' reviews count in their products' ratings: the reviews written before that began

Since this revision a review of an order item that is a catalog product moves the product's
`rating_x10` and `reviews_count` (`db/catalog.rate`), going on from the rating the shop gave it; an
edit moves the average by the change. The reviews written before were never counted, so an edit of
one would move an average it was never in: they are counted here, once, with the stars in force
(an additional review's, when it changed them).

Revision ID: 0029_product_ratings
Revises: 0028_additional_rating
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029_product_ratings"
down_revision = "0028_additional_rating"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT p.id, p.rating_x10, p.reviews_count, COUNT(r.id) AS n,"
        " SUM(COALESCE(r.extra_rating, r.rating)) AS stars"
        " FROM reviews r JOIN order_items i ON i.id = r.item_id JOIN products p ON p.id = i.product_id"
        " GROUP BY p.id, p.rating_x10, p.reviews_count"
    )).all()
    for product_id, rating_x10, count, n, stars in rows:
        total, count = int(rating_x10) * int(count) + int(stars) * 10, int(count) + int(n)
        rating = max(10, min(50, (2 * total + count) // (2 * count)))  # half up, as db/catalog.rate
        bind.execute(sa.text("UPDATE products SET rating_x10 = :r, reviews_count = :c WHERE id = :i"),
                     {"r": rating, "c": count, "i": product_id})


def downgrade() -> None:
    """The counted reviews stay counted: a rating can't tell which of its reviews came from where."""
