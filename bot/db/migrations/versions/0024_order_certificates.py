"""order certificates: the part of an order's total paid from the buyer's gift certificates at
checkout (the card pays total − certificate_minor)

Revision ID: 0024_order_certificates
Revises: 0023_search_rank
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024_order_certificates"
down_revision = "0023_search_rank"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("certificate_minor", sa.BigInteger, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("certificate_minor")
