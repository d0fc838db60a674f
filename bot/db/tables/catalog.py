"""Tables: what a buyer keeps of the catalog — the wishlist, the cart, recently viewed products,
followed stores (0015_catalog). Products and stores are the orders section's tables (with the
catalog's columns); search is the SQLite FTS5 index `products_fts` over their titles, kept by
triggers (created by the migration, not here: SQLAlchemy Core has no virtual tables)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table

from bot.db.tables.base import metadata, moment, owner, parent, serial_id, user_set

# "My wishes": the price when it was added, to show what changed.
wishlist = user_set("wishlist", "product_id", "products", "added_at",
                    Column("price_at_add_minor", BigInteger, nullable=False))
Index("ix_wishlist_user", wishlist.c.user_id, wishlist.c.added_at)
Index("ix_wishlist_product", wishlist.c.product_id)

# The cart: one line per product and chosen options.
cart_items = Table(
    "cart_items",
    metadata,
    serial_id(),
    owner(),
    parent("product_id", "products"),
    Column("options", String(255), nullable=False, server_default=""),  # "colour=black;size=M", sorted
    Column("quantity", Integer, nullable=False),
    moment("added_at"),
    Column("price_at_add_minor", BigInteger, nullable=False),
)
Index("ux_cart_items_line", cart_items.c.user_id, cart_items.c.product_id, cart_items.c.options, unique=True)
Index("ix_cart_items_product", cart_items.c.product_id)

# Recently viewed: the newest view of each product; the last 100 are kept.
viewed_products = user_set("viewed_products", "product_id", "products", "viewed_at")
Index("ix_viewed_products_user", viewed_products.c.user_id, viewed_products.c.viewed_at)

# Favourite stores: `seen_at` is the last visit of the store's page (what is new is after it).
store_follows = user_set("store_follows", "store_id", "stores", "followed_at", moment("seen_at"))
Index("ix_store_follows_store", store_follows.c.store_id)
