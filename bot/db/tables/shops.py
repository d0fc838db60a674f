"""Tables: shops that use the HTTP API, the stores each owns, their customers and the one-time links
that tie a customer to a Telegram user, the orders placed for customers, and the answers kept for
idempotency keys (0019_shops)."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text

from bot.db.tables.base import ID, metadata
from bot.db.times import UTCDateTime

# A shop (a client of the HTTP API). Only its key's SHA-256 is kept; the key is shown once.
shops = Table(
    "shops",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    # outgoing webhooks (optional): where to POST the buyer's actions, and the HMAC secret
    Column("webhook_url", String(512)),
    Column("webhook_secret", String(128)),
)

# Which shop a store belongs to: a store has at most one shop; a shop sees only its stores' data.
shop_stores = Table(
    "shop_stores",
    metadata,
    Column("store_id", ID, ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True, autoincrement=False),
    Column("shop_id", ID, ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
)
Index("ix_shop_stores_shop", shop_stores.c.shop_id)

# A shop's customer, by the shop's own id for them; `user_id` once a Telegram user opened a link.
customers = Table(
    "customers",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("shop_id", ID, ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("external_id", String(64), nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_at", UTCDateTime, nullable=False),
    Column("linked_at", UTCDateTime),
)
Index("ux_customers_shop_external", customers.c.shop_id, customers.c.external_id, unique=True)

# One-time links (`/start l_<token>`), 24 h; only the token's SHA-256 is kept.
customer_links = Table(
    "customer_links",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("customer_id", ID, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
    Column("used_by", BigInteger),
)

# The orders a shop placed for its customers through the API. While the customer is not linked the
# order waits here (`order_id` NULL, the request kept in `request`); once linked it is placed through
# the order service with the number reserved here, and `order_id` points at it.
customer_orders = Table(
    "customer_orders",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("customer_id", ID, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("store_id", ID, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("number", String(24), nullable=False, unique=True),
    Column("order_id", ID, ForeignKey("orders.id", ondelete="SET NULL"), unique=True),
    Column("state", String(10), nullable=False),  # waiting, placed, cancelled (while waiting)
    Column("request", Text, nullable=False, server_default="{}"),  # JSON: what to place (waiting only)
    Column("paid", Text),  # JSON card snapshot: marked paid while waiting, applied when placed
    Column("created_at", UTCDateTime, nullable=False),
    Column("cancelled_at", UTCDateTime),  # cancelled while waiting: when (0030_waiting_cancelled_at)
    CheckConstraint("state IN ('waiting', 'placed', 'cancelled')", name="ck_customer_orders_state"),
)
Index("ix_customer_orders_customer", customer_orders.c.customer_id, customer_orders.c.id)
Index("ix_customer_orders_waiting", customer_orders.c.customer_id,
      sqlite_where=customer_orders.c.state == "waiting")

# What a POST answered, per shop and Idempotency-Key: the same key again gets the same answer.
api_idempotency = Table(
    "api_idempotency",
    metadata,
    Column("shop_id", ID, ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True, autoincrement=False),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),  # SHA-256 of method, path and body
    Column("status", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_api_idempotency_created", api_idempotency.c.created_at)
