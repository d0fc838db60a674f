"""foundation: users, FSM storage, processed updates

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.columns import created_at, moment

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("first_name", sa.String(128), nullable=False, server_default=""),
        sa.Column("username", sa.String(64)),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False, server_default="UTC"),
        created_at(),
        sa.Column("unreachable_since", sa.String(26)),
    )
    op.create_table(
        "fsm_states",
        sa.Column("bot_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("chat_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("thread_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("business_connection_id", sa.String(64), primary_key=True),
        sa.Column("destiny", sa.String(32), primary_key=True),
        sa.Column("state", sa.String(128)),
        sa.Column("data", sa.Text, nullable=False, server_default="{}"),
        moment("updated_at"),
    )
    op.create_index("ix_fsm_states_updated_at", "fsm_states", ["updated_at"])
    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger, primary_key=True, autoincrement=False),
        created_at(),
    )
    op.create_index("ix_processed_updates_created_at", "processed_updates", ["created_at"])


def downgrade() -> None:
    op.drop_table("processed_updates")
    op.drop_table("fsm_states")
    op.drop_table("users")
