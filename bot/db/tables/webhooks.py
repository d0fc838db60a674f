"""Table: the buyer's actions a shop asked to be told of, each POSTed to the shop's webhook URL
(0020_webhooks)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text, text

from bot.db.tables.base import ID, metadata
from bot.db.times import UTCDateTime

# One event for one shop: pending until the shop answers 2xx (sent), or given up (failed).
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("shop_id", ID, ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", String(40), nullable=False, unique=True),  # "evt_…": the shop's de-duplication key
    Column("event", String(40), nullable=False),
    Column("body", Text, nullable=False),  # the JSON sent, exactly as signed
    Column("state", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime),  # being sent by a delivery run until then
    Column("sent_at", UTCDateTime),
    Column("last_error", String(255)),
    CheckConstraint("state IN ('pending', 'sent', 'failed')", name="ck_webhook_deliveries_state"),
)
Index("ix_webhook_deliveries_due", webhook_deliveries.c.due_at, sqlite_where=text("state = 'pending'"))
Index("ix_webhook_deliveries_shop", webhook_deliveries.c.shop_id, webhook_deliveries.c.state)
