"""Tables: Reviews and the loyalty points ledger (0009_reviews)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)

from bot.db.tables.base import ID, created_at, metadata, moment, owner, parent, serial_id
from bot.db.times import UTCDateTime

# -- reviews and the loyalty points ledger (0009_reviews) ---------------------------------------------

# One review per order item; the additional review and the seller's reply live on the same row.
reviews = Table(
    "reviews",
    metadata,
    serial_id(),
    owner(),
    parent("order_id", "orders"),
    Column("item_id", ID, ForeignKey("order_items.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("rating", SmallInteger, nullable=False),
    Column("text", Text, nullable=False, server_default=""),
    Column("photos", Text, nullable=False, server_default="[]"),  # JSON [file_id, …]
    created_at(),
    moment("updated_at"),
    Column("extra_text", Text),  # the additional review (once, within 150 days)
    Column("extra_photos", Text, nullable=False, server_default="[]"),
    Column("extra_at", UTCDateTime),
    Column("extra_rating", SmallInteger),  # the additional review changed the stars to these
    Column("reply_text", Text),  # the seller's reply
    Column("reply_at", UTCDateTime),
    CheckConstraint("rating BETWEEN 1 AND 5", name="ck_reviews_rating"),
)
Index("ix_reviews_user", reviews.c.user_id, reviews.c.created_at, reviews.c.id)
# seller mode (0017_seller_mode): the reviews a store has not answered yet, found from its orders
Index("ix_reviews_unanswered", reviews.c.order_id, sqlite_where=reviews.c.reply_text.is_(None))

# Points are a ledger, never a counter: every entry has a reason, a reference and an idempotency
# key; a reversal references its credit. `effective_at` is when the entry counts for the 365-day
# level window (a reversal counts from its credit's moment, so the two age out together).
loyalty_ledger = Table(
    "loyalty_ledger",
    metadata,
    serial_id(),
    owner(),
    Column("points", Integer, nullable=False),  # negative for a reversal
    Column("reason", String(24), nullable=False),  # order, review, daily_purchase, reversal
    Column("ref_id", BigInteger, nullable=False),  # the order, order item or refund
    Column("reverses_id", ID, ForeignKey("loyalty_ledger.id")),
    Column("key", String(64), nullable=False),  # idempotency: "order:42", "refund:7", "daily:2026-11-25"
    created_at(),
    moment("effective_at"),
)
Index("ux_loyalty_ledger_key", loyalty_ledger.c.user_id, loyalty_ledger.c.key, unique=True)
Index("ix_loyalty_ledger_user", loyalty_ledger.c.user_id, loyalty_ledger.c.effective_at)
Index("ix_loyalty_ledger_reverses", loyalty_ledger.c.reverses_id,
      sqlite_where=loyalty_ledger.c.reverses_id.isnot(None))

# The level as last computed from the ledger (what `level_of` reads on every refund or dispute),
# and when ageing may change it next (the sweeper's due rows).
loyalty_levels = Table(
    "loyalty_levels",
    metadata,
    owner(key=True),
    Column("level", SmallInteger, nullable=False),
    Column("points", Integer, nullable=False),
    Column("recheck_at", UTCDateTime),
    moment("updated_at"),
)
Index("ix_loyalty_levels_recheck", loyalty_levels.c.recheck_at,
      sqlite_where=loyalty_levels.c.recheck_at.isnot(None))
