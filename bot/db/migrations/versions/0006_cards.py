"""cards: the wallet (gateway tokens and fingerprints only) and the $1 verification holds

Revision ID: 0006_cards
Revises: 0005_coupons
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.columns import created_at, moment, owner, serial_id

revision = "0006_cards"
down_revision = "0005_coupons"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cards",
        serial_id(),
        owner(),
        sa.Column("gateway", sa.String(16), nullable=False),
        sa.Column("token", sa.String(128)),
        sa.Column("fingerprint", sa.String(64)),
        sa.Column("brand", sa.String(16), nullable=False),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("exp_month", sa.Integer, nullable=False),
        sa.Column("exp_year", sa.Integer, nullable=False),
        moment("holder"),
        sa.Column("is_default", sa.Boolean, nullable=False, server_default="0"),
        created_at(),
        sa.Column("deleted_at", sa.String(26)),
    )
    op.create_index(
        "ix_cards_wallet", "cards", ["user_id", "created_at"],
        sqlite_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ux_cards_fingerprint", "cards", ["user_id", "fingerprint"], unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ux_cards_default", "cards", ["user_id"], unique=True,
        sqlite_where=sa.text("is_default IS 1 AND deleted_at IS NULL"),
    )
    op.create_index(
        "ix_cards_detach", "cards", ["id"],
        sqlite_where=sa.text("deleted_at IS NOT NULL AND token IS NOT NULL"),
    )
    op.create_table(
        "card_holds",
        serial_id(),
        owner(),
        sa.Column("card_id", sa.BigInteger, sa.ForeignKey("cards.id", ondelete="SET NULL")),
        sa.Column("gateway", sa.String(16), nullable=False),
        sa.Column("gateway_hold_id", sa.String(64), nullable=False, unique=True),
        sa.Column("orphan_token", sa.String(128)),
        sa.Column("brand", sa.String(16), nullable=False),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("amount_minor", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        created_at(),
        moment("due_at"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("released_at", sa.String(26)),
    )
    op.create_index(
        "ix_card_holds_due", "card_holds", ["due_at"], sqlite_where=sa.text("released_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("card_holds")
    op.drop_table("cards")
