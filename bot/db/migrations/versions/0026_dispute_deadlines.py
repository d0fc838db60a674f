"""an index for the disputes whose store did not answer by their decision day (the sweeper's
`disputes_overdue` decides them for the buyer)

Revision ID: 0026_dispute_deadlines
Revises: 0025_where_coupons_apply
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0026_dispute_deadlines"
down_revision = "0025_where_coupons_apply"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_disputes_state_due", "disputes", ["state", "decide_by"])


def downgrade() -> None:
    op.drop_index("ix_disputes_state_due", table_name="disputes")
