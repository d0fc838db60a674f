"""webhook_deliveries: the buyer's actions a shop asked to be told of, each POSTed to the shop's
webhook URL, signed, retried with backoff until accepted or given up

Revision ID: 0020_webhooks
Revises: 0019_shops
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.columns import created_at, moment, moments, parent, serial_id

revision = "0020_webhooks"
down_revision = "0019_shops"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        serial_id(),
        parent("shop_id", "shops"),
        sa.Column("event_id", sa.String(40), nullable=False, unique=True),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        created_at(),
        moment("due_at"),
        *moments("lease_until", "sent_at"),
        sa.Column("last_error", sa.String(255)),
        sa.CheckConstraint("state IN ('pending', 'sent', 'failed')", name="ck_webhook_deliveries_state"),
    )
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["due_at"],
                    sqlite_where=sa.text("state = 'pending'"))
    op.create_index("ix_webhook_deliveries_shop", "webhook_deliveries", ["shop_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_shop", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_due", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
