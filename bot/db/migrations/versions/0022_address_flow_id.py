"""addresses.flow_id: the form that created an address (a random id kept in its draft), unique, so
that a Save repeated after a crash between the commit and the flow's end (REDIS_URL) finds the
address saved instead of adding it twice

Revision ID: 0022_address_flow_id
Revises: 0021_job_leases
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_address_flow_id"
down_revision = "0021_job_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("addresses") as batch:
        batch.add_column(sa.Column("flow_id", sa.String(32)))
    op.create_index("ux_addresses_flow", "addresses", ["flow_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_addresses_flow", table_name="addresses")
    with op.batch_alter_table("addresses") as batch:
        batch.drop_column("flow_id")
