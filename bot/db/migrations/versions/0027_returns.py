"""returns: a dispute the store accepted as "return the item" waits for the item to come back —
the day the buyer sends it back by, the return's track number, when it was sent, and what the
store says when it did not come back as sent

Revision ID: 0027_returns
Revises: 0026_dispute_deadlines
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.columns import TIME

revision = "0027_returns"
down_revision = "0026_dispute_deadlines"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("disputes") as batch:
        batch.add_column(sa.Column("return_by", TIME))
        batch.add_column(sa.Column("return_track", sa.String(40)))
        batch.add_column(sa.Column("returned_at", TIME))
        batch.add_column(sa.Column("return_problem", sa.Text()))
    # an item that never arrived can't be sent back: such a request, still waiting for the store,
    # asks for the full refund accepting it gave before returns were modelled
    op.execute("UPDATE disputes SET outcome = 'full_refund' "
               "WHERE state = 'open' AND reason = 'not_received' AND outcome = 'return_refund'")


def downgrade() -> None:
    with op.batch_alter_table("disputes") as batch:
        batch.drop_column("return_problem")
        batch.drop_column("returned_at")
        batch.drop_column("return_track")
        batch.drop_column("return_by")
