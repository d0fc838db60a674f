"""Groups and channels: the account is private-chat only. A group or channel is told once that
the bot works in private chats (remembered, so a busy group is not answered again and again), and
forgotten when the bot leaves it, so being added again greets again."""

from __future__ import annotations

from bot.db import groups as repo
from bot.db.engine import Database
from bot.services.clock import Clock


class GroupService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def tell_once(self, chat_id: int) -> bool:
        """Whether the chat should be told now: True the first time only (one transaction)."""
        async with self.db.write() as conn:
            return await repo.remember(conn, chat_id, self.clock.now())

    async def forget(self, chat_id: int) -> None:
        async with self.db.write() as conn:
            await repo.forget(conn, chat_id)
