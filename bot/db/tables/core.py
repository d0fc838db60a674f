"""Tables: Users, FSM storage, processed updates (de-duplication), group chats."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, String, Table, Text

from bot.db.tables.base import created_at, metadata, moment
from bot.db.times import UTCDateTime

users = Table(
    "users",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),  # the Telegram user id
    Column("first_name", String(128), nullable=False, server_default=""),
    Column("username", String(64)),
    Column("locale", String(8), nullable=False),
    Column("time_zone", String(64), nullable=False, server_default="UTC"),
    created_at(),
    Column("unreachable_since", UTCDateTime),
)

fsm_states = Table(
    "fsm_states",
    metadata,
    # the whole aiogram StorageKey; None parts are stored as 0 / "" so they can be in the key
    Column("bot_id", BigInteger, primary_key=True, autoincrement=False),
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("thread_id", BigInteger, primary_key=True, autoincrement=False),
    Column("business_connection_id", String(64), primary_key=True),
    Column("destiny", String(32), primary_key=True),
    Column("state", String(128)),
    Column("data", Text, nullable=False, server_default="{}"),
    moment("updated_at"),
)
Index("ix_fsm_states_updated_at", fsm_states.c.updated_at)

processed_updates = Table(
    "processed_updates",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    created_at(),
)
Index("ix_processed_updates_created_at", processed_updates.c.created_at)

# Groups and channels the bot was added to or written in: told once that it works in private chats
# (nothing else about them is kept; the row goes when the bot leaves the chat).
group_chats = Table(
    "group_chats",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    moment("told_at"),
)
