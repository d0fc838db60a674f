"""cards: replaced_by, the same card reissued (same number, new expiry) that replaced this one

Revision ID: 0012_card_replaced_by
Revises: 0011_payment_attempts
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_card_replaced_by"
down_revision = "0011_payment_attempts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cards", sa.Column("replaced_by", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("cards") as batch:
        batch.drop_column("replaced_by")
