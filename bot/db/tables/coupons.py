"""Tables: Coupons, codes, store coupon offers, gift certificates and their ledger, failed code attempts."""

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
    false,
)

from bot.db.tables.base import ID, created_at, currency, metadata, moment, owner, serial_id
from bot.db.times import UTCDateTime

# -- coupons and gift certificates ---------------------------------------------------------------
# Every value is integer minor units + its ISO 4217 currency. A coupon is valid while
# valid_from <= now < valid_to. Stores live in the orders section's `stores` table; a store coupon
# keeps `store_id` (no foreign key: stores arrive with the orders migration) and a `store_name`
# snapshot for display, as a category condition keeps `category_name`.

# Codes an operator created: redeeming one puts a coupon or a gift certificate in the wallet.
coupon_codes = Table(
    "coupon_codes",
    metadata,
    serial_id(Integer),
    Column("code", String(32), nullable=False, unique=True),  # normalised: A-Z and 0-9
    Column("kind", String(12), nullable=False),  # coupon | certificate
    Column("scope", String(12), nullable=False, server_default="platform"),  # store | platform
    Column("store_id", Integer),
    Column("store_name", String(128)),
    Column("value_kind", String(8), nullable=False, server_default="amount"),  # amount | percent
    Column("amount_minor", BigInteger),  # the coupon's amount, or the certificate's face value
    Column("percent", Integer),
    Column("cap_minor", BigInteger),
    currency(),
    Column("min_order_minor", BigInteger, nullable=False, server_default="0"),
    Column("category", String(64)),  # a product category's code (products.category)
    Column("category_name", String(128)),
    Column("new_buyers_only", Boolean, nullable=False, server_default=false()),
    Column("campaign", String(64)),
    Column("title", String(128)),
    moment("valid_from"),
    moment("valid_to"),
    Column("max_uses", Integer),  # None: any number of users, each once
    Column("uses", Integer, nullable=False, server_default="0"),
    Column("for_user_id", BigInteger),  # a personal code: only this user may redeem it
    created_at(),
)

# A store's coupon that buyers collect from the store's page (one per buyer).
store_coupon_offers = Table(
    "store_coupon_offers",
    metadata,
    serial_id(Integer),
    Column("store_id", Integer, nullable=False),
    Column("store_name", String(128), nullable=False),
    Column("value_kind", String(8), nullable=False),
    Column("amount_minor", BigInteger),
    Column("percent", Integer),
    Column("cap_minor", BigInteger),
    currency(),
    Column("min_order_minor", BigInteger, nullable=False, server_default="0"),
    Column("title", String(128)),
    moment("valid_from"),
    moment("valid_to"),
    Column("quantity", Integer),  # None: unlimited
    Column("collected", Integer, nullable=False, server_default="0"),
    created_at(),
)
Index("ix_store_coupon_offers_store", store_coupon_offers.c.store_id, store_coupon_offers.c.valid_to)

coupons = Table(
    "coupons",
    metadata,
    serial_id(Integer),
    owner(),
    Column("scope", String(12), nullable=False),  # store | platform
    Column("store_id", Integer),
    Column("store_name", String(128)),
    Column("value_kind", String(8), nullable=False),  # amount | percent
    Column("amount_minor", BigInteger),
    Column("percent", Integer),
    Column("cap_minor", BigInteger),  # the most a percent coupon takes off
    currency(),
    Column("min_order_minor", BigInteger, nullable=False, server_default="0"),
    # special coupons' conditions
    Column("category", String(64)),  # a product category's code (products.category)
    Column("category_name", String(128)),
    Column("new_buyers_only", Boolean, nullable=False, server_default=false()),
    Column("campaign", String(64)),  # one coupon per user per campaign
    Column("title", String(128)),
    moment("valid_from"),
    moment("valid_to"),
    Column("status", String(8), nullable=False, server_default="active"),  # active | used
    Column("used_at", UTCDateTime),
    Column("order_ref", String(64)),
    Column("source", String(8), nullable=False),  # grant | code | offer | demo
    Column("code_id", Integer, ForeignKey("coupon_codes.id", ondelete="SET NULL")),
    Column("offer_id", Integer, ForeignKey("store_coupon_offers.id", ondelete="SET NULL")),
    created_at(),
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
    serial_id(Integer),
    owner(),
    currency(),
    Column("face_minor", BigInteger, nullable=False),
    Column("title", String(128)),
    moment("valid_to"),
    Column("source", String(8), nullable=False),  # grant | code | demo
    Column("code_id", Integer, ForeignKey("coupon_codes.id", ondelete="SET NULL")),
    # the shop that granted it (the shop API): it pays only in that shop's stores; NULL: everywhere
    Column("shop_id", ID, ForeignKey("shops.id", name="fk_gift_certificates_shop", ondelete="CASCADE")),
    created_at(),
    CheckConstraint("face_minor > 0", name="ck_gift_certificates_face"),
)
Index("ix_gift_certificates_user", gift_certificates.c.user_id, gift_certificates.c.valid_to)
Index("uq_gift_certificates_code", gift_certificates.c.user_id, gift_certificates.c.code_id,
      unique=True, sqlite_where=gift_certificates.c.code_id.is_not(None))

gift_certificate_ledger = Table(
    "gift_certificate_ledger",
    metadata,
    serial_id(Integer),
    Column("certificate_id", Integer, ForeignKey("gift_certificates.id", ondelete="CASCADE"),
           nullable=False),
    Column("kind", String(8), nullable=False),  # issue | spend | refund
    Column("delta_minor", BigInteger, nullable=False),  # + issue, refund; − spend
    Column("order_ref", String(64)),
    created_at(),
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
    serial_id(Integer),
    owner(),
    created_at(),
)
Index("ix_coupon_code_attempts_user", coupon_code_attempts.c.user_id,
      coupon_code_attempts.c.created_at)
Index("ix_coupon_code_attempts_created", coupon_code_attempts.c.created_at)
