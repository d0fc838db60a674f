"""an additional review may change the stars: the rating it gives (the first one stays on record)

Revision ID: 0028_additional_rating
Revises: 0027_returns
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028_additional_rating"
down_revision = "0027_returns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("extra_rating", sa.SmallInteger()))


def downgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("extra_rating")
