"""group chats: the groups and channels the bot has told, once, that it works in private chats

Revision ID: 0013_group_chats
Revises: 0012_card_replaced_by
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.columns import moment

revision = "0013_group_chats"
down_revision = "0012_card_replaced_by"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "group_chats",
        sa.Column("chat_id", sa.BigInteger, primary_key=True, autoincrement=False),
        moment("told_at"),
    )


def downgrade() -> None:
    op.drop_table("group_chats")
