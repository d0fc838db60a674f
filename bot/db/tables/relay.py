"""Tables: sellers of stores and their invites, buyer ↔ seller conversations, the relayed messages
and the Telegram copies of them (0014_relay)."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, String, Table, Text

from bot.db.tables.base import created_at, metadata, moment, owner, parent, serial_id
from bot.db.times import UTCDateTime

# A store's sellers: Telegram users of this bot who answer for the store (a store may have several).
store_sellers = Table(
    "store_sellers",
    metadata,
    parent("store_id", "stores", key=True),
    owner(key=True),
    moment("linked_at"),
)
Index("ix_store_sellers_user", store_sellers.c.user_id)

# One-time invites that make whoever opens them a store's seller. Only the token's SHA-256 is kept.
seller_invites = Table(
    "seller_invites",
    metadata,
    serial_id(),
    parent("store_id", "stores"),
    Column("token_hash", String(64), nullable=False, unique=True),
    created_at(),
    moment("expires_at"),
    Column("used_at", UTCDateTime),
    Column("used_by", BigInteger),
)

# One conversation per (order, store), or per (buyer, store) before any order (a question from a
# product or store page: `order_id` NULL). The buyer is known to the seller only by `alias`.
conversations = Table(
    "conversations",
    metadata,
    serial_id(),
    parent("order_id", "orders", optional=True),  # 0018: NULL before an order
    parent("store_id", "stores"),
    owner("buyer_id"),
    Column("alias", String(8), nullable=False),  # random, never derived from who the buyer is
    created_at(),
    Column("last_at", UTCDateTime),  # the last message; NULL: nothing written yet
    Column("buyer_blocked_at", UTCDateTime),  # the buyer blocked the seller's side
    Column("seller_blocked_at", UTCDateTime),  # the seller blocked the buyer
)
Index("ux_conversations_order_store", conversations.c.order_id, conversations.c.store_id, unique=True)
Index("ux_conversations_buyer_store", conversations.c.buyer_id, conversations.c.store_id, unique=True,
      sqlite_where=conversations.c.order_id.is_(None))
Index("ix_conversations_buyer", conversations.c.buyer_id, conversations.c.last_at,
      sqlite_where=conversations.c.last_at.is_not(None))
Index("ix_conversations_store", conversations.c.store_id, conversations.c.last_at,
      sqlite_where=conversations.c.last_at.is_not(None))

# Every message written in a conversation, as stored (text and captions already masked).
relay_messages = Table(
    "relay_messages",
    metadata,
    serial_id(),
    parent("conversation_id", "conversations"),
    Column("direction", String(10), nullable=False),  # to_seller, to_buyer
    Column("sender_id", BigInteger, nullable=False),  # never shown to the other side
    Column("kind", String(10), nullable=False),  # text, photo, document, voice, album
    Column("text", Text, nullable=False, server_default=""),  # the text or caption, masked
    Column("masked", String(32), nullable=False, server_default=""),  # what was masked: "card,code"
    Column("media", Text, nullable=False, server_default="[]"),  # JSON [[type, file_id], …]
    Column("source_chat_id", BigInteger, nullable=False),
    Column("source_message_ids", Text, nullable=False, server_default="[]"),  # JSON, an album's too
    Column("state", String(8), nullable=False),  # pending (no seller yet) → queued (in the outbox)
    created_at(),
    Column("read_at", UTCDateTime),  # read by the receiving side
    CheckConstraint("direction IN ('to_seller', 'to_buyer')", name="ck_relay_messages_direction"),
    CheckConstraint("state IN ('pending', 'queued')", name="ck_relay_messages_state"),
)
Index("ix_relay_messages_conversation", relay_messages.c.conversation_id, relay_messages.c.created_at)
Index("ix_relay_messages_unread", relay_messages.c.conversation_id, relay_messages.c.direction,
      sqlite_where=relay_messages.c.read_at.is_(None))
Index("ix_relay_messages_pending", relay_messages.c.conversation_id,
      sqlite_where=relay_messages.c.state == "pending")

# Where each message is in Telegram: the sender's original(s) and every copy delivered, so that a
# native reply to either finds its conversation.
relay_copies = Table(
    "relay_copies",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("message_id", BigInteger, primary_key=True, autoincrement=False),
    parent("relay_message_id", "relay_messages"),
    Column("original", String(1), nullable=False, server_default="0"),  # "1": the sender's own message
)
Index("ix_relay_copies_message", relay_copies.c.relay_message_id)
