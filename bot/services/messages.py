"""The message centre: every notification a user received, newest first, with unread marks."""

from __future__ import annotations

from dataclasses import dataclass

from bot.db import outbox as repo
from bot.db.engine import Database
from bot.db.outbox import OutboxRow
from bot.services.clock import Clock
from bot.services.errors import NotFound

PAGE_SIZE = 8


@dataclass(frozen=True, slots=True)
class Inbox:
    rows: list[OutboxRow]
    page: int  # 0-based, clamped to the last page
    pages: int
    total: int
    unread: int


class MessageService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def page(self, user_id: int, page: int = 0) -> Inbox:
        async with self.db.read() as conn:
            total, unread = await repo.sent_counts(conn, user_id)
            pages = max(1, -(-total // PAGE_SIZE))
            page = min(max(0, page), pages - 1)
            rows = await repo.sent_page(conn, user_id, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
        return Inbox(rows, page, pages, total, unread)

    async def open(self, user_id: int, row_id: int) -> OutboxRow:
        """One of the user's notifications, marked read. NotFound for anyone else's or unsent."""
        async with self.db.read() as conn:
            row = await repo.sent_one(conn, user_id, row_id)
        if row is None:
            raise NotFound()
        if row.read_at is None:
            async with self.db.write() as conn:
                await repo.mark_read(conn, user_id, self.clock.now(), row_id)
        return row

    async def mark_all_read(self, user_id: int) -> int:
        async with self.db.write() as conn:
            return await repo.mark_read(conn, user_id, self.clock.now())
