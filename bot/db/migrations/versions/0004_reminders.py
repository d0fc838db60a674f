"""reminders: delivery bookkeeping on the outbox, notification preferences and mutes

Revision ID: 0004_reminders
Revises: 0003_addresses
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.columns import created_at, moment

revision = "0004_reminders"
down_revision = "0003_addresses"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE … ADD COLUMN: no table rebuild, the partial index ix_outbox_due stays
    op.add_column("outbox", sa.Column("expires_at", sa.String(26)))
    op.add_column("outbox", sa.Column("drop_reason", sa.String(16)))
    op.add_column("outbox", sa.Column("message_id", sa.BigInteger))
    op.add_column("outbox", sa.Column("read_at", sa.String(26)))
    # Users with a row leased (in flight) or backing off: delivery skips their other rows so that
    # a chat's messages keep their order. Only those few rows are in this index.
    op.create_index(
        "ix_outbox_leased", "outbox", ["lease_until", "user_id"],
        sqlite_where=sa.text("state IN ('pending', 'sending') AND lease_until IS NOT NULL"),
    )
    # The message centre: a user's delivered notifications, newest first.
    op.create_index(
        "ix_outbox_sent", "outbox", ["user_id", "sent_at", "id"],
        sqlite_where=sa.text("state = 'sent'"),
    )
    op.create_table(
        "notification_prefs",
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  primary_key=True, autoincrement=False),
        sa.Column("quiet_enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("quiet_start", sa.SmallInteger, nullable=False, server_default="22"),
        sa.Column("quiet_end", sa.SmallInteger, nullable=False, server_default="9"),
        sa.Column("last_reminder_at", sa.String(26)),
        moment("updated_at"),
    )
    op.create_table(
        "notification_mutes",
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(48), primary_key=True),
        created_at(),
    )


def downgrade() -> None:
    op.drop_table("notification_mutes")
    op.drop_table("notification_prefs")
    op.drop_index("ix_outbox_sent", "outbox")
    op.drop_index("ix_outbox_leased", "outbox")
    for column in ("read_at", "message_id", "drop_reason", "expires_at"):
        op.drop_column("outbox", column)  # SQLite ≥ 3.35 drops a column in place
