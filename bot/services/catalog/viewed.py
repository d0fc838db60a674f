"""Recently viewed, written behind: opening a product notes the view in memory, and the notes go to
the database together, in one unit of work — every few seconds (a scheduler job), before anything
reads or changes the user's Recently viewed, and when the bot stops.

Why not in the product card's own unit of work: a write transaction on every opening of the
busiest screen of the catalog cost it more than everything else it does (bench/: a product card's
p99 was 7× the bare floor with it). What this gives up: views of the last few seconds before a
crash (not a stop) are not remembered — a list of what one looked at, not an order or a payment.
A view of a product or by a user gone meanwhile is skipped, not an error for the whole batch."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.db import catalog as repo
from bot.db.engine import Database, bookkeeping

log = logging.getLogger(__name__)

FLUSH_SECONDS = 5.0  # how often the scheduler writes the notes down


class ViewedLog:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: dict[tuple[int, int], datetime] = {}

    def note(self, user_id: int, product_id: int, at: datetime) -> None:
        """A product opened: remembered now, written with the next flush (the newest view counts)."""
        key = (user_id, product_id)
        if key not in self._pending or self._pending[key] < at:
            self._pending[key] = at

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush(self, _now: datetime | None = None, *, user_id: int | None = None) -> int:
        """Write the notes (all, or one user's before their list is read); returns how many.

        Inside a handler this is bookkeeping, not the update's own change: it does not record the
        update id (a redelivered update is still handled)."""
        if user_id is None:
            batch, self._pending = self._pending, {}
        else:
            batch = {k: v for k, v in self._pending.items() if k[0] == user_id}
            for key in batch:
                del self._pending[key]
        if not batch:
            return 0
        try:
            with bookkeeping():
                async with self.db.write() as conn:
                    await repo.viewed_many(conn, batch)
        except Exception:
            for key, at in batch.items():  # kept for the next flush (a newer view wins)
                self.note(*key, at)
            raise
        return len(batch)
