"""reviews: reviews of order items (additional review, seller reply), the loyalty points ledger
and the computed loyalty level

Revision ID: 0009_reviews
Revises: 0008_links
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_reviews"
down_revision = "0008_links"
branch_labels = None
depends_on = None

TIME = sa.String(26)  # UTCDateTime: fixed-width UTC text


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("order_items.id", ondelete="CASCADE"), nullable=False,
                  unique=True),
        sa.Column("rating", sa.SmallInteger, nullable=False),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("photos", sa.Text, nullable=False, server_default="[]"),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("extra_text", sa.Text),
        sa.Column("extra_photos", sa.Text, nullable=False, server_default="[]"),
        sa.Column("extra_at", TIME),
        sa.Column("reply_text", sa.Text),
        sa.Column("reply_at", TIME),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="ck_reviews_rating"),
    )
    op.create_index("ix_reviews_user", "reviews", ["user_id", "created_at", "id"])

    op.create_table(
        "loyalty_ledger",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(24), nullable=False),
        sa.Column("ref_id", sa.BigInteger, nullable=False),
        sa.Column("reverses_id", sa.Integer, sa.ForeignKey("loyalty_ledger.id")),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("effective_at", TIME, nullable=False),
    )
    op.create_index("ux_loyalty_ledger_key", "loyalty_ledger", ["user_id", "key"], unique=True)
    op.create_index("ix_loyalty_ledger_user", "loyalty_ledger", ["user_id", "effective_at"])
    op.create_index("ix_loyalty_ledger_reverses", "loyalty_ledger", ["reverses_id"],
                    sqlite_where=sa.text("reverses_id IS NOT NULL"))

    op.create_table(
        "loyalty_levels",
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
                  autoincrement=False),
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("recheck_at", TIME),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_index("ix_loyalty_levels_recheck", "loyalty_levels", ["recheck_at"],
                    sqlite_where=sa.text("recheck_at IS NOT NULL"))


def downgrade() -> None:
    for table in ("loyalty_levels", "loyalty_ledger", "reviews"):
        op.drop_table(table)
