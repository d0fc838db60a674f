"""addresses: a buyer's address book, at most one default a user

Revision ID: 0003_addresses
Revises: 0002_outbox
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_addresses"
down_revision = "0002_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "addresses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("recipient", sa.String(60), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("region", sa.String(64), nullable=False, server_default=""),
        sa.Column("city", sa.String(64), nullable=False, server_default=""),
        sa.Column("street", sa.String(128), nullable=False, server_default=""),
        sa.Column("apartment", sa.String(24), nullable=False, server_default=""),
        sa.Column("postal_code", sa.String(16), nullable=False, server_default=""),
        sa.Column("is_default", sa.Boolean(create_constraint=False), nullable=False, server_default="0"),
        sa.Column("created_at", sa.String(26), nullable=False),
        sa.Column("updated_at", sa.String(26), nullable=False),
    )
    op.create_index("ix_addresses_user", "addresses", ["user_id", "created_at", "id"])
    op.create_index(
        "ux_addresses_default", "addresses", ["user_id"], unique=True,
        sqlite_where=sa.text("is_default = 1"),
    )


def downgrade() -> None:
    op.drop_table("addresses")
