"""Repository: group chats (groups and channels told that the bot works in private chats)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.dialect import insert
from bot.db.tables import group_chats as t


async def remember(conn: AsyncConnection, chat_id: int, now: datetime) -> bool:
    """Record that the chat was told; False when it already had been."""
    result = await conn.execute(insert(t).values(chat_id=chat_id, told_at=now).on_conflict_do_nothing())
    return result.rowcount == 1


async def forget(conn: AsyncConnection, chat_id: int) -> None:
    await conn.execute(delete(t).where(t.c.chat_id == chat_id))
