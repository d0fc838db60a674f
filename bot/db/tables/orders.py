"""Tables: Stores, products, orders, their items, status history, tracking events, disputes, refunds and
payment attempts (0007_orders and later)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from bot.db.tables.base import ID, created_at, currency, metadata, moment, owner, parent, serial_id
from bot.db.times import UTCDateTime

# -- orders (migration 0007_orders) ------------------------------------------------------------

stores = Table(
    "stores",
    metadata,
    serial_id(),
    Column("name", String(128), nullable=False, unique=True),
    Column("seller_account", String(64)),  # the seller's Telegram account, when linked
    created_at(),
    Column("rating_x10", Integer, nullable=False, server_default="0"),  # 0015_catalog: 47 = 4.7 ★; 0 = none yet
    Column("reviews_count", Integer, nullable=False, server_default="0"),  # 0031_store_ratings
    Column("stars_x10_total", BigInteger, nullable=False, server_default="0"),  # the sum rating_x10 averages
)

products = Table(
    "products",
    metadata,
    serial_id(),
    parent("store_id", "stores"),
    Column("title", String(255), nullable=False),
    Column("category", String(64), nullable=False, server_default=""),
    Column("price_minor", BigInteger, nullable=False),
    currency(),
    Column("image_file_id", String(255)),
    created_at(),
    # 0015_catalog: the catalog's product card
    Column("title_ru", String(255), nullable=False, server_default=""),  # "" = the title for every language
    Column("old_price_minor", BigInteger),  # the price before a discount, shown struck through
    Column("rating_x10", Integer, nullable=False, server_default="0"),
    Column("reviews_count", Integer, nullable=False, server_default="0"),
    Column("options", Text, nullable=False, server_default="{}"),  # JSON {"colour": ["black", …], "size": […]}
    Column("image_path", String(255)),  # a picture shipped with the demo data, uploaded once → image_file_id
    Column("active", Boolean, nullable=False, server_default="1"),  # off: no longer sold (kept for history)
    Column("updated_at", UTCDateTime),
    Column("stars_x10_total", BigInteger, nullable=False, server_default="0"),  # 0031: the sum rating_x10 averages
)
Index("ux_products_store_title", products.c.store_id, products.c.title, unique=True)
Index("ix_products_category_price", products.c.category, products.c.price_minor)

# An order keeps snapshots of what it was placed with (titles, prices, the address, the card), so
# later edits of a product, an address or a card never rewrite history.
orders = Table(
    "orders",
    metadata,
    serial_id(),
    Column("number", String(24), nullable=False, unique=True),  # what the buyer sees
    owner(),
    Column("store_id", ID, ForeignKey("stores.id"), nullable=False),
    Column("status", String(24), nullable=False),
    currency(),
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
    created_at(),
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
    # migration 0008_links
    Column("address_id", Integer, ForeignKey("addresses.id", ondelete="SET NULL")),
    Column("paid_charge_id", String(64)),
    Column("pay_attempts", Integer, nullable=False, server_default="0"),
    Column("discount_minor", BigInteger, nullable=False, server_default="0"),  # 0016: the coupons at checkout
    # 0024: what gift certificates paid of the total at checkout (the card pays the rest)
    Column("certificate_minor", BigInteger, nullable=False, server_default="0"),
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
# the delete warnings: orders placed with an address, orders paid with a card
Index("ix_orders_address", orders.c.address_id, sqlite_where=orders.c.address_id.is_not(None))
Index("ix_orders_paid_card", orders.c.paid_card_id, sqlite_where=orders.c.paid_card_id.is_not(None))
# seller mode (0017_seller_mode): a store's orders by status — to ship (oldest paid first), in dispute
Index("ix_orders_store_status", orders.c.store_id, orders.c.status, orders.c.paid_at)
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
    serial_id(),
    parent("order_id", "orders"),
    Column("position", Integer, nullable=False),
    Column("product_id", ID, ForeignKey("products.id", ondelete="SET NULL")),
    Column("title", String(255), nullable=False),
    Column("options", Text, nullable=False, server_default="[]"),  # JSON [[name, value], …]
    Column("quantity", Integer, nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
)
Index("ix_order_items_order", order_items.c.order_id, order_items.c.position)

order_status_history = Table(
    "order_status_history",
    metadata,
    serial_id(),
    parent("order_id", "orders"),
    Column("status", String(24), nullable=False),
    Column("actor", String(16), nullable=False),  # buyer, seller, system, platform
    Column("note", String(255)),
    moment("at"),
)
Index("ix_order_status_history_order", order_status_history.c.order_id, order_status_history.c.id)

tracking_events = Table(
    "tracking_events",
    metadata,
    serial_id(),
    parent("order_id", "orders"),
    moment("at"),
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
    serial_id(),
    Column("order_id", ID, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, unique=True),
    owner(),
    Column("reason", String(24), nullable=False),
    Column("description", Text, nullable=False),
    Column("outcome", String(24), nullable=False),  # what the buyer asked for
    Column("amount_minor", BigInteger, nullable=False),  # the refund asked for
    currency(),
    Column("photos", Text, nullable=False, server_default="[]"),  # JSON list of Telegram file ids
    # open → answered (reject / offer) → escalated → closed; open → returning → closed (a return)
    Column("state", String(16), nullable=False),
    Column("seller_answer", String(16)),  # accept, reject, offer
    Column("offer_minor", BigInteger),
    Column("seller_note", Text),
    Column("resolution", String(24)),  # refunded_full, refunded_partial, rejected
    Column("refund_minor", BigInteger),
    Column("priority", Integer, nullable=False, server_default="0"),
    moment("decide_by"),
    moment("opened_at"),
    Column("answered_at", UTCDateTime),
    Column("escalated_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    # a return the store accepted: sent back by this day, with this track number, on this day
    Column("return_by", UTCDateTime),
    Column("return_track", String(40)),
    Column("returned_at", UTCDateTime),
    Column("return_problem", Text),  # the store: it did not come back as sent (the platform decides)
)
Index("ix_disputes_user", disputes.c.user_id, disputes.c.opened_at)
Index("ix_disputes_state_due", disputes.c.state, disputes.c.decide_by)  # the overdue ones (the sweeper)

refunds = Table(
    "refunds",
    metadata,
    serial_id(),
    parent("order_id", "orders"),
    owner(),
    Column("dispute_id", ID, ForeignKey("disputes.id", ondelete="SET NULL")),
    Column("amount_minor", BigInteger, nullable=False),
    currency(),
    Column("reason", String(16), nullable=False),  # cancel, dispute, seller
    # where the money goes: card, bank_account (the card expired or was deleted), original
    Column("destination", String(16), nullable=False),
    Column("card_state", String(16), nullable=False),
    Column("card_id", Integer),
    Column("card_brand", String(24)),
    Column("card_last4", String(4)),
    Column("state", String(16), nullable=False),  # pending → completed
    created_at(),
    moment("expected_at"),
    Column("completed_at", UTCDateTime),
    # the payout through the payment gateway (0010_refund_payouts): the charge it returns, the
    # gateway's refund once accepted, and the sweeper's next try (NULL: nothing for it to do)
    Column("charge_id", String(64)),
    Column("gateway_refund_id", String(64)),
    Column("submitted_at", UTCDateTime),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime),
    Column("last_error", String(120)),
)
Index("ix_refunds_order", refunds.c.order_id)
Index("ix_refunds_user", refunds.c.user_id, refunds.c.created_at)
# the card-delete warning: refunds still pending to a card
Index("ix_refunds_card_pending", refunds.c.card_id, sqlite_where=refunds.c.state == "pending")
# the sweeper: pending refunds due to be sent to the gateway or asked about
Index("ix_refunds_due", refunds.c.next_attempt_at,
      sqlite_where=(refunds.c.state == "pending") & refunds.c.next_attempt_at.is_not(None))

# Every charge request to the payment gateway (0011_payment_attempts), recorded in its own unit of
# work before the gateway is called and settled after it: record, then call, then reconcile. An
# attempt left `started` (the process died, the database refused the outcome, the gateway did not
# answer) is asked about by its idempotency key by the sweeper, which completes the payment or
# gives the money back; an unpaid order with such an attempt is never cancelled by the clock.
#   started → succeeded | declined | failed | voiding → voided
# The card is a snapshot (what the order records once paid); never a number or a token.
payment_attempts = Table(
    "payment_attempts",
    metadata,
    serial_id(),
    parent("order_id", "orders"),
    owner(),
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("gateway", String(16), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    currency(),
    Column("card_id", Integer),  # a saved card; None: a card used for this payment only
    Column("card_brand", String(24), nullable=False),
    Column("card_last4", String(4), nullable=False),
    Column("card_exp_month", Integer),
    Column("card_exp_year", Integer),
    Column("card_kept", Boolean, nullable=False, server_default="1"),
    Column("state", String(12), nullable=False),
    Column("charge_id", String(64)),  # the gateway's charge, once known
    created_at(),
    Column("finished_at", UTCDateTime),
    Column("checks", Integer, nullable=False, server_default="0"),  # the sweeper's failed asks
    Column("next_check_at", UTCDateTime),  # when the sweeper may ask the gateway (started, voiding)
    Column("last_error", String(120)),
    CheckConstraint(
        "state IN ('started', 'succeeded', 'declined', 'failed', 'voiding', 'voided')",
        name="ck_payment_attempts_state",
    ),
)
Index("ix_payment_attempts_order", payment_attempts.c.order_id, payment_attempts.c.id)
# the sweeper: the attempts whose outcome is unknown, or whose money is still to be given back
Index("ix_payment_attempts_due", payment_attempts.c.next_check_at,
      sqlite_where=payment_attempts.c.state.in_(("started", "voiding")))
