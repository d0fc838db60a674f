"""coupons: codes, store coupon offers, the coupon wallet, gift certificates and their ledger,
failed code attempts

Revision ID: 0005_coupons
Revises: 0004_reminders
Create Date: 2026-11-26

`coupons.store_id` and `store_coupon_offers.store_id` are plain integers: the orders migration
creates `stores`; a foreign key can be added once both are in the chain. The store's name is
kept as a snapshot for display.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.columns import TIME, created_at, moment, owner, serial_id

revision = "0005_coupons"
down_revision = "0004_reminders"
branch_labels = None
depends_on = None


def _value_columns() -> list[sa.Column]:
    return [
        sa.Column("value_kind", sa.String(8), nullable=False, server_default="amount"),
        sa.Column("amount_minor", sa.BigInteger),
        sa.Column("percent", sa.Integer),
        sa.Column("cap_minor", sa.BigInteger),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("min_order_minor", sa.BigInteger, nullable=False, server_default="0"),
    ]


def _terms_columns() -> list[sa.Column]:
    """What a code promises and a wallet coupon keeps: the same columns in both tables."""
    return [
        sa.Column("store_id", sa.Integer),
        sa.Column("store_name", sa.String(128)),
        *_value_columns(),
        sa.Column("category_id", sa.Integer),
        sa.Column("category_name", sa.String(128)),
        sa.Column("new_buyers_only", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("campaign", sa.String(64)),
        sa.Column("title", sa.String(128)),
        moment("valid_from"),
        moment("valid_to"),
    ]


def upgrade() -> None:
    op.create_table(
        "coupon_codes",
        serial_id(),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("scope", sa.String(12), nullable=False, server_default="platform"),
        *_terms_columns(),
        sa.Column("max_uses", sa.Integer),
        sa.Column("uses", sa.Integer, nullable=False, server_default="0"),
        sa.Column("for_user_id", sa.BigInteger),
        created_at(),
    )
    op.create_table(
        "store_coupon_offers",
        serial_id(),
        sa.Column("store_id", sa.Integer, nullable=False),
        sa.Column("store_name", sa.String(128), nullable=False),
        *_value_columns(),
        sa.Column("title", sa.String(128)),
        moment("valid_from"),
        moment("valid_to"),
        sa.Column("quantity", sa.Integer),
        sa.Column("collected", sa.Integer, nullable=False, server_default="0"),
        created_at(),
    )
    op.create_index("ix_store_coupon_offers_store", "store_coupon_offers", ["store_id", "valid_to"])

    op.create_table(
        "coupons",
        serial_id(),
        owner(),
        sa.Column("scope", sa.String(12), nullable=False),
        *_terms_columns(),
        sa.Column("status", sa.String(8), nullable=False, server_default="active"),
        sa.Column("used_at", TIME),
        sa.Column("order_ref", sa.String(64)),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("code_id", sa.Integer, sa.ForeignKey("coupon_codes.id", ondelete="SET NULL")),
        sa.Column("offer_id", sa.Integer, sa.ForeignKey("store_coupon_offers.id", ondelete="SET NULL")),
        created_at(),
        sa.CheckConstraint("scope IN ('store', 'platform')", name="ck_coupons_scope"),
        sa.CheckConstraint("scope = 'platform' OR store_id IS NOT NULL", name="ck_coupons_store"),
        sa.CheckConstraint(
            "(value_kind = 'amount' AND amount_minor > 0) OR "
            "(value_kind = 'percent' AND percent BETWEEN 1 AND 100)",
            name="ck_coupons_value",
        ),
        sa.CheckConstraint("status IN ('active', 'used')", name="ck_coupons_status"),
    )
    op.create_index("ix_coupons_user_status", "coupons", ["user_id", "status", "valid_to"])
    op.create_index("ix_coupons_order", "coupons", ["user_id", "order_ref"],
                    sqlite_where=sa.text("order_ref IS NOT NULL"))
    op.create_index("uq_coupons_campaign", "coupons", ["user_id", "campaign"], unique=True,
                    sqlite_where=sa.text("campaign IS NOT NULL"))
    op.create_index("uq_coupons_code", "coupons", ["user_id", "code_id"], unique=True,
                    sqlite_where=sa.text("code_id IS NOT NULL"))
    op.create_index("uq_coupons_offer", "coupons", ["user_id", "offer_id"], unique=True,
                    sqlite_where=sa.text("offer_id IS NOT NULL"))

    op.create_table(
        "gift_certificates",
        serial_id(),
        owner(),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("face_minor", sa.BigInteger, nullable=False),
        sa.Column("title", sa.String(128)),
        moment("valid_to"),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("code_id", sa.Integer, sa.ForeignKey("coupon_codes.id", ondelete="SET NULL")),
        created_at(),
        sa.CheckConstraint("face_minor > 0", name="ck_gift_certificates_face"),
    )
    op.create_index("ix_gift_certificates_user", "gift_certificates", ["user_id", "valid_to"])
    op.create_index("uq_gift_certificates_code", "gift_certificates", ["user_id", "code_id"],
                    unique=True, sqlite_where=sa.text("code_id IS NOT NULL"))

    op.create_table(
        "gift_certificate_ledger",
        serial_id(),
        sa.Column("certificate_id", sa.Integer,
                  sa.ForeignKey("gift_certificates.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("delta_minor", sa.BigInteger, nullable=False),
        sa.Column("order_ref", sa.String(64)),
        created_at(),
        sa.CheckConstraint(
            "(kind = 'spend' AND delta_minor < 0) OR (kind IN ('issue', 'refund') AND delta_minor > 0)",
            name="ck_gift_certificate_ledger_sign",
        ),
    )
    op.create_index("ix_gift_certificate_ledger_cert", "gift_certificate_ledger",
                    ["certificate_id", "id"])
    op.create_index("ix_gift_certificate_ledger_order", "gift_certificate_ledger", ["order_ref"],
                    sqlite_where=sa.text("order_ref IS NOT NULL"))
    op.create_index("uq_gift_certificate_ledger_spend", "gift_certificate_ledger",
                    ["certificate_id", "order_ref"], unique=True,
                    sqlite_where=sa.text("kind = 'spend'"))

    op.create_table(
        "coupon_code_attempts",
        serial_id(),
        owner(),
        created_at(),
    )
    op.create_index("ix_coupon_code_attempts_user", "coupon_code_attempts", ["user_id", "created_at"])
    op.create_index("ix_coupon_code_attempts_created", "coupon_code_attempts", ["created_at"])


def downgrade() -> None:
    op.drop_table("coupon_code_attempts")
    op.drop_table("gift_certificate_ledger")
    op.drop_table("gift_certificates")
    op.drop_table("coupons")
    op.drop_table("store_coupon_offers")
    op.drop_table("coupon_codes")
