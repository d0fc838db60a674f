"""Tables as SQLAlchemy Core objects, one module per domain, all on one `metadata`. Migrations in
`migrations/versions` create them; `from bot.db.tables import orders` keeps working for every table."""

from __future__ import annotations

from bot.db.tables.addresses import addresses
from bot.db.tables.base import ID, metadata
from bot.db.tables.cards import card_holds, cards
from bot.db.tables.catalog import cart_items, store_follows, viewed_products, wishlist
from bot.db.tables.core import fsm_states, group_chats, processed_updates, users
from bot.db.tables.coupons import (
    coupon_code_attempts,
    coupon_codes,
    coupons,
    gift_certificate_ledger,
    gift_certificates,
    store_coupon_offers,
)
from bot.db.tables.jobs import job_leases
from bot.db.tables.notifications import notification_mutes, notification_prefs, outbox
from bot.db.tables.orders import (
    disputes,
    order_items,
    order_status_history,
    orders,
    payment_attempts,
    products,
    refunds,
    stores,
    tracking_events,
)
from bot.db.tables.relay import conversations, relay_copies, relay_messages, seller_invites, store_sellers
from bot.db.tables.reviews import loyalty_ledger, loyalty_levels, reviews
from bot.db.tables.shops import (
    api_idempotency,
    customer_links,
    customer_orders,
    customers,
    shop_stores,
    shops,
)
from bot.db.tables.webhooks import webhook_deliveries


def _integers_are_64_bits() -> None:
    """SQLite's INTEGER is 64 bits, PostgreSQL's 32: every column declared `Integer` here is a
    BIGINT on PostgreSQL (as the migrations create it there: migrations/portable.py), so a bound
    value is never cast to a 32-bit integer — an id read from a button may be any 64-bit number."""
    from sqlalchemy import Integer

    for table in metadata.tables.values():
        for column in table.columns:
            if type(column.type) is Integer:
                column.type = ID


_integers_are_64_bits()

__all__ = [
    "ID",
    "addresses",
    "api_idempotency",
    "card_holds",
    "cards",
    "cart_items",
    "conversations",
    "coupon_code_attempts",
    "coupon_codes",
    "coupons",
    "customer_links",
    "customer_orders",
    "customers",
    "disputes",
    "fsm_states",
    "gift_certificate_ledger",
    "gift_certificates",
    "group_chats",
    "job_leases",
    "loyalty_ledger",
    "loyalty_levels",
    "metadata",
    "notification_mutes",
    "notification_prefs",
    "order_items",
    "order_status_history",
    "orders",
    "outbox",
    "payment_attempts",
    "processed_updates",
    "products",
    "refunds",
    "relay_copies",
    "relay_messages",
    "reviews",
    "seller_invites",
    "shop_stores",
    "shops",
    "store_coupon_offers",
    "store_follows",
    "store_sellers",
    "stores",
    "tracking_events",
    "users",
    "viewed_products",
    "webhook_deliveries",
    "wishlist",
]
