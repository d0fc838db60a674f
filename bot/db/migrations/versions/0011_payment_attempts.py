"""payment attempts: every charge request is recorded before the gateway is called, and its
outcome after; the sweeper asks the gateway about the attempts whose outcome is unknown

Revision ID: 0011_payment_attempts
Revises: 0010_refund_payouts
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.columns import TIME, created_at, owner, parent, serial_id

revision = "0011_payment_attempts"
down_revision = "0010_refund_payouts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_attempts",
        serial_id(),
        parent("order_id", "orders"),
        owner(),
        sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
        sa.Column("gateway", sa.String(16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("card_id", sa.Integer),
        sa.Column("card_brand", sa.String(24), nullable=False),
        sa.Column("card_last4", sa.String(4), nullable=False),
        sa.Column("card_exp_month", sa.Integer),
        sa.Column("card_exp_year", sa.Integer),
        sa.Column("card_kept", sa.Boolean, nullable=False, server_default="1"),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("charge_id", sa.String(64)),
        created_at(),
        sa.Column("finished_at", TIME),
        sa.Column("checks", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_check_at", TIME),
        sa.Column("last_error", sa.String(120)),
        sa.CheckConstraint(
            "state IN ('started', 'succeeded', 'declined', 'failed', 'voiding', 'voided')",
            name="ck_payment_attempts_state",
        ),
    )
    op.create_index("ix_payment_attempts_order", "payment_attempts", ["order_id", "id"])
    op.create_index("ix_payment_attempts_due", "payment_attempts", ["next_check_at"],
                    sqlite_where=sa.text("state IN ('started', 'voiding')"))


def downgrade() -> None:
    op.drop_index("ix_payment_attempts_due", "payment_attempts")
    op.drop_index("ix_payment_attempts_order", "payment_attempts")
    op.drop_table("payment_attempts")
