"""Tables as SQLAlchemy Core objects. Migrations in `migrations/versions` create them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    and_,
    text,
    true,
)

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

# Groups and channels the bot was added to or written in: told once that it works in private chats
# (nothing else about them is kept; the row goes when the bot leaves the chat).
group_chats = Table(
    "group_chats",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("told_at", UTCDateTime, nullable=False),
)



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

# A buyer's address book: at most 5 a user (counted by the service inside its write transaction),
# exactly one default while there is any. Orders copy the address they are placed with.
addresses = Table(
    "addresses",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("country", String(2), nullable=False),  # ISO 3166-1 alpha-2
    Column("recipient", String(60), nullable=False),
    Column("phone", String(20), nullable=False),  # E.164
    Column("region", String(64), nullable=False, server_default=""),  # a subdivision key or free text
    Column("city", String(64), nullable=False, server_default=""),
    Column("street", String(128), nullable=False, server_default=""),
    Column("apartment", String(24), nullable=False, server_default=""),
    Column("postal_code", String(16), nullable=False, server_default=""),
    Column("is_default", Boolean(create_constraint=False), nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
# the list and "the most recently added remaining one"
Index("ix_addresses_user", addresses.c.user_id, addresses.c.created_at, addresses.c.id)
# at most one default a user, whatever the code does
Index(
    "ux_addresses_default", addresses.c.user_id, unique=True,
    sqlite_where=text("is_default = 1"),
)
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
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("quiet_enabled", Boolean, nullable=False, server_default=true()),
    Column("quiet_start", SmallInteger, nullable=False, server_default="22"),  # local hour
    Column("quiet_end", SmallInteger, nullable=False, server_default="9"),
    Column("last_reminder_at", UTCDateTime),  # the last reminder message (one a day)
    Column("updated_at", UTCDateTime, nullable=False),
)

# The kinds a user turned off.
notification_mutes = Table(
    "notification_mutes",
    metadata,
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("kind", String(48), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# -- coupons and gift certificates ---------------------------------------------------------------
# Every value is integer minor units + its ISO 4217 currency. A coupon is valid while
# valid_from <= now < valid_to. Stores live in the orders section's `stores` table; a store coupon
# keeps `store_id` (no foreign key: stores arrive with the orders migration) and a `store_name`
# snapshot for display, as a category condition keeps `category_name`.

# Codes an operator created: redeeming one puts a coupon or a gift certificate in the wallet.
coupon_codes = Table(
    "coupon_codes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(32), nullable=False, unique=True),  # normalised: A-Z and 0-9
    Column("kind", String(12), nullable=False),  # coupon | certificate
    Column("scope", String(12), nullable=False, server_default="platform"),  # store | platform
    Column("store_id", Integer),
    Column("store_name", String(128)),
    Column("value_kind", String(8), nullable=False, server_default="amount"),  # amount | percent
    Column("amount_minor", BigInteger),  # the coupon's amount, or the certificate's face value
    Column("percent", Integer),
    Column("cap_minor", BigInteger),
    Column("currency", String(3), nullable=False),
    Column("min_order_minor", BigInteger, nullable=False, server_default="0"),
    Column("category_id", Integer),
    Column("category_name", String(128)),
    Column("new_buyers_only", Boolean, nullable=False, server_default=text("0")),
    Column("campaign", String(64)),
    Column("title", String(128)),
    Column("valid_from", UTCDateTime, nullable=False),
    Column("valid_to", UTCDateTime, nullable=False),
    Column("max_uses", Integer),  # None: any number of users, each once
    Column("uses", Integer, nullable=False, server_default="0"),
    Column("for_user_id", BigInteger),  # a personal code: only this user may redeem it
    Column("created_at", UTCDateTime, nullable=False),
)

# A store's coupon that buyers collect from the store's page (one per buyer).
store_coupon_offers = Table(
    "store_coupon_offers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("store_id", Integer, nullable=False),
    Column("store_name", String(128), nullable=False),
    Column("value_kind", String(8), nullable=False),
    Column("amount_minor", BigInteger),
    Column("percent", Integer),
    Column("cap_minor", BigInteger),
    Column("currency", String(3), nullable=False),
    Column("min_order_minor", BigInteger, nullable=False, server_default="0"),
    Column("title", String(128)),
    Column("valid_from", UTCDateTime, nullable=False),
    Column("valid_to", UTCDateTime, nullable=False),
    Column("quantity", Integer),  # None: unlimited
    Column("collected", Integer, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_store_coupon_offers_store", store_coupon_offers.c.store_id, store_coupon_offers.c.valid_to)

coupons = Table(
    "coupons",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("scope", String(12), nullable=False),  # store | platform
    Column("store_id", Integer),
    Column("store_name", String(128)),
    Column("value_kind", String(8), nullable=False),  # amount | percent
    Column("amount_minor", BigInteger),
    Column("percent", Integer),
    Column("cap_minor", BigInteger),  # the most a percent coupon takes off
    Column("currency", String(3), nullable=False),
    Column("min_order_minor", BigInteger, nullable=False, server_default="0"),
    # special coupons' conditions
    Column("category_id", Integer),
    Column("category_name", String(128)),
    Column("new_buyers_only", Boolean, nullable=False, server_default=text("0")),
    Column("campaign", String(64)),  # one coupon per user per campaign
    Column("title", String(128)),
    Column("valid_from", UTCDateTime, nullable=False),
    Column("valid_to", UTCDateTime, nullable=False),
    Column("status", String(8), nullable=False, server_default="active"),  # active | used
    Column("used_at", UTCDateTime),
    Column("order_ref", String(64)),
    Column("source", String(8), nullable=False),  # grant | code | offer | demo
    Column("code_id", Integer, ForeignKey("coupon_codes.id", ondelete="SET NULL")),
    Column("offer_id", Integer, ForeignKey("store_coupon_offers.id", ondelete="SET NULL")),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("scope IN ('store', 'platform')", name="ck_coupons_scope"),
    CheckConstraint("scope = 'platform' OR store_id IS NOT NULL", name="ck_coupons_store"),
    CheckConstraint(
        "(value_kind = 'amount' AND amount_minor > 0) OR "
        "(value_kind = 'percent' AND percent BETWEEN 1 AND 100)",
        name="ck_coupons_value",
    ),
    CheckConstraint("status IN ('active', 'used')", name="ck_coupons_status"),
)
# the wallet's tabs and "what applies": a user's coupons by status and expiry
Index("ix_coupons_user_status", coupons.c.user_id, coupons.c.status, coupons.c.valid_to)
# give_back: the coupons an order used
Index("ix_coupons_order", coupons.c.user_id, coupons.c.order_ref,
      sqlite_where=coupons.c.order_ref.is_not(None))
Index("uq_coupons_campaign", coupons.c.user_id, coupons.c.campaign, unique=True,
      sqlite_where=coupons.c.campaign.is_not(None))
Index("uq_coupons_code", coupons.c.user_id, coupons.c.code_id, unique=True,
      sqlite_where=coupons.c.code_id.is_not(None))
Index("uq_coupons_offer", coupons.c.user_id, coupons.c.offer_id, unique=True,
      sqlite_where=coupons.c.offer_id.is_not(None))

# A gift certificate's balance is the sum of its ledger rows; it is never stored.
gift_certificates = Table(
    "gift_certificates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("face_minor", BigInteger, nullable=False),
    Column("title", String(128)),
    Column("valid_to", UTCDateTime, nullable=False),
    Column("source", String(8), nullable=False),  # grant | code | demo
    Column("code_id", Integer, ForeignKey("coupon_codes.id", ondelete="SET NULL")),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("face_minor > 0", name="ck_gift_certificates_face"),
)
Index("ix_gift_certificates_user", gift_certificates.c.user_id, gift_certificates.c.valid_to)
Index("uq_gift_certificates_code", gift_certificates.c.user_id, gift_certificates.c.code_id,
      unique=True, sqlite_where=gift_certificates.c.code_id.is_not(None))

gift_certificate_ledger = Table(
    "gift_certificate_ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("certificate_id", Integer, ForeignKey("gift_certificates.id", ondelete="CASCADE"),
           nullable=False),
    Column("kind", String(8), nullable=False),  # issue | spend | refund
    Column("delta_minor", BigInteger, nullable=False),  # + issue, refund; − spend
    Column("order_ref", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint(
        "(kind = 'spend' AND delta_minor < 0) OR (kind IN ('issue', 'refund') AND delta_minor > 0)",
        name="ck_gift_certificate_ledger_sign",
    ),
)
Index("ix_gift_certificate_ledger_cert", gift_certificate_ledger.c.certificate_id,
      gift_certificate_ledger.c.id)
Index("ix_gift_certificate_ledger_order", gift_certificate_ledger.c.order_ref,
      sqlite_where=gift_certificate_ledger.c.order_ref.is_not(None))
# one spend per certificate per order: a repeated checkout cannot take the money twice
Index("uq_gift_certificate_ledger_spend", gift_certificate_ledger.c.certificate_id,
      gift_certificate_ledger.c.order_ref, unique=True,
      sqlite_where=gift_certificate_ledger.c.kind == "spend")

# Failed code redemptions, counted against guessing (5 in 10 minutes → a pause).
coupon_code_attempts = Table(
    "coupon_code_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_coupon_code_attempts_user", coupon_code_attempts.c.user_id,
      coupon_code_attempts.c.created_at)
Index("ix_coupon_code_attempts_created", coupon_code_attempts.c.created_at)

# Bank cards: only what the payment gateway gave back (a token and a fingerprint) and what the
# wallet shows. The number and the CVC are never here. A deleted card stays as a row without its
# token, so that an old order can still say which card its refund goes to.
cards = Table(
    "cards",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("gateway", String(16), nullable=False),  # which gateway issued the token
    Column("token", String(128)),  # cleared once the gateway has forgotten a deleted card
    Column("fingerprint", String(64)),  # HMAC-SHA256 of the number; cleared on delete
    Column("brand", String(16), nullable=False),
    Column("last4", String(4), nullable=False),
    Column("exp_month", Integer, nullable=False),
    Column("exp_year", Integer, nullable=False),
    Column("holder", String(26), nullable=False),
    Column("is_default", Boolean, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("deleted_at", UTCDateTime),
    # the same card reissued (same number, new expiry) that took this one's place through Replace
    # (0012_card_replaced_by): a refund to this card still goes to a card in the wallet
    Column("replaced_by", BigInteger().with_variant(Integer, "sqlite")),
)
# the wallet: a user's cards in the order they were added
Index("ix_cards_wallet", cards.c.user_id, cards.c.created_at, sqlite_where=cards.c.deleted_at.is_(None))
# the same card twice in one wallet, and two defaults, are impossible
Index("ux_cards_fingerprint", cards.c.user_id, cards.c.fingerprint, unique=True,
      sqlite_where=cards.c.deleted_at.is_(None))
Index("ux_cards_default", cards.c.user_id, unique=True,
      sqlite_where=and_(cards.c.is_default.is_(True), cards.c.deleted_at.is_(None)))
# deleted cards whose token the gateway still has to forget
Index("ix_cards_detach", cards.c.id,
      sqlite_where=and_(cards.c.deleted_at.is_not(None), cards.c.token.is_not(None)))

# The $1 verification holds, released by the sweeper. A hold may belong to a card that was refused
# at the last moment (card_id NULL); its token is then kept here until the gateway forgets it.
card_holds = Table(
    "card_holds",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("card_id", BigInteger, ForeignKey("cards.id", ondelete="SET NULL")),
    Column("gateway", String(16), nullable=False),
    Column("gateway_hold_id", String(64), nullable=False, unique=True),
    Column("orphan_token", String(128)),
    Column("brand", String(16), nullable=False),
    Column("last4", String(4), nullable=False),
    Column("amount_minor", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("released_at", UTCDateTime),
)
Index("ix_card_holds_due", card_holds.c.due_at, sqlite_where=card_holds.c.released_at.is_(None))


# -- orders (migration 0007_orders) ------------------------------------------------------------
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
    # migration 0008_links
    Column("address_id", Integer, ForeignKey("addresses.id", ondelete="SET NULL")),
    Column("paid_charge_id", String(64)),
    Column("pay_attempts", Integer, nullable=False, server_default="0"),
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
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("order_id", _ID, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("gateway", String(16), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("card_id", Integer),  # a saved card; None: a card used for this payment only
    Column("card_brand", String(24), nullable=False),
    Column("card_last4", String(4), nullable=False),
    Column("card_exp_month", Integer),
    Column("card_exp_year", Integer),
    Column("card_kept", Boolean, nullable=False, server_default="1"),
    Column("state", String(12), nullable=False),
    Column("charge_id", String(64)),  # the gateway's charge, once known
    Column("created_at", UTCDateTime, nullable=False),
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


# -- reviews and the loyalty points ledger (0009_reviews) ---------------------------------------------

# One review per order item; the additional review and the seller's reply live on the same row.
reviews = Table(
    "reviews",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("order_id", _ID, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("item_id", _ID, ForeignKey("order_items.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("rating", SmallInteger, nullable=False),
    Column("text", Text, nullable=False, server_default=""),
    Column("photos", Text, nullable=False, server_default="[]"),  # JSON [file_id, …]
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("extra_text", Text),  # the additional review (once, within 150 days)
    Column("extra_photos", Text, nullable=False, server_default="[]"),
    Column("extra_at", UTCDateTime),
    Column("reply_text", Text),  # the seller's reply
    Column("reply_at", UTCDateTime),
    CheckConstraint("rating BETWEEN 1 AND 5", name="ck_reviews_rating"),
)
Index("ix_reviews_user", reviews.c.user_id, reviews.c.created_at, reviews.c.id)

# Points are a ledger, never a counter: every entry has a reason, a reference and an idempotency
# key; a reversal references its credit. `effective_at` is when the entry counts for the 365-day
# level window (a reversal counts from its credit's moment, so the two age out together).
loyalty_ledger = Table(
    "loyalty_ledger",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("points", Integer, nullable=False),  # negative for a reversal
    Column("reason", String(24), nullable=False),  # order, review, daily_purchase, reversal
    Column("ref_id", BigInteger, nullable=False),  # the order, order item or refund
    Column("reverses_id", _ID, ForeignKey("loyalty_ledger.id")),
    Column("key", String(64), nullable=False),  # idempotency: "order:42", "refund:7", "daily:2026-11-25"
    Column("created_at", UTCDateTime, nullable=False),
    Column("effective_at", UTCDateTime, nullable=False),
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
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("level", SmallInteger, nullable=False),
    Column("points", Integer, nullable=False),
    Column("recheck_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
)
Index("ix_loyalty_levels_recheck", loyalty_levels.c.recheck_at,
      sqlite_where=loyalty_levels.c.recheck_at.isnot(None))
