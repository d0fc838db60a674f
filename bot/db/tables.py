"""Tables as SQLAlchemy Core objects. Migrations in `migrations/versions` create them."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, MetaData, String, Table, Text

from bot.db.types import UTCDateTime

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),  # the Telegram user id
    Column("first_name", String(128), nullable=False, server_default=""),
    Column("username", String(64)),
    Column("locale", String(8), nullable=False),
    Column("time_zone", String(64), nullable=False, server_default="UTC"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("unreachable_since", UTCDateTime),
)

fsm_states = Table(
    "fsm_states",
    metadata,
    # the whole aiogram StorageKey; None parts are stored as 0 / "" so they can be in the key
    Column("bot_id", BigInteger, primary_key=True, autoincrement=False),
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("thread_id", BigInteger, primary_key=True, autoincrement=False),
    Column("business_connection_id", String(64), primary_key=True),
    Column("destiny", String(32), primary_key=True),
    Column("state", String(128)),
    Column("data", Text, nullable=False, server_default="{}"),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index("ix_fsm_states_updated_at", fsm_states.c.updated_at)

processed_updates = Table(
    "processed_updates",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_processed_updates_created_at", processed_updates.c.created_at)



# Every push is a row, written in the same transaction as the change that causes it. Delivery
# (the reminders section) claims due rows with a lease and marks them sent.
outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(48), nullable=False),
    Column("payload", Text, nullable=False, server_default="{}"),  # JSON: what the view needs
    Column("dedupe_key", String(160), nullable=False, unique=True),
    Column("due_at", UTCDateTime, nullable=False),
    # pending → sending → sent | failed | dropped
    Column("state", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("lease_until", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
)
# Only pending/sending rows are scanned by delivery: a partial index keeps the scan off the sent
# history (DESIGN.md §3: an index on due_at alone walks it all).
Index(
    "ix_outbox_due", outbox.c.due_at, outbox.c.id,
    sqlite_where=outbox.c.state.in_(("pending", "sending")),
)
Index("ix_outbox_user", outbox.c.user_id, outbox.c.created_at)


# -- orders (migration 0003_orders) ------------------------------------------------------------
_ID = BigInteger().with_variant(Integer, "sqlite")

stores = Table(
    "stores",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("seller_account", String(64)),  # the seller's Telegram account, when linked
    Column("created_at", UTCDateTime, nullable=False),
)

products = Table(
    "products",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("store_id", _ID, ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(255), nullable=False),
    Column("category", String(64), nullable=False, server_default=""),
    Column("price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("image_file_id", String(255)),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ux_products_store_title", products.c.store_id, products.c.title, unique=True)

# An order keeps snapshots of what it was placed with (titles, prices, the address, the card), so
# later edits of a product, an address or a card never rewrite history.
orders = Table(
    "orders",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("number", String(24), nullable=False, unique=True),  # what the buyer sees
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("store_id", _ID, ForeignKey("stores.id"), nullable=False),
    Column("status", String(24), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("items_minor", BigInteger, nullable=False),
    Column("shipping_minor", BigInteger, nullable=False, server_default="0"),
    Column("total_minor", BigInteger, nullable=False),
    Column("usd_rate", String(24)),  # USD per one unit of `currency` at order time (Decimal text)
    # list summary, written once at creation (items never change): no per-row item query
    Column("first_title", String(255), nullable=False),
    Column("item_lines", Integer, nullable=False),
    Column("search_text", Text, nullable=False),  # casefolded number + titles
    Column("shipping_address", Text, nullable=False, server_default="{}"),  # JSON snapshot
    # the paying card: a reference (cards come in their own section) and a snapshot
    Column("paid_card_id", Integer),
    Column("paid_card_brand", String(24)),
    Column("paid_card_last4", String(4)),
    Column("paid_card_exp_month", Integer),
    Column("paid_card_exp_year", Integer),
    Column("track_number", String(64)),
    Column("carrier", String(32)),
    Column("cancel_reason", String(32)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("pay_by", UTCDateTime),
    Column("paid_at", UTCDateTime),
    Column("shipped_at", UTCDateTime),
    Column("delivered_at", UTCDateTime),
    Column("completed_at", UTCDateTime),
    Column("cancelled_at", UTCDateTime),
    Column("disputed_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("protection_ends_at", UTCDateTime),
    Column("tracking_checked_at", UTCDateTime),
    Column("deleted_at", UTCDateTime),
    Column("purged_at", UTCDateTime),
)
# A user's orders by status, newest first (the tabs), and all of them (the "All" tab); deleted
# orders are outside both, so counts and pages never look at them.
Index(
    "ix_orders_user_status_created", orders.c.user_id, orders.c.status, orders.c.created_at,
    sqlite_where=orders.c.deleted_at.is_(None),
)
Index(
    "ix_orders_user_created", orders.c.user_id, orders.c.created_at,
    sqlite_where=orders.c.deleted_at.is_(None),
)
Index(
    "ix_orders_user_deleted", orders.c.user_id, orders.c.deleted_at,
    sqlite_where=orders.c.deleted_at.is_not(None) & orders.c.purged_at.is_(None),
)
# due transitions: only the orders that can be due are in these indexes
Index("ix_orders_pay_by", orders.c.pay_by, sqlite_where=orders.c.status == "awaiting_payment")
Index(
    "ix_orders_protection", orders.c.protection_ends_at, sqlite_where=orders.c.status == "shipped"
)
Index(
    "ix_orders_tracking", orders.c.tracking_checked_at,
    sqlite_where=(orders.c.status == "shipped") & orders.c.track_number.is_not(None),
)

order_items = Table(
    "order_items",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("order_id", _ID, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("product_id", _ID, ForeignKey("products.id", ondelete="SET NULL")),
    Column("title", String(255), nullable=False),
    Column("options", Text, nullable=False, server_default="[]"),  # JSON [[name, value], …]
    Column("quantity", Integer, nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
)
Index("ix_order_items_order", order_items.c.order_id, order_items.c.position)

order_status_history = Table(
    "order_status_history",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("order_id", _ID, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(24), nullable=False),
    Column("actor", String(16), nullable=False),  # buyer, seller, system, platform
    Column("note", String(255)),
    Column("at", UTCDateTime, nullable=False),
)
Index("ix_order_status_history_order", order_status_history.c.order_id, order_status_history.c.id)

tracking_events = Table(
    "tracking_events",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("order_id", _ID, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("code", String(32), nullable=False),
    Column("location", String(128), nullable=False, server_default=""),
    Column("description", String(255), nullable=False, server_default=""),
    Column("source", String(16), nullable=False),  # carrier or operator
)
Index("ux_tracking_events", tracking_events.c.order_id, tracking_events.c.at, tracking_events.c.code,
      unique=True)

disputes = Table(
    "disputes",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("order_id", _ID, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("reason", String(24), nullable=False),
    Column("description", Text, nullable=False),
    Column("outcome", String(24), nullable=False),  # what the buyer asked for
    Column("amount_minor", BigInteger, nullable=False),  # the refund asked for
    Column("currency", String(3), nullable=False),
    Column("photos", Text, nullable=False, server_default="[]"),  # JSON list of Telegram file ids
    # open → answered (reject / offer) → escalated → closed
    Column("state", String(16), nullable=False),
    Column("seller_answer", String(16)),  # accept, reject, offer
    Column("offer_minor", BigInteger),
    Column("seller_note", Text),
    Column("resolution", String(24)),  # refunded_full, refunded_partial, rejected
    Column("refund_minor", BigInteger),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("decide_by", UTCDateTime, nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("answered_at", UTCDateTime),
    Column("escalated_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
)
Index("ix_disputes_user", disputes.c.user_id, disputes.c.opened_at)

refunds = Table(
    "refunds",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("order_id", _ID, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("dispute_id", _ID, ForeignKey("disputes.id", ondelete="SET NULL")),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reason", String(16), nullable=False),  # cancel, dispute, seller
    # where the money goes: card, bank_account (the card expired or was deleted), original
    Column("destination", String(16), nullable=False),
    Column("card_state", String(16), nullable=False),
    Column("card_id", Integer),
    Column("card_brand", String(24)),
    Column("card_last4", String(4)),
    Column("state", String(16), nullable=False),  # pending → completed
    Column("created_at", UTCDateTime, nullable=False),
    Column("expected_at", UTCDateTime, nullable=False),
    Column("completed_at", UTCDateTime),
)
Index("ix_refunds_order", refunds.c.order_id)
Index("ix_refunds_user", refunds.c.user_id, refunds.c.created_at)
