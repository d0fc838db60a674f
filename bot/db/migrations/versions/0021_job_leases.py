"""job_leases: which instance runs a scheduler job that must run once per period however many
instances tick it (the sweeper), and until when

Revision ID: 0021_job_leases
Revises: 0020_webhooks
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.columns import moment

revision = "0021_job_leases"
down_revision = "0020_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        moment("lease_until"),
    )


def downgrade() -> None:
    op.drop_table("job_leases")
