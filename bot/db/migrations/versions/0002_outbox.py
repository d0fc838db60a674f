"""outbox: every push as a row, written with the change that causes it

Revision ID: 0002_outbox
Revises: 0001_foundation
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.columns import created_at, moment, owner, serial_id

revision = "0002_outbox"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        serial_id(),
        owner(),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("payload", sa.Text, nullable=False, server_default="{}"),
        sa.Column("dedupe_key", sa.String(160), nullable=False, unique=True),
        moment("due_at"),
        sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("lease_until", sa.String(26)),
        sa.Column("last_error", sa.Text),
        created_at(),
        sa.Column("sent_at", sa.String(26)),
    )
    op.create_index(
        "ix_outbox_due", "outbox", ["due_at", "id"],
        sqlite_where=sa.text("state IN ('pending', 'sending')"),
    )
    op.create_index("ix_outbox_user", "outbox", ["user_id", "created_at"])


def downgrade() -> None:
    op.drop_table("outbox")
