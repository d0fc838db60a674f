"""reviews: reviews of order items (additional review, seller reply), the loyalty points ledger
and the computed loyalty level

Revision ID: 0009_reviews
Revises: 0008_links
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.columns import TIME, created_at, moment, owner, parent, serial_id

revision = "0009_reviews"
down_revision = "0008_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reviews",
        serial_id(),
        owner(),
        parent("order_id", "orders"),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("order_items.id", ondelete="CASCADE"), nullable=False,
                  unique=True),
        sa.Column("rating", sa.SmallInteger, nullable=False),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("photos", sa.Text, nullable=False, server_default="[]"),
        created_at(),
        moment("updated_at"),
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
        serial_id(),
        owner(),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(24), nullable=False),
        sa.Column("ref_id", sa.BigInteger, nullable=False),
        sa.Column("reverses_id", sa.Integer, sa.ForeignKey("loyalty_ledger.id")),
        sa.Column("key", sa.String(64), nullable=False),
        created_at(),
        moment("effective_at"),
    )
    op.create_index("ux_loyalty_ledger_key", "loyalty_ledger", ["user_id", "key"], unique=True)
    op.create_index("ix_loyalty_ledger_user", "loyalty_ledger", ["user_id", "effective_at"])
    op.create_index("ix_loyalty_ledger_reverses", "loyalty_ledger", ["reverses_id"],
                    sqlite_where=sa.text("reverses_id IS NOT NULL"))

    op.create_table(
        "loyalty_levels",
        owner(key=True),
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("recheck_at", TIME),
        moment("updated_at"),
    )
    op.create_index("ix_loyalty_levels_recheck", "loyalty_levels", ["recheck_at"],
                    sqlite_where=sa.text("recheck_at IS NOT NULL"))


def downgrade() -> None:
    for table in ("loyalty_levels", "loyalty_ledger", "reviews"):
        op.drop_table(table)
