"""addresses: a buyer's address book, at most one default a user

Revision ID: 0003_addresses
Revises: 0002_outbox
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.columns import created_at, moment, owner, serial_id

revision = "0003_addresses"
down_revision = "0002_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "addresses",
        serial_id(),
        owner(),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("recipient", sa.String(60), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("region", sa.String(64), nullable=False, server_default=""),
        sa.Column("city", sa.String(64), nullable=False, server_default=""),
        sa.Column("street", sa.String(128), nullable=False, server_default=""),
        sa.Column("apartment", sa.String(24), nullable=False, server_default=""),
        sa.Column("postal_code", sa.String(16), nullable=False, server_default=""),
        sa.Column("is_default", sa.Boolean(create_constraint=False), nullable=False, server_default="0"),
        created_at(),
        moment("updated_at"),
    )
    op.create_index("ix_addresses_user", "addresses", ["user_id", "created_at", "id"])
    op.create_index(
        "ux_addresses_default", "addresses", ["user_id"], unique=True,
        sqlite_where=sa.text("is_default = 1"),
    )


def downgrade() -> None:
    op.drop_table("addresses")
