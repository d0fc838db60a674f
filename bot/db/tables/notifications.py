"""Tables: The outbox (every push), notification preferences and muted kinds."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, SmallInteger, String, Table, Text, true

from bot.db.tables.base import created_at, metadata, moment, owner, serial_id
from bot.db.times import UTCDateTime

# Every push is a row, written in the same transaction as the change that causes it. Delivery
# (the reminders section) claims due rows with a lease and marks them sent.
outbox = Table(
    "outbox",
    metadata,
    serial_id(),
    owner(),
    Column("kind", String(48), nullable=False),
    Column("payload", Text, nullable=False, server_default="{}"),  # JSON: what the view needs
    Column("dedupe_key", String(160), nullable=False, unique=True),
    moment("due_at"),
    # pending → sending → sent | failed | dropped
    Column("state", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("lease_until", UTCDateTime),
    Column("last_error", Text),
    created_at(),
    Column("sent_at", UTCDateTime),
    # added by the reminders section (0004_reminders):
    Column("expires_at", UTCDateTime),  # not sent after this moment (e.g. the coupon expired)
    Column("drop_reason", String(16)),  # why a row is dropped: unreachable, muted, expired, replanned
    Column("message_id", BigInteger),  # the Telegram message that delivered it
    Column("read_at", UTCDateTime),  # opened in the message centre
)
# Only pending/sending rows are scanned by delivery: a partial index keeps the scan off the sent
# history (DESIGN.md §3: an index on due_at alone walks it all).
Index(
    "ix_outbox_due", outbox.c.due_at, outbox.c.id,
    sqlite_where=outbox.c.state.in_(("pending", "sending")),
)
Index("ix_outbox_user", outbox.c.user_id, outbox.c.created_at)

# Users with a row in flight or backing off: delivery skips their later rows to keep a chat's order.
Index(
    "ix_outbox_leased", outbox.c.lease_until, outbox.c.user_id,
    sqlite_where=outbox.c.state.in_(("pending", "sending")) & outbox.c.lease_until.is_not(None),
)
# The message centre: a user's delivered notifications, newest first.
Index(
    "ix_outbox_sent", outbox.c.user_id, outbox.c.sent_at, outbox.c.id,
    sqlite_where=outbox.c.state == "sent",
)

# Notification preferences; no row means the defaults (quiet hours 22–9, every kind on).
notification_prefs = Table(
    "notification_prefs",
    metadata,
    owner(key=True),
    Column("quiet_enabled", Boolean, nullable=False, server_default=true()),
    Column("quiet_start", SmallInteger, nullable=False, server_default="22"),  # local hour
    Column("quiet_end", SmallInteger, nullable=False, server_default="9"),
    Column("last_reminder_at", UTCDateTime),  # the last reminder message (one a day)
    moment("updated_at"),
)

# The kinds a user turned off.
notification_mutes = Table(
    "notification_mutes",
    metadata,
    owner(key=True),
    Column("kind", String(48), primary_key=True),
    created_at(),
)
