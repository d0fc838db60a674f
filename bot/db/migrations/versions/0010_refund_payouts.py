"""refund payouts: each refund remembers the charge it returns and its trips to the payment
gateway (the gateway's refund id, attempts, the next attempt, the last error)

Revision ID: 0010_refund_payouts
Revises: 0009_reviews
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.columns import TIME

revision = "0010_refund_payouts"
down_revision = "0009_reviews"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("refunds", sa.Column("charge_id", sa.String(64)))
    op.add_column("refunds", sa.Column("gateway_refund_id", sa.String(64)))
    op.add_column("refunds", sa.Column("submitted_at", TIME))
    op.add_column("refunds", sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
    op.add_column("refunds", sa.Column("next_attempt_at", TIME))
    op.add_column("refunds", sa.Column("last_error", sa.String(120)))
    # refunds recorded before this revision with a charge on their order are sent on the next sweep
    op.execute(
        "UPDATE refunds SET charge_id = (SELECT paid_charge_id FROM orders WHERE orders.id = refunds.order_id), "
        "next_attempt_at = created_at WHERE state = 'pending' AND "
        "(SELECT paid_charge_id FROM orders WHERE orders.id = refunds.order_id) IS NOT NULL"
    )
    op.create_index("ix_refunds_due", "refunds", ["next_attempt_at"],
                    sqlite_where=sa.text("state = 'pending' AND next_attempt_at IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_refunds_due", "refunds")
    with op.batch_alter_table("refunds") as batch:
        for column in ("last_error", "next_attempt_at", "attempts", "submitted_at", "gateway_refund_id",
                       "charge_id"):
            batch.drop_column(column)
